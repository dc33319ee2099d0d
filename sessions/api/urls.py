"""API routes (filled by the console work)."""
urlpatterns: list = []

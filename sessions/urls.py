"""Console routes."""
app_name = "sessions"
urlpatterns: list = []

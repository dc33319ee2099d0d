"""Studio routes (console)."""
from django.urls import path

from . import views

app_name = "studio"
urlpatterns = [
    path("studio/", views.DraftListView.as_view(), name="drafts"),
    path("studio/drafts/<int:pk>/", views.StudioWizard.as_view(), name="wizard"),
    path("studio/drafts/<int:pk>/dry-run/", views.DryRunFragmentView.as_view(), name="dry_run"),
]

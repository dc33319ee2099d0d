"""Console routes of the analytics app."""
from django.urls import path

from . import views

app_name = "analytics"
urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboards"),
    path("alerts/", views.AlertListView.as_view(), name="alerts"),
    path("alerts/rules/<int:pk>/silence/", views.AlertSilenceView.as_view(), name="alert_silence"),
    path("alerts/firings/<int:pk>/resolve/", views.FiringResolveView.as_view(), name="firing_resolve"),
]

"""API routes: /api/analytics/ query/, data/, replica/, dashboards/, alert-rules/, alert-firings/."""
from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("dashboards", views.DashboardViewSet, basename="dashboard")
router.register("alert-rules", views.AlertRuleViewSet, basename="alert-rule")
router.register("alert-firings", views.AlertFiringViewSet, basename="alert-firing")

urlpatterns = [
    path("query/", views.MacroQueryView.as_view(), name="analytics-query"),
    path("data/", views.DashboardDataView.as_view(), name="analytics-data"),
    path("replica/", views.ReplicaStatusView.as_view(), name="analytics-replica"),
    *router.urls,
]

"""API routes: /api/analytics/query/, /api/analytics/data/, /api/analytics/dashboards/."""
from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("dashboards", views.DashboardViewSet, basename="dashboard")

urlpatterns = [
    path("query/", views.MacroQueryView.as_view(), name="analytics-query"),
    path("data/", views.DashboardDataView.as_view(), name="analytics-data"),
    *router.urls,
]

"""API routes: /api/cases/, /api/splits/, /api/insights/compare/, /api/insights/precision/, /api/sql/."""
from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("cases", views.CaseViewSet, basename="case")
router.register("splits", views.SplitViewSet, basename="split")
router.register("insights", views.InsightViewSet, basename="insight")
router.register("sql", views.SqlViewSet, basename="sql")

urlpatterns = router.urls

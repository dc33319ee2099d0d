"""API routes: /api/cases/, /api/splits/, /api/insights/compare/, /api/insights/precision/."""
from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("cases", views.CaseViewSet, basename="case")
router.register("splits", views.SplitViewSet, basename="split")
router.register("insights", views.InsightViewSet, basename="insight")

urlpatterns = router.urls

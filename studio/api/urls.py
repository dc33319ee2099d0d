"""API routes: /api/studio/drafts/, /api/studio/check/, /api/studio/samples/, /api/studio/tree/."""
from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("studio/drafts", views.DraftViewSet, basename="studio-draft")
router.register("studio", views.StudioViewSet, basename="studio")

urlpatterns = router.urls

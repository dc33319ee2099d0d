"""API routes: /api/sessions/, /api/templates/, /api/dead-letters/."""
from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("sessions", views.SessionViewSet, basename="session")
router.register("templates", views.TemplateViewSet, basename="template")
router.register("dead-letters", views.DeadLetterViewSet, basename="dead-letter")

urlpatterns = router.urls

"""API routes: /api/jobs/, /api/job-runs/, /api/job-tasks/."""
from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("jobs", views.JobViewSet, basename="job")
router.register("job-runs", views.JobRunViewSet, basename="job-run")
router.register("job-tasks", views.JobTaskViewSet, basename="job-task")

urlpatterns = router.urls

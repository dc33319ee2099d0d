"""Console routes of job operations (the same /jobs/ paths as before the app was split out)."""
from django.urls import path, re_path

from . import views

app_name = "operations"
urlpatterns = [
    path("jobs/", views.JobListView.as_view(), name="jobs"),
    re_path(r"^jobs/(?P<name>[^/]+)/(?P<action>start|stop|cancel|restart)/$", views.JobActionView.as_view(), name="job_action"),
    path("jobs/tasks/<str:task_id>/", views.JobTaskView.as_view(), name="job_task"),
]

"""Job runs in the admin, read-only like every table the job or the monitor writes."""
from django.contrib import admin

from sessions.admin import ReadOnlyAdmin

from .models import JobRun


@admin.register(JobRun)
class JobRunAdmin(ReadOnlyAdmin):
    list_display = ["version", "mode", "state", "target", "started_at", "finished_at"]
    list_filter = ["state", "mode"]
    list_select_related = ["version__template"]

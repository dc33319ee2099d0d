"""Choice classes (value, label) shared by models, filters, forms and the API."""
from django.db import models


class SessionStatus(models.TextChoices):
    OPEN = "open", "Open (provisional)"
    COMPLETE = "complete", "Complete"
    CLOSED = "closed", "Closed (incomplete)"


class Severity(models.TextChoices):
    INFO = "info", "Info"
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class JobMode(models.TextChoices):
    CONTINUOUS = "continuous", "Continuous (monitor new files)"
    BOUNDED = "bounded", "Bounded (backfill files present, then exit)"


class JobState(models.TextChoices):
    CREATED = "created", "Created"
    RUNNING = "running", "Running"
    FINISHED = "finished", "Finished"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Canceled"


class Role(models.TextChoices):
    VIEWER = "viewer", "Viewer"
    EDITOR = "editor", "Editor"
    ADMIN = "admin", "Admin"

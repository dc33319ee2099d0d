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


class Role(models.TextChoices):
    VIEWER = "viewer", "Viewer"
    EDITOR = "editor", "Editor"
    ADMIN = "admin", "Admin"

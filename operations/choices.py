"""Choice classes of job operations (value, label): runs, their states, operator actions, repairs."""
from django.db import models


class JobMode(models.TextChoices):
    CONTINUOUS = "continuous", "Continuous (monitor new files)"
    BOUNDED = "bounded", "Bounded (backfill files present, then exit)"


class JobState(models.TextChoices):
    """A job run's state: Flink's job states folded into what an operator acts on."""

    CREATED = "created", "Created"
    SUBMITTING = "submitting", "Submitting"
    RUNNING = "running", "Running"
    RESTARTING = "restarting", "Restarting"
    STOPPING = "stopping", "Stopping (savepoint)"
    STOPPED = "stopped", "Stopped (savepoint)"
    FINISHED = "finished", "Finished"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Canceled"

    @classmethod
    def active(cls) -> list[str]:
        """States in which the run holds (or is about to hold) a job on the cluster."""
        return [cls.CREATED, cls.SUBMITTING, cls.RUNNING, cls.RESTARTING, cls.STOPPING]

    @classmethod
    def watched(cls) -> list[str]:
        """States the monitor polls and may act on (transitions in flight belong to their task)."""
        return [cls.RUNNING, cls.RESTARTING]

    @classmethod
    def transitional(cls) -> list[str]:
        """States a task holds while it works; the monitor takes a run back if one lasts too long (a lost worker)."""
        return [cls.SUBMITTING, cls.STOPPING]


class JobAction(models.TextChoices):
    """What an operator can ask of a template's job; each is one Celery task."""

    START = "start", "Start"
    STOP = "stop", "Stop with savepoint"
    CANCEL = "cancel", "Cancel"
    RESTART = "restart", "Restart from the latest savepoint/checkpoint"


class AttemptKind(models.TextChoices):
    """How the monitor repaired a job."""

    RESUBMIT = "resubmit", "Resubmitted from the latest checkpoint"
    TASKMANAGER = "taskmanager", "Started a lost TaskManager"
    CLUSTER = "cluster", "Started the managed cluster"


class AttemptOutcome(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    GAVE_UP = "gave_up", "Gave up (limit reached)"

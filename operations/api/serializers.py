"""API representations of job runs, repairs, outages and queued actions."""
from rest_framework import serializers

from ..models import JobAttempt, JobRun, SinkOutage


class JobAttemptSerializer(serializers.ModelSerializer):
    """One repair by the monitor (a resubmission from a checkpoint, or a TaskManager/cluster started)."""

    class Meta:
        model = JobAttempt
        fields = ["number", "kind", "outcome", "reason", "failed_job_id", "new_job_id", "restored_from", "error", "created_at"]


class JobRunSerializer(serializers.ModelSerializer):
    """A run of a template's job with what the monitor last recorded; `error` is Flink's text in full."""

    template = serializers.SlugRelatedField(source="version.template", slug_field="name", read_only=True)
    version = serializers.IntegerField(source="version.number", read_only=True)
    uptime_ms = serializers.SerializerMethodField()
    attempts = JobAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = JobRun
        fields = [
            "id", "template", "version", "mode", "state", "target", "flink_job_id", "started_at", "finished_at",
            "uptime_ms", "records_in", "records_out", "throughput", "last_checkpoint_id", "last_checkpoint_at",
            "last_checkpoint_path", "watermark_ms", "lag_ms", "backpressure", "backpressure_ratio", "restarts",
            "savepoint_path", "restored_from", "previous", "next_attempt_at", "polled_at", "error", "attempts",
        ]

    def get_uptime_ms(self, obj: JobRun) -> int | None:
        return obj.live_uptime_ms


class SinkOutageSerializer(serializers.ModelSerializer):
    class Meta:
        model = SinkOutage
        fields = ["started_ms", "ended_ms", "retries", "error"]


class JobRowSerializer(serializers.Serializer):
    """A template's job on the jobs page: its latest run and the actions allowed now."""

    template = serializers.CharField(source="template.name")
    current_version = serializers.IntegerField(source="template.current_number", allow_null=True)
    run = JobRunSerializer(allow_null=True)
    can_start = serializers.BooleanField()
    can_stop = serializers.BooleanField()
    can_restart = serializers.BooleanField()
    job_errors = serializers.IntegerField(help_text="Records a job function failed on during the run (dead letters).")
    outages = SinkOutageSerializer(many=True, help_text="Times the run's writer could not reach the database and retried.")


class TaskQueuedSerializer(serializers.Serializer):
    task_id = serializers.CharField()
    status_url = serializers.CharField()


class TaskStatusSerializer(serializers.Serializer):
    """A queued job action: Celery state, current step, the result, or the error with its traceback."""

    task_id = serializers.CharField()
    state = serializers.CharField(help_text="PENDING, STARTED, PROGRESS, RETRY, SUCCESS or FAILURE.")
    done = serializers.BooleanField()
    step = serializers.CharField(allow_blank=True)
    result = serializers.JSONField(allow_null=True)
    error = serializers.CharField(allow_blank=True)
    traceback = serializers.CharField(allow_blank=True)

"""Studio API shapes (documented in the OpenAPI schema)."""
from rest_framework import serializers

from ..models import AuditEntry, Draft, Proposal
from ..services.checks import KINDS


class DraftSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username", read_only=True, default=None)

    class Meta:
        model = Draft
        fields = ["id", "name", "owner", "document", "step", "created_at", "updated_at"]
        read_only_fields = ["id", "name", "owner", "step", "created_at", "updated_at"]


class NewDraftSerializer(serializers.Serializer):
    name = serializers.RegexField(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=100)
    document = serializers.JSONField(required=False, help_text="An imported document; else the template's current one.")


class CheckRequestSerializer(serializers.Serializer):
    expr = serializers.CharField(max_length=2000, trim_whitespace=False)
    kind = serializers.ChoiceField(choices=KINDS, help_text="field, conclusion, or when (a node's rule on its records)")
    draft = serializers.IntegerField()
    node = serializers.CharField(required=False, default="", allow_blank=True, help_text="For kind=when: the node")
    document = serializers.JSONField(required=False, help_text="The draft as the page shows it now (else the stored draft)")


class CheckErrorSerializer(serializers.Serializer):
    message = serializers.CharField()
    column = serializers.IntegerField(allow_null=True)


class CheckValueSerializer(serializers.Serializer):
    session = serializers.CharField()
    value = serializers.JSONField(allow_null=True)


class CheckResultSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    errors = CheckErrorSerializer(many=True)
    values = CheckValueSerializer(many=True)
    note = serializers.CharField()


class TimeRowSerializer(serializers.Serializer):
    raw = serializers.JSONField(allow_null=True)
    ms = serializers.IntegerField(allow_null=True)
    iso = serializers.CharField()
    error = serializers.CharField()


class SamplesSerializer(serializers.Serializer):
    location = serializers.CharField()
    lines = serializers.ListField(child=serializers.CharField())
    records = serializers.ListField(child=serializers.JSONField(allow_null=True))
    paths = serializers.ListField(child=serializers.CharField())
    suggested_format = serializers.CharField(allow_null=True)
    times = TimeRowSerializer(many=True)
    time_error = serializers.CharField()


class TreeRequestSerializer(serializers.Serializer):
    nodes = serializers.ListField(child=serializers.DictField(), max_length=200)


class TreeSerializer(serializers.Serializer):
    html = serializers.CharField()


class DryRunSessionSerializer(serializers.Serializer):
    session_key = serializers.CharField()
    status = serializers.CharField()
    start_ms = serializers.IntegerField()
    primary_conclusion = serializers.CharField()
    conclusions = serializers.ListField(child=serializers.CharField())
    nodes = serializers.ListField(child=serializers.CharField())


class DryRunSerializer(serializers.Serializer):
    lines = serializers.IntegerField()
    seconds = serializers.FloatField()
    truncated = serializers.CharField()
    conclusions = serializers.DictField(child=serializers.IntegerField())
    rejected = serializers.DictField(child=serializers.IntegerField())
    rule_errors = serializers.DictField(child=serializers.IntegerField())
    orphans = serializers.IntegerField()
    late = serializers.IntegerField()
    sessions = DryRunSessionSerializer(many=True)


class ProposalSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username", read_only=True, default=None)
    reviewer = serializers.CharField(source="reviewer.username", read_only=True, default=None)

    class Meta:
        model = Proposal
        fields = ["id", "template_name", "status", "author", "created_at", "base_version", "reviewer", "reviewed_at",
                  "comment", "version", "outcome", "document"]
        read_only_fields = fields


class ReviewCommentSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class ActivationSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    outcome = serializers.ChoiceField(choices=["hot update", "restart needed", "no running job"])
    messages = serializers.ListField(child=serializers.CharField())


class RollbackSerializer(serializers.Serializer):
    template = serializers.CharField(max_length=100)
    version = serializers.IntegerField(min_value=1)


class TaskSerializer(serializers.Serializer):
    task_id = serializers.CharField()


class AuditSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", read_only=True, default=None)

    class Meta:
        model = AuditEntry
        fields = ["id", "at", "actor", "action", "template_name", "proposal", "version", "detail"]
        read_only_fields = fields

"""API shapes of cases, verdicts, split decisions, comparisons and rule precision."""
from rest_framework import serializers

from ..models import Case, CaseEvent, CaseStatus, SplitDecision, Verdict, VerdictKind


class CaseEventSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.get_username", default=None)

    class Meta:
        model = CaseEvent
        fields = ["kind", "text", "author", "created_at"]


class VerdictSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.get_username", default=None)

    class Meta:
        model = Verdict
        fields = ["session_id", "conclusion", "verdict", "template_version", "author", "created_at"]


class CaseSerializer(serializers.ModelSerializer):
    template = serializers.CharField(source="template.name")
    assignee = serializers.CharField(source="assignee.get_username", default=None)
    events = CaseEventSerializer(many=True, read_only=True)

    class Meta:
        model = Case
        fields = ["session_id", "template", "session_key", "conclusion", "status", "assignee", "opened_at", "updated_at", "events"]


class AssignSerializer(serializers.Serializer):
    assignee = serializers.CharField(allow_blank=True, max_length=150, help_text="Username; empty: nobody.")


class StatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=CaseStatus.choices)


class CommentSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=5000)


class GiveVerdictSerializer(serializers.Serializer):
    conclusion = serializers.CharField(max_length=100)
    verdict = serializers.ChoiceField(choices=VerdictKind.choices)


class PairSerializer(serializers.Serializer):
    first = serializers.IntegerField(help_text="One half's session id.")
    second = serializers.IntegerField(help_text="The other half's session id.")


class SplitDecisionSerializer(serializers.ModelSerializer):
    template = serializers.CharField(source="template.name")
    author = serializers.CharField(source="author.get_username", default=None)

    class Meta:
        model = SplitDecision
        fields = ["id", "template", "session_key", "first_id", "second_id", "decision", "merged_id", "halves", "author", "created_at"]


class ActionResultSerializer(serializers.Serializer):
    message = serializers.CharField()
    session_id = serializers.IntegerField(help_text="The session to show next (a merge keeps one id).")


class PrecisionSerializer(serializers.Serializer):
    conclusion = serializers.CharField()
    template_version = serializers.IntegerField(allow_null=True)
    confirmed = serializers.IntegerField()
    false_positive = serializers.IntegerField()
    precision = serializers.FloatField(allow_null=True)


class FieldComparisonSerializer(serializers.Serializer):
    name = serializers.CharField()
    left = serializers.ListField(child=serializers.JSONField())
    right = serializers.ListField(child=serializers.JSONField())
    differs = serializers.BooleanField()


class ComparisonSerializer(serializers.Serializer):
    left = serializers.IntegerField()
    right = serializers.IntegerField()
    fields = FieldComparisonSerializer(many=True)
    conclusions_only_left = serializers.ListField(child=serializers.CharField())
    conclusions_only_right = serializers.ListField(child=serializers.CharField())


class SqlSerializer(serializers.Serializer):
    sql = serializers.CharField(max_length=20_000, trim_whitespace=False)


class SqlResultSerializer(serializers.Serializer):
    columns = serializers.ListField(child=serializers.CharField())
    rows = serializers.ListField(child=serializers.ListField(child=serializers.JSONField()))
    truncated = serializers.BooleanField()
    duration_ms = serializers.IntegerField()
    backend = serializers.CharField()


class SavedQuerySerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    sql = serializers.CharField(max_length=20_000)
    author = serializers.CharField(source="author.get_username", default=None, read_only=True)


class QueryRunSerializer(serializers.Serializer):
    sql = serializers.CharField()
    author = serializers.CharField(source="author.get_username", default=None)
    started_at = serializers.DateTimeField()
    duration_ms = serializers.IntegerField()
    rows = serializers.IntegerField()
    truncated = serializers.BooleanField()
    error = serializers.CharField()

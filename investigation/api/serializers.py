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

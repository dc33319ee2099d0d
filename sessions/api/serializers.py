"""API representations. Times are epoch ms as stored, plus ISO strings for humans and tools."""
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from jobs.sessionize.logic.records import load_record

from .. import timefmt
from ..models import (AnalysisTemplate, CorrelationReport, DeadLetter, Session, SessionConclusion, SessionNode, SessionRevision,
                      SessionRuleError, TemplateVersion)
from ..services import search, session_page


iso_ms = timefmt.iso


class ConclusionSerializer(serializers.ModelSerializer):
    class Meta:
        model = SessionConclusion
        fields = ["name", "label", "severity"]


class SessionListSerializer(serializers.ModelSerializer):
    """A search result row: the core columns and the conclusions (prefetched)."""

    template = serializers.SlugRelatedField(slug_field="name", read_only=True)
    start = serializers.SerializerMethodField()
    end = serializers.SerializerMethodField()
    conclusions = ConclusionSerializer(many=True, read_only=True)

    class Meta:
        model = Session
        fields = [
            "id", "template", "session_key", "start_ms", "end_ms", "start", "end", "duration_ms", "status", "revision",
            "completeness", "primary_conclusion", "conclusions", "split", "prev_id", "next_id",
        ]

    # Read straight from the instance: the generic path (a field object, get_attribute and to_representation per
    # column, a nested serializer per row) cost ~0.8 ms of CPU a row, most of a search request's Python time.
    PLAIN = ("id", "session_key", "start_ms", "end_ms", "duration_ms", "status", "revision", "completeness",
             "primary_conclusion", "split", "prev_id", "next_id")

    def to_representation(self, obj: Session | search.ListedSession) -> dict[str, Any]:
        row = {name: getattr(obj, name) for name in self.PLAIN}
        if isinstance(obj, search.ListedSession):  # the API's list pages (search.listed_rows)
            template, conclusions = obj.template_name, obj.conclusion_list
        else:
            template, conclusions = obj.template.name, [(c.name, c.label, c.severity) for c in obj.conclusions.all()]
        row.update(template=template, start=iso_ms(obj.start_ms), end=iso_ms(obj.end_ms),
                   conclusions=[{"name": name, "label": label, "severity": severity} for name, label, severity in conclusions])
        return {name: row[name] for name in self.Meta.fields}

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_start(self, obj: Session) -> str | None:
        return iso_ms(obj.start_ms)

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_end(self, obj: Session) -> str | None:
        return iso_ms(obj.end_ms)


class NodeSerializer(serializers.ModelSerializer):
    """One event of the behaviour tree; `raw` is the parsed record (or the text when it is not JSON)."""

    event_time = serializers.SerializerMethodField()
    raw = serializers.SerializerMethodField()

    class Meta:
        model = SessionNode
        fields = ["node", "seq", "source", "event_ms", "event_time", "supplement", "raw"]

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_event_time(self, obj: SessionNode) -> str | None:
        return iso_ms(obj.event_ms)

    @extend_schema_field(OpenApiTypes.ANY)
    def get_raw(self, obj: SessionNode) -> Any:
        """The record as JSON when it is (NaN, Infinity and huge integers as their text), else the raw text."""
        try:
            return load_record(obj.raw)
        except (TypeError, ValueError, RecursionError):
            return obj.raw


class FieldValueSerializer(serializers.Serializer):
    name = serializers.CharField()
    value = serializers.JSONField(help_text="Text, number or boolean text; every distinct value of the field is listed.")
    node = serializers.CharField(help_text="The node whose event carried the value; empty for a computed field.")


class RuleErrorSerializer(serializers.ModelSerializer):
    class Meta:
        model = SessionRuleError
        fields = ["rule", "message"]


class RevisionSerializer(serializers.ModelSerializer):
    written = serializers.SerializerMethodField()

    class Meta:
        model = SessionRevision
        fields = ["revision", "cause", "status", "template_version", "written_ms", "written", "changes"]

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_written(self, obj: SessionRevision) -> str | None:
        return iso_ms(obj.written_ms)


class SessionDetailSerializer(SessionListSerializer):
    """The full session: events with raw records and every field as {name: value}."""

    nodes = NodeSerializer(many=True, read_only=True)
    # `get_fields` is the serializer's own machinery, hence the explicit method name.
    fields = serializers.SerializerMethodField(method_name="field_values")

    values = serializers.SerializerMethodField()
    rule_errors = RuleErrorSerializer(many=True, read_only=True)
    revisions = serializers.SerializerMethodField()
    to_representation = serializers.ModelSerializer.to_representation  # one row: the generic path is fine

    class Meta(SessionListSerializer.Meta):
        fields = [*SessionListSerializer.Meta.fields, "template_version", "updated_ms", "nodes", "fields", "values",
                  "rule_errors", "revisions"]

    @extend_schema_field({"type": "object", "additionalProperties": {"oneOf": [{"type": "string"}, {"type": "number"}]}})
    def field_values(self, obj: Session) -> dict[str, Any]:
        """{name: value}: the first value of each field (every value is in `values`)."""
        first: dict[str, Any] = {}
        for row in session_page.field_rows(obj):
            first.setdefault(row.name, row.value)
        return first

    @extend_schema_field(FieldValueSerializer(many=True))
    def get_values(self, obj: Session) -> list[dict[str, Any]]:
        return [vars(row) for row in session_page.field_rows(obj)]

    @extend_schema_field(RevisionSerializer(many=True))
    def get_revisions(self, obj: Session) -> list[dict[str, Any]]:
        return RevisionSerializer(session_page.revisions(obj), many=True).data


class VersionSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = TemplateVersion
        fields = ["number", "fingerprint", "created_by", "created_at"]


class TemplateListSerializer(serializers.ModelSerializer):
    current_version = serializers.IntegerField(source="current_number", read_only=True, allow_null=True)
    version_count = serializers.IntegerField(read_only=True)
    session_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = AnalysisTemplate
        fields = ["id", "name", "description", "current_version", "version_count", "session_count", "updated_at"]


class TemplateDetailSerializer(TemplateListSerializer):
    """Adds the current document and the version history."""

    document = serializers.SerializerMethodField()
    versions = VersionSerializer(many=True, read_only=True)

    class Meta(TemplateListSerializer.Meta):
        fields = [*TemplateListSerializer.Meta.fields, "document", "versions"]

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_document(self, obj: AnalysisTemplate) -> dict[str, Any] | None:
        versions = list(obj.versions.all())
        return versions[0].document if versions else None


class TemplateImportedSerializer(serializers.Serializer):
    """Answer to an import: a draft for review, or (activated / unchanged) the current version."""

    name = serializers.CharField()
    outcome = serializers.ChoiceField(choices=["draft", "activated", "unchanged"])
    version = serializers.IntegerField(allow_null=True, help_text="The current version (null: a draft of a new template).")
    created = serializers.BooleanField(help_text="A version was saved by this request.")
    fingerprint = serializers.CharField(allow_null=True)
    draft = serializers.IntegerField(allow_null=True, help_text="The studio draft to review (outcome draft).")
    wizard_url = serializers.CharField(allow_blank=True)
    job = serializers.CharField(allow_blank=True, help_text="Activated: hot update, restart needed or no running job.")
    rollout = serializers.ListField(child=serializers.CharField(), help_text="What happened to the template's running jobs.")


class ErrorsSerializer(serializers.Serializer):
    errors = serializers.ListField(child=serializers.CharField())


class DeadLetterSerializer(serializers.ModelSerializer):
    template = serializers.SlugRelatedField(slug_field="name", read_only=True)
    created = serializers.SerializerMethodField()

    class Meta:
        model = DeadLetter
        fields = ["id", "template", "source", "reason", "raw", "origin", "created_ms", "created"]

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_created(self, obj: DeadLetter) -> str | None:
        return iso_ms(obj.created_ms)


class RejectedLinesSerializer(serializers.Serializer):
    """Dead letters of one source and reason kind (per-line detail such as the join value is grouped away)."""

    source = serializers.CharField()
    reason = serializers.CharField()
    count = serializers.IntegerField()


class SourceCountsSerializer(serializers.Serializer):
    source = serializers.CharField()
    accepted = serializers.IntegerField()
    rejected = serializers.IntegerField()
    rejected_pct = serializers.FloatField(allow_null=True, help_text="rejected / (accepted + rejected), in %.")


class CorrelationReportSerializer(serializers.ModelSerializer):
    """A stored correlation report: counts as stored, percentages derived from them (null when nothing to divide)."""

    template = serializers.SlugRelatedField(slug_field="name", read_only=True)
    since = serializers.SerializerMethodField()
    until = serializers.SerializerMethodField()
    with_conclusion = serializers.DictField(child=serializers.IntegerField(), read_only=True)
    accepted = serializers.IntegerField(read_only=True)
    accepted_by_source = serializers.DictField(child=serializers.IntegerField(), read_only=True)
    rejected = serializers.IntegerField(read_only=True)
    rejected_by_reason = RejectedLinesSerializer(many=True, read_only=True)
    by_source = SourceCountsSerializer(many=True, read_only=True)
    late = serializers.IntegerField(read_only=True)
    complete_pct = serializers.FloatField(read_only=True, allow_null=True)
    split_pct = serializers.FloatField(read_only=True, allow_null=True)
    late_pct = serializers.FloatField(read_only=True, allow_null=True, help_text="late / (accepted + pending late), in %: a replayed late event is already a stored node.")
    rejected_pct = serializers.FloatField(read_only=True, allow_null=True, help_text="rejected / (accepted + rejected), in %.")

    class Meta:
        model = CorrelationReport
        fields = [
            "id", "template", "created_at", "since_ms", "until_ms", "since", "until",
            "sessions", "complete", "closed", "open", "split", "complete_pct", "split_pct", "with_conclusion",
            "accepted", "accepted_by_source", "rejected", "rejected_pct", "rejected_by_reason", "by_source",
            "orphan_supplements", "rule_errors", "late", "late_pending", "late_replayed", "late_pct", "duration_p50_ms", "duration_p95_ms",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_since(self, obj: CorrelationReport) -> str | None:
        return iso_ms(obj.since_ms)

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_until(self, obj: CorrelationReport) -> str | None:
        return iso_ms(obj.until_ms)


class ReportWindowSerializer(serializers.Serializer):
    """Optional window of a rebuilt report (epoch ms, start inclusive, end exclusive); empty: all time."""

    since_ms = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=timefmt.MAX_EPOCH_MS)
    until_ms = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=timefmt.MAX_EPOCH_MS)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        since, until = attrs.get("since_ms"), attrs.get("until_ms")
        if since is not None and until is not None and since >= until:
            raise serializers.ValidationError("since_ms must be before until_ms.")
        return attrs

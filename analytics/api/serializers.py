"""API shapes of the analytics app: query results, dashboards (panels validated by PanelSpec), data requests."""
import datetime as dt
from typing import Any

from pydantic import ValidationError
from rest_framework import serializers

from sessions.forms.search import UTCDateTimeField

from ..models import AlertFiring, AlertRule, Dashboard
from ..panels import PanelSpec
from ..query.spec import Filter, MacroQuery


def pydantic_errors(exc: ValidationError) -> list[str]:
    return [f"{'.'.join(str(p) for p in e['loc']) or 'query'}: {e['msg']}" for e in exc.errors()]


class SeriesSerializer(serializers.Serializer):
    key = serializers.ListField(child=serializers.JSONField(), help_text="Values of the result's `key` dimensions (null: missing).")
    x = serializers.ListField(child=serializers.JSONField(), help_text="Values of the `x` dimension, ascending (epoch ms for time).")
    values = serializers.ListField(child=serializers.ListField(child=serializers.JSONField()),
                                   help_text="One list per measure (in `measures` order), aligned with `x`.")


class MacroResultSerializer(serializers.Serializer):
    """Columnar: one series per combination of the `key` dimensions, each with its x values and one list per measure."""

    dimensions = serializers.ListField(child=serializers.CharField(), help_text="The query's dimensions, in its order.")
    measures = serializers.ListField(child=serializers.CharField())
    x = serializers.CharField(allow_null=True, help_text="The x dimension: the time dimension if any, else the first (null: none).")
    key = serializers.ListField(child=serializers.CharField(), help_text="The other dimensions: what each series' key holds.")
    series = SeriesSerializer(many=True)
    source = serializers.ChoiceField(choices=["rollups", "facts", "fields"],
                                     help_text="What answered: the rollups, the session fact table or the key-value field rows.")
    reason = serializers.CharField(help_text="Why the planner chose that source.")
    grain = serializers.CharField(allow_null=True, help_text="Rollup grain read: m, h or d.")
    dialect = serializers.CharField()
    sql = serializers.CharField(help_text="The SQL run (values as placeholders).")
    params = serializers.ListField(child=serializers.CharField())
    provisional = serializers.DictField(child=serializers.IntegerField(), help_text="Open sessions counted; revisions still settling.")


class DashboardSerializer(serializers.ModelSerializer):
    template = serializers.SlugRelatedField(slug_field="name", queryset=Dashboard._meta.get_field("template").related_model.objects.all())
    owner = serializers.CharField(source="owner.username", read_only=True, default=None)

    class Meta:
        model = Dashboard
        fields = ["id", "title", "template", "owner", "shared", "panels", "refresh_s", "created_at", "updated_at"]
        read_only_fields = ["id", "owner", "created_at", "updated_at"]

    def validate_panels(self, value: Any) -> list[dict[str, Any]]:
        if not isinstance(value, list) or not value:
            raise serializers.ValidationError("a non-empty list of panels")
        try:
            return [PanelSpec.model_validate(item).model_dump(exclude_none=True) for item in value]
        except ValidationError as exc:
            raise serializers.ValidationError(pydantic_errors(exc)) from None


class DataRequestSerializer(serializers.Serializer):
    """The page's controls: template, dashboard (empty: the default panels), range, granularity, time zone."""

    template = serializers.CharField(max_length=100)
    dashboard = serializers.IntegerField(required=False, min_value=1)
    since = serializers.CharField(required=False, help_text="ISO date/datetime (UTC); default: 7 days before `until`.")
    until = serializers.CharField(required=False, help_text="ISO date/datetime (UTC); default: now.")
    granularity = serializers.ChoiceField(choices=["minute", "hour", "day", "week", "month"], default="hour")
    tz = serializers.CharField(default="UTC", max_length=64)

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        parse = UTCDateTimeField(required=False).clean
        try:
            until = parse(data.get("until")) or dt.datetime.now(dt.timezone.utc)
            since = parse(data.get("since")) or until - dt.timedelta(days=7)
        except Exception as exc:  # django ValidationError: one clear message
            raise serializers.ValidationError({"since": list(getattr(exc, "messages", [str(exc)]))}) from None
        data["since_ms"], data["until_ms"] = int(since.timestamp() * 1000), int(until.timestamp() * 1000)
        try:  # the range and zone are checked by the query spec itself
            MacroQuery(template=data["template"], measures=[{"kind": "sessions"}], since_ms=data["since_ms"],
                       until_ms=data["until_ms"], time_zone=data["tz"])
        except ValidationError as exc:
            raise serializers.ValidationError(pydantic_errors(exc)) from None
        return data


class PanelDataSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    title = serializers.CharField()
    chart = serializers.CharField()
    source = serializers.CharField(required=False)
    reason = serializers.CharField(required=False)
    provisional = serializers.DictField(child=serializers.IntegerField(), required=False)
    points = serializers.IntegerField(required=False)
    figure = serializers.DictField(required=False, help_text="Plotly figure (data + layout); customdata = search URL per point.")
    error = serializers.CharField(required=False)


def validated_filters(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise serializers.ValidationError("a list of filters")
    try:
        return [Filter.model_validate(item).model_dump(exclude_none=True) for item in value]
    except ValidationError as exc:
        raise serializers.ValidationError(pydantic_errors(exc)) from None


class AlertRuleSerializer(serializers.ModelSerializer):
    template = serializers.SlugRelatedField(slug_field="name", queryset=Dashboard._meta.get_field("template").related_model.objects.all())

    class Meta:
        model = AlertRule
        fields = ["id", "name", "template", "numerator", "denominator", "window_minutes", "threshold", "emails", "webhook_url",
                  "enabled", "silenced_until", "created_at"]
        read_only_fields = ["id", "silenced_until", "created_at"]

    def validate_numerator(self, value: Any) -> list[dict[str, Any]]:
        return validated_filters(value)

    def validate_denominator(self, value: Any) -> list[dict[str, Any]] | None:
        return validated_filters(value) or None if value else None


class AlertFiringSerializer(serializers.ModelSerializer):
    rule = serializers.CharField(source="rule.name", read_only=True)
    rule_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = AlertFiring
        fields = ["id", "rule", "rule_id", "fired_at", "window_start_ms", "window_end_ms", "value", "numerator", "denominator",
                  "resolved_at", "resolved_by", "notified"]
        read_only_fields = fields


class SilenceSerializer(serializers.Serializer):
    minutes = serializers.IntegerField(min_value=0, max_value=7 * 24 * 60, help_text="0 lifts the silence.")


# -- the request shape of a macro query, for the OpenAPI schema (validation is the pydantic spec's) ---------------
class MeasureSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["sessions", "distinct", "sum", "avg", "percentile", "share", "completeness"])
    field = serializers.CharField(required=False, help_text="Field name, or `duration`; for distinct/sum/avg/percentile.")
    p = serializers.ChoiceField(choices=[50, 90, 95, 99], required=False, help_text="Percentile, with kind=percentile.")
    conclusion = serializers.CharField(required=False, help_text="Conclusion name, with kind=share.")


class DimensionSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["time", "conclusion", "severity", "status", "node", "field"])
    granularity = serializers.ChoiceField(choices=["minute", "hour", "day", "week", "month"], required=False)
    field = serializers.CharField(required=False, help_text="Field name, with kind=field.")


class FilterSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["conclusion", "severity", "status", "node", "field"])
    field = serializers.CharField(required=False)
    values = serializers.ListField(child=serializers.CharField())


class MacroQuerySerializer(serializers.Serializer):
    template = serializers.CharField()
    measures = MeasureSerializer(many=True)
    dimensions = DimensionSerializer(many=True, required=False)
    filters = FilterSerializer(many=True, required=False)
    since_ms = serializers.IntegerField(help_text="Sessions starting at or after, epoch ms.")
    until_ms = serializers.IntegerField(help_text="… and before, epoch ms.")
    time_zone = serializers.CharField(required=False, default="UTC")
    source = serializers.ChoiceField(choices=["auto", "rollups", "facts", "fields"], required=False, default="auto")


class ReplicaStatusSerializer(serializers.Serializer):
    """The fact table's columnar replica for one template: what it holds, and the days the row store still answers."""

    template = serializers.CharField()
    enabled = serializers.BooleanField(help_text="False on TiDB (TiFlash is its replica) or with LUNA_FACT_REPLICA=off.")
    days = serializers.IntegerField(help_text="UTC days the fact table has held rows in.")
    current_days = serializers.IntegerField(help_text="Days whose replica file holds the day's latest version.")
    stale_days = serializers.IntegerField(help_text="Days before today whose file is missing or older (row store until rebuilt).")
    stale = serializers.ListField(child=serializers.IntegerField(), help_text="Their UTC starts, epoch ms (first 100).")
    oldest_stale_ms = serializers.IntegerField(allow_null=True)
    today_ms = serializers.IntegerField(help_text="The current UTC day, always read from the row store.")
    rows = serializers.IntegerField(help_text="Fact rows the replica files hold.")
    last_built_ms = serializers.IntegerField(allow_null=True)
    directory = serializers.CharField(allow_null=True)


class ReplicaRequestSerializer(serializers.Serializer):
    template = serializers.CharField(max_length=100)

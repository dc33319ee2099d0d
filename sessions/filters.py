"""FilterSets shared by the console pages and the REST API (one definition, two front ends)."""
import copy

import django_filters as filters
from django import forms
from django.db.models import QuerySet
from django.http import QueryDict
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from .choices import SessionStatus, Severity
from .forms.search import DeadLetterFilterForm, DurationMsField, SessionSearchForm, UTCDateTimeField
from .models import DeadLetter, Session
from .services import conditions, search

# Result columns a header click sorts by: (model field, parameter name).
SORTABLE = (("start_ms", "start"), ("session_key", "key"), ("status", "status"), ("duration_ms", "duration"),
            ("completeness", "complete"), ("revision", "revision"))


@extend_schema_field(OpenApiTypes.STR)
class EpochMsFilter(filters.Filter):
    """A datetime input compared with an epoch-ms column."""

    field_class = UTCDateTimeField

    def filter(self, qs: QuerySet, value) -> QuerySet:
        if value is None:
            return qs
        return qs.filter(**{f"{self.field_name}__{self.lookup_expr}": search.to_epoch_ms(value)})


@extend_schema_field(OpenApiTypes.STR)
class DurationMsFilter(filters.Filter):
    """A duration such as 30s or 5m compared with a ms column."""

    field_class = DurationMsField


class SharedFormFilterSet(filters.FilterSet):
    """A FilterSet that does not rebuild its filters and form class per request. django-filter deep-copies every
    filter and makes a new form class (a form field per filter) for each instance: ~2 ms of CPU for the session
    search's 14 filters, a fifth of a key lookup's (issue 12). Filters are not changed once the class is built, so an
    instance gets shallow copies (its own `parent` and `model`), and the form class is made once per FilterSet class;
    each form still deep-copies its fields, as every Django form does."""

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        # BaseFilterSet.__init__ with copy.copy instead of copy.deepcopy.
        self.queryset = self._meta.model._default_manager.all() if queryset is None else queryset
        self.is_bound, self.data, self.request, self.form_prefix = data is not None, data or QueryDict(), request, prefix
        self.filters = {name: copy.copy(filter_) for name, filter_ in self.base_filters.items()}
        for filter_ in self.filters.values():
            filter_.model, filter_.parent = self.queryset.model, self
            if filter_.method is not None:
                filter_.method = filter_.method  # a FilterMethod of its own, calling this instance's method

    def get_form_class(self):
        cls = type(self)
        if "_shared_form_class" not in cls.__dict__:
            cls._shared_form_class = super().get_form_class()
        return cls._shared_form_class


class SessionFilterSet(SharedFormFilterSet):
    """Search sessions by key, field values and ranges, conclusion, severity, missing node, status, split, time."""

    q = filters.CharFilter(method="filter_q", label="Key or field value",
                           help_text="Session key, any field value (exact; a trailing * searches by prefix, ORD-10*), or a conclusion code or label.")
    template = filters.CharFilter(method="filter_template", label="Template", help_text="Template name or id.")
    key = filters.CharFilter(method="filter_key", label="Session key", help_text="Exact session key; a trailing * is a prefix.")
    field = filters.CharFilter(method="filter_nothing", label="Field",
                               help_text="A field name the template declares; use with `value`. Unknown names are a 400.")
    value = filters.CharFilter(method="filter_nothing", label="Value", help_text="Field value: exact text, a number, or a prefix with *.")
    where = filters.CharFilter(
        method="filter_nothing", label="Conditions",
        help_text="Field conditions, one per line or repeated: `name OP value` with OP one of = != > >= < <= ^= "
                  "(e.g. `amount_value > 100`, `order_id ^= ORD-10`); all must hold.",
    )
    conclusion = filters.CharFilter(method="filter_conclusion", label="Conclusion",
                                    help_text="Conclusion code or label, any case (primary or any holding rule).")
    severity = filters.ChoiceFilter(choices=Severity.choices, method="filter_severity", label="Severity", empty_label="Any severity",
                                    help_text="Sessions for which a conclusion of this severity holds.")
    missing = filters.CharFilter(method="filter_missing", label="Missing node", help_text="Sessions with no event on this node.")
    status = filters.ChoiceFilter(choices=SessionStatus.choices, method="filter_status", label="Status", empty_label="Any status")
    split = filters.BooleanFilter(
        field_name="split", label="Split", help_text="Only sessions split by a gap (or only unsplit).",
        widget=forms.Select(choices=[("", "Any"), ("true", "Split only"), ("false", "Not split")]),
    )
    since = EpochMsFilter(field_name="start_ms", lookup_expr="gte", label="Start from", help_text="ISO date/datetime (UTC), inclusive.")
    until = EpochMsFilter(field_name="start_ms", lookup_expr="lt", label="Start before", help_text="ISO date/datetime (UTC), exclusive.")
    min_duration = DurationMsFilter(field_name="duration_ms", lookup_expr="gte", label="Min duration", help_text="e.g. 30s, 5m, 2h or seconds.")
    ordering = filters.OrderingFilter(
        fields=SORTABLE,
        help_text="start, key, status, duration, complete or revision; prefix '-' for descending (default: newest first).",
        empty_label="Newest first",
    )

    class Meta:
        model = Session
        fields: list[str] = []
        form = SessionSearchForm

    def __init__(self, data=None, *args, **kwargs):
        # Always bound, so the template restriction below applies to the unfiltered first page too.
        super().__init__({} if data is None else data, *args, **kwargs)

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        """Lead with the template ids: (template, start_ms) then serves the newest-first order. Field conditions
        (`field`/`value` and `where`) are planned together so the most selective one drives."""
        queryset = super().filter_queryset(queryset.filter(template_id__in=self.template_ids))
        wanted = self.field_conditions
        return queryset.filter(conditions.all_q(self.template_ids, wanted)) if wanted else queryset

    @property
    def field_conditions(self) -> list[conditions.FieldCondition]:
        data = self.form.cleaned_data
        wanted = list(data.get("where") or [])
        if data.get("field") and (data.get("value") or "").strip():
            wanted.insert(0, conditions.FieldCondition(data["field"].strip(), "=", data["value"].strip()))
        return wanted

    @property
    def template_ids(self) -> list[int]:
        return self.form.template_ids

    def filter_template(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs  # applied in filter_queryset, before every other filter

    def filter_key(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs.filter(search.key_q(value, self.template_ids))

    def filter_nothing(self, qs: QuerySet, name: str, value) -> QuerySet:
        return qs  # `field`/`value` and `where` are planned together in filter_queryset

    def filter_conclusion(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs.filter(search.conclusion_q(self.template_ids, [value], *self.window))

    def filter_severity(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs.filter(search.conclusion_q(self.template_ids, self.form.catalog.names_of_severity(value), *self.window))

    @property
    def window(self) -> tuple[int | None, int | None]:
        """The start-time window in epoch ms (for subqueries on tables that copy the start time)."""
        bounds = (self.form.cleaned_data.get("since"), self.form.cleaned_data.get("until"))
        return tuple(None if moment is None else search.to_epoch_ms(moment) for moment in bounds)

    def filter_missing(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs.filter(search.missing_node_q(value))

    def filter_status(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs.filter(status=value)

    def filter_q(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        """A key, any field value, or a conclusion's code or label (what a user pastes or types)."""
        match = search.q_box_q(self.template_ids, value, self.form.catalog.field_names())
        code = self.form.catalog.resolve_conclusion(value)
        return qs.filter(match | search.conclusion_q(self.template_ids, [code]) if code else match)


class DeadLetterFilterSet(SharedFormFilterSet):
    """Rejected lines of a template, narrowed by source and reason (prefix) on luna_dead_letter_reason_idx."""

    template = filters.CharFilter(method="filter_template", label="Template", help_text="Template name or id.")
    source = filters.CharFilter(field_name="source", label="Source")
    reason = filters.CharFilter(field_name="reason", lookup_expr="startswith", label="Reason", help_text="Reason, or its beginning.")

    class Meta:
        model = DeadLetter
        fields: list[str] = []
        form = DeadLetterFilterForm

    def filter_template(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs.filter(template_id__in=search.resolve_template_ids(value))

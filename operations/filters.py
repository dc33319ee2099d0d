"""FilterSets of job operations (the API's run history)."""
import django_filters as filters
from django.db.models import QuerySet

from sessions.filters import SharedFormFilterSet
from sessions.services import search

from .choices import JobState
from .models import JobRun


class JobRunFilterSet(SharedFormFilterSet):
    """Runs of the Flink job by template and state (the API's run history)."""

    template = filters.CharFilter(method="filter_template", label="Template", help_text="Template name or id.")
    state = filters.MultipleChoiceFilter(choices=JobState.choices, label="State")

    class Meta:
        model = JobRun
        fields: list[str] = []

    def filter_template(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs.filter(version__template_id__in=search.resolve_template_ids(value))

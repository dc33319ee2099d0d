"""Index-friendly building blocks for session search (SPEC §6 "ms-fast"), shared by the FilterSet.

Every predicate leads with `template_id` (and a field `name` where there is one) so it lands on the
composite indexes of the storage contract: luna_session_start_idx / luna_session_key_idx for sessions (the
FilterSet restricts sessions to the template ids first), luna_field_str_idx / luna_field_num_idx and
luna_concl_name_idx in the subqueries. When the user picks no template, all template ids are passed
explicitly (an IN list is still an index range). Values only ever travel as query parameters.
"""
import math
from datetime import datetime, timezone
from typing import Any, Iterable

from django.db.models import Count, Prefetch, Q, QuerySet

from jobs.sessionize.logic.durations import parse_duration_ms

from ..models import AnalysisTemplate, DeadLetter, Session, SessionConclusion, SessionField, TemplateVersion

# The q box materialises matching session ids; an order id or trans_id matches a handful, this is a guard.
Q_BOX_LIMIT = 1000


def search_queryset() -> QuerySet[Session]:
    """Sessions for result tables, newest first; template and conclusions prefetched (no N+1).

    The template is prefetched rather than joined: with a join the optimizer may drive from luna_template
    and sort every matching session, while alone the (template, start_ms) index yields the first page.
    """
    conclusions = SessionConclusion.objects.order_by("session_id", "name")
    return Session.objects.prefetch_related("template", Prefetch("conclusions", queryset=conclusions)).order_by("-start_ms", "-id")


def resolve_template_ids(value: str | None) -> list[int]:
    """Ids of the template named `value` (or with that id); every template when no value is given."""
    templates = AnalysisTemplate.objects.all()
    if value:
        value = value.strip()
        match = Q(name=value)
        if value.isdigit():
            match |= Q(pk=int(value))
        templates = templates.filter(match)
    return list(templates.values_list("pk", flat=True))


def to_epoch_ms(moment: datetime) -> int:
    """Aware datetime → epoch ms; naive values are taken as UTC (the console shows UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1000)


def parse_min_duration_ms(text: str) -> int:
    """"30s", "5m", "1500ms" or a bare number of seconds → ms; raises ValueError otherwise."""
    text = text.strip()
    try:
        seconds = float(text)
    except ValueError:
        return parse_duration_ms(text)
    if not math.isfinite(seconds):
        raise ValueError(f"bad duration {text!r}")
    return round(seconds * 1000)


def as_number(value: str) -> float | None:
    """The numeric reading of a search value, if it has one ("6", "6.0", "1e3"); None otherwise."""
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def field_value_q(template_ids: list[int], name: str, value: str) -> Q:
    """Sessions having field `name` = `value`, as text or (when the value is numeric) as a number."""
    match = Q(str_value=value)
    number = as_number(value)
    if number is not None:
        match |= Q(num_value=number)
    matching = SessionField.objects.filter(match, template_id__in=template_ids, name=name).values("session_id")
    return Q(id__in=matching)


def conclusion_q(template_ids: list[int], name: str) -> Q:
    """Sessions whose primary conclusion is `name` or for which the rule `name` holds at all."""
    holding = SessionConclusion.objects.filter(template_id__in=template_ids, name=name).values("session_id")
    return Q(primary_conclusion=name) | Q(id__in=holding)


def searchable_field_names(template_ids: Iterable[int]) -> list[str]:
    """Every field name any version of these templates can produce (source aliases and computed fields).

    Knowing the names lets the q box use the (template, name, str_value) index instead of a scan.
    """
    names: set[str] = set()
    for document in TemplateVersion.objects.filter(template_id__in=list(template_ids)).values_list("document", flat=True):
        names.update(_document_field_names(document))
    return sorted(names)


def _document_field_names(document: Any) -> set[str]:
    if not isinstance(document, dict):
        return set()
    names = {str(alias) for src in document.get("sources") or [] if isinstance(src, dict) for alias in (src.get("fields") or {})}
    names.update(str(item["name"]) for item in document.get("fields") or [] if isinstance(item, dict) and "name" in item)
    return names


def q_box_q(template_ids: list[int], text: str) -> Q:
    """The paste-an-id box: the session key exactly, or any field's text value exactly."""
    text = text.strip()
    names = searchable_field_names(template_ids)
    session_ids = list(
        SessionField.objects.filter(template_id__in=template_ids, name__in=names, str_value=text)
        .values_list("session_id", flat=True)
        .distinct()[:Q_BOX_LIMIT]
    ) if names else []
    return Q(session_key=text) | Q(id__in=session_ids)


def dead_letter_counts(template: AnalysisTemplate) -> list[dict[str, Any]]:
    """Rejections grouped by source and reason, largest first (reads luna_dead_letter_reason_idx)."""
    return list(
        DeadLetter.objects.filter(template=template)
        .values("source", "reason")
        .annotate(count=Count("id"))
        .order_by("-count", "source", "reason")
    )

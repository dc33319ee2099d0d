"""Display helpers for epoch-ms columns, durations, severities and query strings."""
import json
from typing import Any

from django import template
from django.http import QueryDict

from .. import timefmt
from ..services.tree import pretty_json as _pretty_json

register = template.Library()

SEVERITY_CLASSES = {"info": "sev-info", "low": "sev-low", "medium": "sev-medium", "high": "sev-high", "critical": "sev-critical"}
STATUS_CLASSES = {"open": "status-open", "complete": "status-complete", "closed": "status-closed"}


@register.filter
def ms_datetime(value: Any) -> str:
    """Epoch ms → '2024-05-01 12:03:04.123Z' (UTC, millisecond precision); never fails on a stored value."""
    return timefmt.readable(value)


@register.filter
def ms_iso(value: Any) -> str:
    """Epoch ms → ISO 8601 (for <time datetime>)."""
    return timefmt.iso(value) or ""


@register.filter
def duration(value: Any) -> str:
    """Milliseconds → '850 ms', '12.3 s', '4m 05s', '2h 03m', '3d 4h'."""
    if value in (None, ""):
        return ""
    ms = int(value)
    sign, ms = ("-" if ms < 0 else ""), abs(ms)
    if ms < 1000:
        text = f"{ms} ms"
    elif ms < 60_000:
        text = f"{ms / 1000:.1f} s"
    elif ms < 3_600_000:
        text = f"{ms // 60_000}m {ms % 60_000 // 1000:02d}s"
    elif ms < 86_400_000:
        text = f"{ms // 3_600_000}h {ms % 3_600_000 // 60_000:02d}m"
    else:
        text = f"{ms // 86_400_000}d {ms % 86_400_000 // 3_600_000}h"
    return sign + text


@register.filter
def offset(value: Any) -> str:
    """Offset from the session start: '+12.3 s', '-2.0 s', '+0 ms'."""
    if value in (None, ""):
        return ""
    ms = int(value)
    return ("-" if ms < 0 else "+") + duration(abs(ms))


@register.filter
def percent(value: Any) -> str:
    if value in (None, ""):
        return ""
    return f"{float(value) * 100:.0f}%"


@register.filter
def severity_class(value: Any) -> str:
    return SEVERITY_CLASSES.get(str(value), "sev-none")


@register.filter
def status_class(value: Any) -> str:
    return STATUS_CLASSES.get(str(value), "")


@register.filter
def pretty_json(value: Any) -> str:
    """JSON text or a Python object → indented JSON."""
    if isinstance(value, str):
        return _pretty_json(value)
    return json.dumps(value, indent=2, ensure_ascii=False)


@register.filter
def primary_of(session: Any) -> Any:
    """The SessionConclusion row of the primary conclusion, from the prefetched conclusions (no query)."""
    for item in session.conclusions.all():
        if item.name == session.primary_conclusion:
            return item
    return None


@register.simple_tag(takes_context=True)
def query_with(context: template.Context, **changes: Any) -> str:
    """The current query string with some parameters replaced (pagination keeps the filters)."""
    query: QueryDict = context["request"].GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            query.pop(key, None)
        else:
            query[key] = str(value)
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.filter
def field_value(value: Any) -> Any:
    """Numbers without a spurious '.0' (amount 6.0 → 6); text unchanged."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return "" if value is None else value


@register.inclusion_tag("sessions/_sort_header.html", takes_context=True)
def sort_header(context: template.Context, key: str, label: str, css: str = "") -> dict[str, Any]:
    """A result column header that sorts by `key`; clicking it again reverses the order."""
    current = context["request"].GET.get("ordering", "")
    wanted = f"-{key}" if current == key else key
    arrow = "▲" if current == key else "▼" if current == f"-{key}" else ""
    return {"href": query_with(context, ordering=wanted, page=None, cursor=None), "label": label, "arrow": arrow, "css": css,
            "sorted": "ascending" if current == key else "descending" if current == f"-{key}" else "none"}

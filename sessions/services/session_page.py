"""What the session page and the session API show beyond the stored rows: the template version that produced the
session (the tree is drawn with it, not with today's version), its field values with the node each came from,
its rule errors and its revision history."""
import math
from dataclasses import dataclass
from typing import Any

from ..models import Session, SessionRevision, TemplateVersion
from . import tree, waterfall

CAUSE_LABELS = {
    "early_fire": "early fire (complete)", "close": "closed (gap passed)", "timeout": "timeout (quiet source)",
    "update": "update (new events)", "merge": "merge (two parts joined)", "late_replay": "late replay",
}


def producing_version(session: Session) -> TemplateVersion | None:
    """The version that wrote the stored revision; sessions written before versions were recorded use the current one."""
    if session.template_version is not None:
        found = TemplateVersion.objects.filter(template_id=session.template_id, number=session.template_version).first()
        if found is not None:
            return found
    return session.template.current_version


def finite(value: Any) -> Any:
    """A number JSON can carry (older rows may hold NaN or infinity): those become their text."""
    return str(value) if isinstance(value, float) and not math.isfinite(value) else value


@dataclass
class FieldRow:
    name: str
    value: Any
    node: str


def field_rows(session: Session) -> list[FieldRow]:
    """Every stored value, grouped by field name, each with its node ('' for a computed field)."""
    return [FieldRow(f.name, finite(f.value), f.node) for f in session.fields.order_by("name", "node", "id")]


def change_rows(changes: dict[str, Any]) -> list[tuple[str, str]]:
    """A revision's changes as (what, values) lines for the page: 'nodes added: delivery', 'status: open → closed'."""
    rows = []
    for key, value in changes.items():
        if key == "status":
            rows.append(("status", f"{value[0] or '—'} → {value[1]}"))
            continue
        values = [str(v) for v in value]
        shown = ", ".join(values[:8]) + (f" … ({len(values)})" if len(values) > 8 else "")
        rows.append((key.replace("_", " "), shown))
    return rows


def revisions(session: Session) -> list[SessionRevision]:
    history = list(SessionRevision.objects.filter(session_id=session.pk).order_by("-revision"))
    for item in history:
        item.cause_label = CAUSE_LABELS.get(item.cause, item.cause)
        item.change_rows = change_rows(item.changes or {})
    return history


def page_context(session: Session) -> dict[str, Any]:
    version = producing_version(session)
    rows = list(session.nodes.all())
    doc_nodes = version.document.get("nodes", []) if version else []
    events = tree.timeline(rows, session.start_ms)
    return {
        "version": version,
        "version_is_current": version is not None and version == session.template.current_version,
        "tree": tree.build_tree(doc_nodes, rows, session.start_ms),
        "timeline": events,
        "waterfall": waterfall.waterfall(events, doc_nodes),
        "fields": field_rows(session),
        "rule_errors": list(session.rule_errors.order_by("rule")),
        "revisions": revisions(session),
    }

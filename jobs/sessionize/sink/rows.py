"""Session documents and rejected records → the rows the sink writes (pure; the writer owns the SQL).

Every text value goes through `storable_text`, so a lone surrogate can never make a batch fail, and every
number is finite, so no database refuses it and no JSON answer chokes on it.
"""
import json
import math
from typing import Any

from ..logic.records import Rejection, line_uid, storable_text
from ..logic.sessions import Emission, Orphan

MAX_STR_VALUE = 191


def split_value(value: Any) -> tuple[str | None, float | None]:
    """Typed key-value columns: numbers are searchable as numbers, everything else as text."""
    if isinstance(value, bool):
        return ("true" if value else "false"), None
    if isinstance(value, (int, float)) and math.isfinite(value) and abs(value) < 2**63:
        return None, float(value)
    text = value if isinstance(value, str) else json.dumps(value, default=str) if isinstance(value, (dict, list)) else str(value)
    return storable_text(text)[:MAX_STR_VALUE], None


def session_row(template_id: int, write: Emission, now: int) -> tuple:
    doc = write.document
    return (
        doc["uid"], template_id, storable_text(doc["session_key"])[:191], doc["start_ms"], doc["end_ms"], doc["duration_ms"],
        doc["status"], write.revision, doc["completeness"], doc["primary_conclusion"], int(doc["split"]),
        doc["prev_uid"], doc["next_uid"], now, doc.get("template_version"),
    )


def field_rows(template_id: int, doc: dict[str, Any]) -> list[tuple]:
    """Every distinct value of every field (with the node that carried it), then the computed fields."""
    uid, rows, seen = doc["uid"], [], set()
    values = doc.get("values")
    if values is None:  # a document without per-node values: one value per field
        values = [[name, value, ""] for name, value in doc["fields"].items()]
    extracted = set()
    for name, value, node in values:
        extracted.add(name)
        stored = split_value(value)
        if (name, stored) not in seen:
            seen.add((name, stored))
            rows.append((uid, template_id, name, *stored, node))
    for name, value in doc["fields"].items():
        if name not in extracted and value is not None:
            rows.append((uid, template_id, name, *split_value(value), ""))
    return rows


def node_rows(doc: dict[str, Any]) -> list[tuple]:
    return [(doc["uid"], n["node"], n["seq"], n["source"], n["ts"], int(n["supplement"]), n["uid"], storable_text(n["raw"]))
            for n in doc["nodes"]]


def conclusion_rows(template_id: int, doc: dict[str, Any]) -> list[tuple]:
    return [(doc["uid"], template_id, c["name"], c["label"], c["severity"], doc["start_ms"]) for c in doc["conclusions"]]


def rule_error_rows(template_id: int, doc: dict[str, Any]) -> list[tuple]:
    return [(doc["uid"], template_id, e["rule"][:200], storable_text(e["message"])[:500], doc["start_ms"])
            for e in doc.get("rule_errors", ())]


def revision_row(template_id: int, write: Emission, before: dict[str, Any] | None, fields: list[tuple], now: int) -> tuple:
    """`fields`: the document's field rows (`field_rows`), built once for the insert and reused here."""
    doc = write.document
    changes = revision_changes(before, doc, fields)
    return (doc["uid"], template_id, write.revision, doc.get("template_version"), write.cause, doc["status"], now,
            json.dumps(changes, default=str))


def stored_summary(nodes: list[str], fields: list[tuple[str, Any]], conclusions: list[str], status: str) -> dict[str, Any]:
    """What a stored revision showed, in the shape `revision_changes` compares."""
    return {"nodes": sorted(nodes), "fields": {(n, str(v)) for n, v in fields}, "conclusions": set(conclusions), "status": status}


def revision_changes(before: dict[str, Any] | None, doc: dict[str, Any], fields: list[tuple]) -> dict[str, Any]:
    """Nodes added or removed, field values added or removed, conclusions gained or lost, status change."""
    after = stored_summary(
        [n["node"] for n in doc["nodes"]],
        [(r[2], r[3] if r[3] is not None else r[4]) for r in fields],
        [c["name"] for c in doc["conclusions"]],
        doc["status"],
    )
    if before is None:
        return {"nodes_added": _multiset_minus(after["nodes"], []), "conclusions_added": sorted(after["conclusions"]),
                "status": [None, after["status"]]}
    changes: dict[str, Any] = {
        "nodes_added": _multiset_minus(after["nodes"], before["nodes"]),
        "nodes_removed": _multiset_minus(before["nodes"], after["nodes"]),
        "fields_added": sorted(f"{n}={v}" for n, v in after["fields"] - before["fields"]),
        "fields_removed": sorted(f"{n}={v}" for n, v in before["fields"] - after["fields"]),
        "conclusions_added": sorted(after["conclusions"] - before["conclusions"]),
        "conclusions_removed": sorted(before["conclusions"] - after["conclusions"]),
    }
    if before["status"] != after["status"]:
        changes["status"] = [before["status"], after["status"]]
    return {k: v for k, v in changes.items() if v}


def _multiset_minus(left: list[str], right: list[str]) -> list[str]:
    remaining = list(right)
    out = []
    for item in left:
        if item in remaining:
            remaining.remove(item)
        else:
            out.append(item)
    return out


def dead_letter_row(template_id: int, item: Rejection | Orphan, now: int) -> tuple:
    if isinstance(item, Orphan):
        e = item.event
        return (template_id, e.source, storable_text(f"orphan supplement: {item.reason}")[:500], storable_text(e.raw),
                storable_text(e.origin)[:500], e.uid, now)
    uid = line_uid(item.source, item.raw.strip())
    return (template_id, storable_text(item.source)[:100], storable_text(item.reason)[:500], storable_text(item.raw),
            storable_text(item.origin)[:500], uid, now)


def late_row(template_id: int, late: Any, now: int) -> tuple:
    e = late.event
    return (template_id, e.source, e.node, storable_text(e.session_key or "")[:191], storable_text(e.join_key or "")[:191],
            e.ts, late.reason[:200], storable_text(e.raw), storable_text(e.origin)[:500], e.uid, now)


def unstorable_session(write: Emission, error: BaseException) -> Rejection:
    """A session the database refused even alone: kept as a dead letter with the whole document, never lost."""
    doc = write.document
    reason = f"job error: the database refused session {doc['session_key']!r} r{write.revision}: {type(error).__name__}: {error}"
    return Rejection("(sink)", reason[:500], json.dumps(doc, default=str, ensure_ascii=True), f"session:{doc['uid']}")

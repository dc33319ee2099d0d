"""A cluster of events → the stored session document (nodes, fields, conclusions) — a pure function.

Everything here is recomputed on every revision, so conclusions always reflect the events present.
"""
import hashlib
import json
import math
from typing import Any

from .expressions import RuleFailure, new_context, project
from .records import Event
from .template import SEVERITY_RANK, CompiledTemplate

STATUS_OPEN, STATUS_COMPLETE, STATUS_CLOSED = "open", "complete", "closed"


def session_uid(template_name: str, session_key: str, first_ts: int) -> int:
    """Stable 63-bit id for (template, key, first event time); spread out to avoid TiDB write hotspots."""
    digest = hashlib.blake2b(f"{template_name}\x00{session_key}\x00{first_ts}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


def _node_var(events: list[Event]) -> dict[str, Any]:
    first = events[0]
    return dict(first.values, ts=first.ts, count=len(events), source=first.source)


def _coerce(value: Any, kind: str) -> Any:
    """The rule's value as the field's type; a RuleFailure when it cannot be one (never NaN or infinity)."""
    if value is None or isinstance(value, RuleFailure):
        return value
    try:
        if kind == "number":
            number = float(value) if not isinstance(value, bool) else float(int(value))
            return number if math.isfinite(number) else RuleFailure(f"the value {number} is not a finite number")
        if kind == "time":
            return int(value)
        if kind == "bool":
            return bool(value)
        return value if isinstance(value, str) else json.dumps(value, default=str)
    except (TypeError, ValueError, OverflowError) as exc:
        return RuleFailure(f"the value {str(value)[:60]!r} is not a {kind}: {exc}"[:300])


def kept_node_events(template: CompiledTemplate, by_node: dict[str, list[Event]]) -> dict[str, list[Event]]:
    """Supplement nodes without `many` keep only their first match (by event time, then content)."""
    kept = {}
    for name, events in by_node.items():
        ordered = sorted(events, key=lambda e: (e.ts, e.uid))
        node = template.nodes[name]
        kept[name] = ordered if (node.many or not node.is_supplement) else ordered[:1]
    return kept


def assemble(
    template: CompiledTemplate,
    session_key: str,
    baseline: list[Event],
    supplements: list[Event],
    closed: bool,
    prev_uid: int | None,
    next_uid: int | None,
) -> dict[str, Any]:
    """Build the session document; `baseline` must be non-empty and sorted by (ts, uid)."""
    by_node: dict[str, list[Event]] = {}
    for event in [*baseline, *supplements]:
        by_node.setdefault(event.node, []).append(event)
    by_node = kept_node_events(template, by_node)
    present = [name for name in template.nodes if name in by_node]
    start = baseline[0].ts
    end = max(e.ts for events in by_node.values() for e in events)
    complete = all(name in by_node for name in template.complete_when)
    status = STATUS_COMPLETE if complete else (STATUS_CLOSED if closed else STATUS_OPEN)

    node_vars = {name: _node_var(by_node[name]) for name in present}
    context: dict[str, Any] = {
        "nodes": dict.fromkeys(node_vars, True),  # presence only: `has(node)`; the values sit under each name
        **node_vars,
        "session": {"key": session_key, "start": start, "end": end, "duration": end - start, "status": status},
    }
    derived, matched, rule_errors = _evaluate_rules(template, context)
    primary = max(matched, key=lambda c: SEVERITY_RANK[c.severity], default=None)

    fields: dict[str, Any] = {}
    values: list[list[Any]] = []  # every distinct value of every field, with the node that carried it first
    seen: set[tuple[str, type, Any]] = set()  # values are scalars; the type keeps 1, 1.0 and True apart
    for name in present:
        for event in by_node[name]:
            for alias, value in event.values.items():
                fields.setdefault(alias, value)
                marker = (alias, value.__class__, value)
                if marker not in seen:
                    seen.add(marker)
                    values.append([alias, value, name])
    fields.update({k: v for k, v in derived.items() if v is not None})
    done = sum(1 for name in template.complete_when if name in by_node)
    return {
        "uid": session_uid(template.name, session_key, start),
        "session_key": session_key,
        "start_ms": start,
        "end_ms": end,
        "duration_ms": end - start,
        "status": status,
        "completeness": round(done / len(template.complete_when), 4) if template.complete_when else 1.0,
        "primary_conclusion": primary.name if primary else "",
        "split": prev_uid is not None or next_uid is not None,
        "template_version": template.version,
        "prev_uid": prev_uid,
        "next_uid": next_uid,
        "nodes": [
            {"node": name, "seq": seq, "source": e.source, "ts": e.ts, "supplement": e.supplement, "uid": e.uid, "raw": e.raw}
            for name in present
            for seq, e in enumerate(by_node[name])
        ],
        "fields": fields,
        "values": values,
        "rule_errors": rule_errors,
        "conclusions": [
            {"name": c.name, "label": c.label, "severity": c.severity} for c in sorted(matched, key=lambda c: -SEVERITY_RANK[c.severity])
        ],
    }


def _evaluate_rules(template: CompiledTemplate, context: dict[str, Any]) -> tuple[dict[str, Any], list, list[dict[str, str]]]:
    """Fields in order, then conclusions. A rule that fails yields null (a field) or does not hold (a conclusion)
    and is listed as a rule error; a rule reading a node or field the session lacks yields null silently."""
    derived: dict[str, Any] = {}
    rule_errors: list[dict[str, str]] = []

    def shared_context() -> Any:
        # one CEL context converted once and shared by the rules (converting per rule cost ~30x more), holding only
        # what the rules name (template.rule_inputs: a node's unread values cost ≈ 30 µs to convert); absent
        # (null) fields are left out so that reading one is "absent", like a missing node
        return new_context(project({**context, **{k: v for k, v in derived.items() if v is not None}}, template.rule_inputs))

    rules_context = shared_context()
    if isinstance(rules_context, RuleFailure):  # the events' values cannot enter a rule at all
        failure = {"rule": "(session values)", "message": rules_context.message}
        return {f.name: None for f in template.fields}, [], [failure]
    for item in template.fields:
        if derived and not item.expr.variables.isdisjoint(derived):
            rules_context = shared_context()
        value = _coerce(item.expr.evaluate(rules_context), item.type)
        if isinstance(value, RuleFailure):
            rule_errors.append({"rule": f"fields.{item.name}.expr", "message": value.message})
            value = None
        derived[item.name] = value
    if any(not c.when.variables.isdisjoint(derived) for c in template.conclusions):
        rules_context = shared_context()
    matched = []
    for conclusion in template.conclusions:
        held = conclusion.when.evaluate(rules_context)
        if isinstance(held, RuleFailure):
            rule_errors.append({"rule": f"conclusions.{conclusion.name}.when", "message": held.message})
        elif held is True:
            matched.append(conclusion)
    return derived, matched, rule_errors


def content_digest(document: dict[str, Any]) -> str:
    """Digest of what storage would show, so unchanged re-evaluations do not emit a new revision."""
    return hashlib.blake2b(json.dumps(document, sort_keys=True, default=str).encode(), digest_size=16).hexdigest()

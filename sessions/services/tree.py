"""The behaviour tree of one session: template nodes (with `parent`) + stored events → a display tree.

A pure function of plain data, so it is unit-tested without a database and reused by the page and API.
Nodes that the session has but the template no longer declares (an older version) are kept as extra
roots rather than hidden: an analyst must see every event.
"""
import json
from dataclasses import dataclass, field
from typing import Any, Iterable, Protocol


class EventRow(Protocol):
    """What the tree needs from a stored event (SessionNode satisfies it)."""

    node: str
    seq: int
    source: str
    event_ms: int
    supplement: bool
    raw: str


@dataclass
class TreeEvent:
    node: str
    seq: int
    source: str
    event_ms: int
    offset_ms: int
    supplement: bool
    raw: str

    @property
    def pretty_raw(self) -> str:
        return pretty_json(self.raw)


@dataclass
class TreeNode:
    name: str
    label: str
    source: str
    many: bool = False
    supplement: bool = False
    join_on: str | None = None
    declared: bool = True
    events: list[TreeEvent] = field(default_factory=list)
    children: list["TreeNode"] = field(default_factory=list)

    @property
    def present(self) -> bool:
        return bool(self.events)


def pretty_json(raw: str) -> str:
    """Indented JSON for display; a line that is not JSON is shown as it is."""
    try:
        return json.dumps(json.loads(raw), indent=2, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        return raw


def timeline(rows: Iterable[EventRow], start_ms: int) -> list[TreeEvent]:
    """Every event of the session in time order, with its offset from the session start."""
    events = [
        TreeEvent(r.node, r.seq, r.source, r.event_ms, r.event_ms - start_ms, bool(r.supplement), r.raw) for r in rows
    ]
    return sorted(events, key=lambda e: (e.event_ms, e.node, e.seq))


def build_tree(doc_nodes: list[dict[str, Any]], rows: Iterable[EventRow], start_ms: int) -> list[TreeNode]:
    """Roots of the tree in document order; each node carries its events (several for `many` nodes)."""
    events = timeline(rows, start_ms)
    nodes: dict[str, TreeNode] = {}
    for spec in doc_nodes:
        name = str(spec.get("name", ""))
        if not name or name in nodes:
            continue
        join = spec.get("join") if isinstance(spec.get("join"), dict) else None
        nodes[name] = TreeNode(
            name=name,
            label=str(spec.get("label") or name),
            source=str(spec.get("source", "")),
            many=bool(spec.get("many", False)),
            supplement=join is not None,
            join_on=join.get("on") if join else None,
        )
    for event in events:
        if event.node not in nodes:
            nodes[event.node] = TreeNode(event.node, event.node, event.source, supplement=event.supplement, declared=False)
        nodes[event.node].events.append(event)
    parents = {str(s.get("name")): s.get("parent") for s in doc_nodes}
    roots: list[TreeNode] = []
    for name, node in nodes.items():
        parent = parents.get(name)
        if parent in nodes and parent != name and not _is_ancestor(name, parent, parents):
            nodes[parent].children.append(node)
        else:
            roots.append(node)
    return roots


def _is_ancestor(name: str, candidate: Any, parents: dict[str, Any]) -> bool:
    """Guards against a cyclic document (only valid ones are saved, but never loop on bad data)."""
    seen: set[Any] = set()
    while candidate is not None and candidate not in seen:
        if candidate == name:
            return True
        seen.add(candidate)
        candidate = parents.get(candidate)
    return False


def walk(roots: list[TreeNode]) -> Iterable[TreeNode]:
    """Depth-first, parents before children."""
    for root in roots:
        yield root
        yield from walk(root.children)

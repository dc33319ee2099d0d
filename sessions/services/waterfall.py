"""The session waterfall (Gantt): each step of the behaviour tree as a bar from the step it waited on (its parent
node, else the previous event) to its own time, the wait between them, and the critical path — the chain of parents
leading to the session's last event — with its slowest step marked. Pure: plain data in, rows for the page out."""
from dataclasses import dataclass
from typing import Any, Iterable

from .tree import TreeEvent


@dataclass
class Step:
    node: str
    seq: int
    source: str
    supplement: bool
    offset_ms: int
    wait_ms: int  # from the step it waited on
    waited_on: str  # that step's node ('' for the first)
    left_pct: float
    width_pct: float
    critical: bool = False
    slowest: bool = False


def waterfall(events: Iterable[TreeEvent], doc_nodes: list[dict[str, Any]]) -> list[Step]:
    ordered = sorted(events, key=lambda e: (e.offset_ms, e.node, e.seq))
    if not ordered:
        return []
    parents = {n.get("name"): n.get("parent") for n in doc_nodes}
    span = max(ordered[-1].offset_ms, 1)
    first_at: dict[str, int] = {}
    steps = []
    for index, event in enumerate(ordered):
        parent = parents.get(event.node)
        if parent in first_at:
            waited_on, since = parent, first_at[parent]
        elif index:
            waited_on, since = ordered[index - 1].node, ordered[index - 1].offset_ms
        else:
            waited_on, since = "", 0
        since = min(since, event.offset_ms)
        steps.append(Step(event.node, event.seq, event.source, event.supplement, event.offset_ms, event.offset_ms - since,
                          waited_on, round(100 * since / span, 2), round(100 * (event.offset_ms - since) / span, 2)))
        first_at.setdefault(event.node, event.offset_ms)
    _mark_critical_path(steps, parents)
    return steps


def _mark_critical_path(steps: list[Step], parents: dict[str, str | None]) -> None:
    """From the last event back through its parents' first events; the longest wait on that chain is the slowest."""
    first_step = {}
    for step in steps:
        first_step.setdefault(step.node, step)
    chain, current, seen = [steps[-1]], parents.get(steps[-1].node), {steps[-1].node}
    while current and current in first_step and current not in seen:
        seen.add(current)
        chain.append(first_step[current])
        current = parents.get(current)
    for step in chain:
        step.critical = True
    slowest = max(chain, key=lambda s: s.wait_ms)
    if slowest.wait_ms > 0:
        slowest.slowest = True

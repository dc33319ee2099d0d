"""Join-value routing for supplements (the stage keyed by e.g. trans_id).

Baseline events that carry a join value register "join value → session key"; supplements are forwarded to
every session key registered for their join value (the session stage does the exact interval check). A
supplement that arrives before any owner waits here; one that never finds an owner becomes an Orphan.
"""
from dataclasses import dataclass, field

from .records import Event
from .sessions import Late, Orphan, supplement_horizon
from .template import CompiledTemplate


@dataclass
class Routed:
    """A supplement addressed to a session key."""

    session_key: str
    event: Event


def routing_key(join_field: str, value: str) -> str:
    return f"{join_field}\x00{value}"


@dataclass
class JoinKeyState:
    """State for one join value: the session keys that own it and the supplements seen for it."""

    owners: dict[str, int] = field(default_factory=dict)  # session key -> latest baseline ts seen
    waiting: dict[str, Event] = field(default_factory=dict)
    forwarded: set[str] = field(default_factory=set)

    def on_baseline(self, session_key: str, ts: int) -> list[Routed]:
        """Remember the owner; hand it every supplement seen so far (duplicates are dropped downstream)."""
        new_owner = session_key not in self.owners
        self.owners[session_key] = max(ts, self.owners.get(session_key, ts))
        if not new_owner:
            return []
        self.forwarded.update(self.waiting)
        return [Routed(session_key, event) for event in self.waiting.values()]

    def on_supplement(self, tpl: CompiledTemplate, event: Event, watermark: int) -> list[Routed | Late]:
        """Forward to known owners; keep it for owners that register later. Too late → the late queue, whose
        replay finds the stored session through the join field even after this stage has forgotten it."""
        if event.uid in self.waiting:
            return []
        if supplement_horizon(tpl, event) <= watermark:
            return [Late(event, "supplement later than allowed_lateness")]
        self.waiting[event.uid] = event
        if self.owners:
            self.forwarded.add(event.uid)
        return [Routed(key, event) for key in self.owners]

    def expire(self, tpl: CompiledTemplate, watermark: int) -> list[Orphan]:
        """Forget what no on-time event can still need; supplements nobody claimed become orphans."""
        reach = self.reach(tpl)
        orphans = []
        for uid, event in list(self.waiting.items()):
            if event.ts + reach <= watermark:
                del self.waiting[uid]
                if uid not in self.forwarded:
                    join_field = tpl.nodes[event.node].join.on
                    orphans.append(Orphan(event, f"no baseline event carries {join_field}={event.join_key}"))
                self.forwarded.discard(uid)
        self.owners = {k: ts for k, ts in self.owners.items() if ts + reach > watermark}
        return orphans

    def next_timer(self, tpl: CompiledTemplate) -> int | None:
        reach = self.reach(tpl)
        times = [e.ts + reach for e in self.waiting.values()] + [ts + reach for ts in self.owners.values()]
        return min(times) if times else None

    @staticmethod
    def reach(tpl: CompiledTemplate) -> int:
        """How long after its time an owner or a waiting supplement is kept: an owner at `ts` is needed by a
        supplement at `ts + upper`, on time until `ts + upper - lower + gap + lateness`."""
        return max(tpl.max_join_reach_ms, tpl.join_hold_ms) + tpl.gap_ms + tpl.lateness_ms

    def is_empty(self) -> bool:
        return not self.waiting and not self.owners

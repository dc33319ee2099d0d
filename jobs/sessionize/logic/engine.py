"""In-memory correlation engine: the same stages as the Flink job, driven by a Python loop.

Used by tests (the reference result the Flink job must match), the wizard's preview and backtests, and
the late-data replay. Holds a `store` that applies emissions exactly like the database sink does.
"""
import heapq
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable

from .records import Event, Rejection, parse_line
from .router import JoinKeyState, routing_key
from .sessions import Emission, Late, Orphan, SessionKeyState
from .template import CompiledTemplate

END_OF_TIME = 2**62


@dataclass
class StoredSession:
    revision: int
    document: dict[str, Any]


@dataclass
class Correlator:
    template: CompiledTemplate
    keys: dict[str, SessionKeyState] = field(default_factory=dict)
    joins: dict[str, JoinKeyState] = field(default_factory=dict)
    store: dict[int, StoredSession] = field(default_factory=dict)
    rejected: list[Rejection] = field(default_factory=list)
    late: list[Late] = field(default_factory=list)
    orphans: list[Orphan] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)
    max_ts: int = -END_OF_TIME
    keep_emissions: bool = False  # keep every emission in order (what the job would send to its sink)
    emissions: list[Emission] = field(default_factory=list)
    # event-time timers like Flink's: (due, kind, key); stale entries are skipped when popped
    timers: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def watermark(self) -> int:
        return self.max_ts - self.template.out_of_orderness_ms

    def feed_lines(self, items: Iterable[tuple[str, str]]) -> None:
        """Feed (source, line) pairs in arrival order, advancing the watermark as a Flink source would."""
        for source, line in items:
            self.feed(source, line)

    def feed(self, source: str, line: str, origin: str = "") -> None:
        parsed = parse_line(self.template, source, line, origin)
        self.counts[(source, type(parsed).__name__)] += 1
        if isinstance(parsed, Rejection):
            self.rejected.append(parsed)
        elif isinstance(parsed, Event):
            self.add_event(parsed)
            self.advance(max(self.max_ts, parsed.ts))

    def add_event(self, event: Event) -> None:
        watermark = self.watermark
        if event.supplement:
            key = routing_key(self.template.nodes[event.node].join.on, event.join_key)
            for routed in self._join_state(key).on_supplement(self.template, event, watermark):
                if isinstance(routed, Late):
                    self.late.append(routed)
                else:
                    self._add_to_session(routed.session_key, routed.event, watermark)
            self._arm("join", key)
            return
        outputs = self._add_to_session(event.session_key, event, watermark)
        if any(isinstance(o, Late) for o in outputs):
            return
        for join_field, value in event.joins.items():
            key = routing_key(join_field, value)
            for routed in self._join_state(key).on_baseline(event.session_key, event.ts):
                self._add_to_session(routed.session_key, routed.event, watermark)
            self._arm("join", key)

    def _add_to_session(self, session_key: str, event: Event, watermark: int) -> list:
        outputs = self._key_state(session_key).add(self.template, event, watermark)
        self._apply(outputs)
        self._arm("session", session_key)
        return outputs

    def _arm(self, kind: str, key: str) -> None:
        state = self.keys.get(key) if kind == "session" else self.joins.get(key)
        if state is None:
            return
        due = state.next_event_timer(self.template) if kind == "session" else state.next_timer(self.template)
        if due is not None:  # like Flink, a timer at or before the watermark fires at the next advance
            heapq.heappush(self.timers, (max(due, self.watermark + 1), kind, key))

    def advance(self, max_ts: int) -> None:
        """Move the watermark and fire every timer that is due (event time)."""
        self.max_ts = max_ts
        watermark = self.watermark
        while self.timers and self.timers[0][0] <= watermark:
            _, kind, key = heapq.heappop(self.timers)
            if kind == "session" and key in self.keys:
                state = self.keys[key]
                self._apply(state.on_watermark(self.template, watermark))
                if state.is_empty():
                    del self.keys[key]
            elif kind == "join" and key in self.joins:
                join_state = self.joins[key]
                self.orphans.extend(join_state.expire(self.template, watermark))
                if join_state.is_empty():
                    del self.joins[key]
            self._arm(kind, key)

    def timeout(self) -> None:
        """What a processing-time timeout does: show open sessions provisionally."""
        for state in self.keys.values():
            self._apply(state.on_timeout(self.template, self.watermark))

    def finish(self) -> None:
        """End of bounded input: the watermark jumps to the end of time, closing everything."""
        self.max_ts = END_OF_TIME
        for state in list(self.keys.values()):
            self._apply(state.on_watermark(self.template, END_OF_TIME))
        for join_state in self.joins.values():
            self.orphans.extend(join_state.expire(self.template, END_OF_TIME))
        self.keys.clear()
        self.joins.clear()
        self.timers.clear()

    def _join_state(self, key: str) -> JoinKeyState:
        state = self.joins.get(key)
        if state is None:
            state = self.joins[key] = JoinKeyState()
        return state

    def _key_state(self, session_key: str) -> SessionKeyState:
        state = self.keys.get(session_key)
        if state is None:
            state = self.keys[session_key] = SessionKeyState(session_key)
        return state

    def _apply(self, outputs: list) -> None:
        for output in outputs:
            if isinstance(output, Emission):
                apply_emission(self.store, output)
                if self.keep_emissions:
                    self.emissions.append(output)
            elif isinstance(output, Late):
                self.late.append(output)
            elif isinstance(output, Orphan):
                self.orphans.append(output)


def apply_emission(store: dict[int, StoredSession], emission: Emission) -> bool:
    """Revision-guarded upsert with merge deletes: the contract the database sink implements in SQL."""
    uid = emission.document["uid"]
    current = store.get(uid)
    if current is not None and current.revision >= emission.revision:
        return False
    for gone in emission.replaces:
        stale = store.get(gone)
        if stale is not None and stale.revision < emission.revision:
            del store[gone]
    store[uid] = StoredSession(emission.revision, emission.document)
    # split halves point at each other even when the other half left the job's state long ago
    for side, neighbour in (("next_uid", emission.document.get("prev_uid")), ("prev_uid", emission.document.get("next_uid"))):
        if neighbour is not None and neighbour in store:
            store[neighbour].document = dict(store[neighbour].document, split=True, **{side: uid})
    return True

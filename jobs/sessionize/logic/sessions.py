"""Per-session-key state machine: gap clustering, supplement attachment, early fire, FIRE & UPDATE, close,
timeout, late detection and purge (SPEC §4). Driven by Flink's keyed function and by the pure engine alike.

Clusters are recomputed from the events held (sessions only ever merge as events arrive), so the final
sessions depend on the set of events, never on their arrival order within the watermark bound.
"""
from dataclasses import dataclass, field
from typing import Any

from .assemble import assemble, content_digest, session_uid
from .records import Event
from .template import CompiledTemplate


CAUSES = ("early_fire", "close", "timeout", "update", "merge", "late_replay")


@dataclass
class Emission:
    """A session revision to upsert; `replaces` lists rows made obsolete by a merge (to delete); `cause` says why
    it was emitted (one of CAUSES), for the session's revision history."""

    revision: int
    document: dict[str, Any]
    replaces: list[int]
    cause: str = "update"


@dataclass
class Late:
    """An event beyond `allowed_lateness`: goes to the late queue for replay against stored sessions."""

    event: Event
    reason: str


@dataclass
class Orphan:
    """A supplement that matched no baseline event within its interval before its horizon passed."""

    event: Event
    reason: str


@dataclass
class _Cluster:
    baseline: list[Event]
    supplements: list[Event] = field(default_factory=list)

    @property
    def first(self) -> int:
        return self.baseline[0].ts

    @property
    def last(self) -> int:
        return self.baseline[-1].ts


@dataclass
class _Emitted:
    first: int
    last: int
    digest: str
    signature: tuple = ()  # what the document was built from: unchanged inputs need no re-assembly
    closed: bool = False


@dataclass
class _Tombstone:
    uid: int
    first: int
    last: int


class SessionKeyState:
    """All sessions of one key that are still open, closing or recently purged."""

    def __init__(self, session_key: str):
        self.session_key = session_key
        self.baseline: dict[str, Event] = {}
        self.supplements: dict[str, Event] = {}
        self.emitted: dict[int, _Emitted] = {}
        self.tombstones: list[_Tombstone] = []
        self.revision = 0
        self.closed_until = -(2**62)  # clusters ending (last + gap) at or before this are closed

    # -- inputs -----------------------------------------------------------------------------------------
    def add(self, tpl: CompiledTemplate, event: Event, watermark: int) -> list[Emission | Late | Orphan]:
        """Add one event (baseline or already-routed supplement); emits at once when the rules say so."""
        if event.uid in self.baseline or event.uid in self.supplements:
            return []
        if event.supplement and supplement_horizon(tpl, event) <= watermark:
            # it arrived on time (the join stage checks that) but its owner registered after its horizon
            return [Orphan(event, f"no baseline event with {tpl.nodes[event.node].join.on}={event.join_key} within the join interval")]
        late = self._late_reason(tpl, event, watermark)
        if late:
            return [Late(event, late)]
        self.closed_until = max(self.closed_until, watermark)
        (self.supplements if event.supplement else self.baseline)[event.uid] = event
        return self._emit(tpl, watermark, timeout=False)

    def on_watermark(self, tpl: CompiledTemplate, watermark: int) -> list[Emission | Orphan]:
        """Close sessions whose gap has passed, expire unmatched supplements, purge finished state."""
        out: list[Emission | Orphan] = []
        self.closed_until = max(self.closed_until, watermark)
        out.extend(self._emit(tpl, watermark, timeout=False))
        out.extend(self._expire_supplements(tpl, watermark))
        self._purge(tpl, watermark)
        return out

    def on_timeout(self, tpl: CompiledTemplate, watermark: int) -> list[Emission]:
        """Processing-time timeout (quiet source): emit sessions not yet shown, provisionally."""
        return [e for e in self._emit(tpl, watermark, timeout=True) if isinstance(e, Emission)]

    def next_event_timer(self, tpl: CompiledTemplate) -> int | None:
        """Earliest watermark at which `on_watermark` has work: a close, a supplement expiry or a purge."""
        clusters = self._clusters(tpl)
        attached = {s.uid for c in clusters for s in c.supplements}
        times = [c.last + tpl.gap_ms for c in clusters if c.last + tpl.gap_ms > self.closed_until]
        times += [self._purge_at(tpl, c) for c in clusters]
        times += [supplement_horizon(tpl, s) for s in self.supplements.values() if s.uid not in attached]
        if self.tombstones and not self.baseline and not self.supplements:
            times.append(self._forget_at(tpl))
        return min(times) if times else None

    def is_empty(self) -> bool:
        return not self.baseline and not self.supplements and not self.tombstones

    # -- derivations ------------------------------------------------------------------------------------
    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "_cache"}  # the cache is derived: never stored

    def _clusters(self, tpl: CompiledTemplate) -> list[_Cluster]:
        """Sessions derived from the events held; cached until the event sets change (they are small sets,
        but this is asked several times per event)."""
        signature = (len(self.baseline), len(self.supplements), next(reversed(self.baseline), None), next(reversed(self.supplements), None))
        cache = getattr(self, "_cache", None)
        if cache is not None and cache[0] == signature:
            return cache[1]
        clusters = self._build_clusters(tpl)
        self._cache = (signature, clusters)
        return clusters

    def _build_clusters(self, tpl: CompiledTemplate) -> list[_Cluster]:
        clusters: list[_Cluster] = []
        for event in sorted(self.baseline.values(), key=lambda e: (e.ts, e.uid)):
            if clusters and event.ts - clusters[-1].last <= tpl.gap_ms:
                clusters[-1].baseline.append(event)
            else:
                clusters.append(_Cluster([event]))
        for supplement in sorted(self.supplements.values(), key=lambda e: (e.ts, e.uid)):
            target = _matching_cluster(tpl, clusters, supplement)
            if target is not None:
                target.supplements.append(supplement)
        return clusters

    def _neighbours(self, tpl: CompiledTemplate, clusters: list[_Cluster], index: int) -> tuple[int | None, int | None]:
        uids = [t.uid for t in self.tombstones] + [session_uid(tpl.name, self.session_key, c.first) for c in clusters]
        position = len(self.tombstones) + index
        prev_uid = uids[position - 1] if position > 0 else None
        next_uid = uids[position + 1] if position + 1 < len(uids) else None
        return prev_uid, next_uid

    def _emit(self, tpl: CompiledTemplate, watermark: int, timeout: bool) -> list[Emission]:
        out: list[Emission] = []
        clusters = self._clusters(tpl)
        for index, cluster in enumerate(clusters):
            closed = cluster.last + tpl.gap_ms <= self.closed_until
            prev_uid, next_uid = self._neighbours(tpl, clusters, index)
            uid = session_uid(tpl.name, self.session_key, cluster.first)
            merged = [u for u, e in self.emitted.items() if u != uid and e.last >= cluster.first and e.first <= cluster.last]
            previous = self.emitted.get(uid)
            fire = closed or previous or merged or timeout or _complete(tpl, cluster)
            if not fire:
                continue
            signature = (frozenset(e.uid for e in [*cluster.baseline, *cluster.supplements]), closed, prev_uid, next_uid)
            if previous and previous.signature == signature and not merged:
                continue  # nothing it depends on changed (the common case on watermark timers)
            document = assemble(tpl, self.session_key, cluster.baseline, cluster.supplements, closed, prev_uid, next_uid)
            digest = content_digest(document)
            if previous and previous.digest == digest and not merged:
                previous.signature = signature
                continue
            for gone in merged:
                del self.emitted[gone]
            self.revision += 1
            self.emitted[uid] = _Emitted(cluster.first, cluster.last, digest, signature, closed)
            out.append(Emission(self.revision, document, merged, _cause(previous, merged, closed, timeout)))
        return out

    # -- lifecycle --------------------------------------------------------------------------------------
    def _late_reason(self, tpl: CompiledTemplate, event: Event, watermark: int) -> str:
        if event.supplement:
            return ""
        if event.ts + tpl.gap_ms + tpl.lateness_ms <= watermark:
            return "event later than allowed_lateness"
        if self.tombstones and event.ts <= self.tombstones[-1].last + tpl.gap_ms:
            return "event belongs to a session already finalised"
        return ""


    def _expire_supplements(self, tpl: CompiledTemplate, watermark: int) -> list[Orphan]:
        attached = {s.uid for c in self._clusters(tpl) for s in c.supplements}
        orphans = []
        for uid, event in list(self.supplements.items()):
            if uid not in attached and supplement_horizon(tpl, event) <= watermark:
                del self.supplements[uid]
                orphans.append(Orphan(event, f"no baseline event with {tpl.nodes[event.node].join.on}={event.join_key} within the join interval"))
        return orphans

    @staticmethod
    def _purge_at(tpl: CompiledTemplate, cluster: "_Cluster") -> int:
        """A session is kept while a baseline event may still arrive on time (gap + lateness) and while a
        supplement may still join it (its horizon reaches join_hold_ms further); after that, late data is replayed."""
        return cluster.last + tpl.gap_ms + tpl.lateness_ms + tpl.join_hold_ms

    def _purge(self, tpl: CompiledTemplate, watermark: int) -> None:
        for cluster in self._clusters(tpl):
            if self._purge_at(tpl, cluster) > watermark:
                continue
            uid = session_uid(tpl.name, self.session_key, cluster.first)
            for event in [*cluster.baseline, *cluster.supplements]:
                (self.supplements if event.supplement else self.baseline).pop(event.uid, None)
            self.emitted.pop(uid, None)
            self.tombstones.append(_Tombstone(uid, cluster.first, cluster.last))
        if self.tombstones and not self.baseline and not self.supplements and self._forget_at(tpl) <= watermark:
            self.tombstones.clear()

    def _forget_at(self, tpl: CompiledTemplate) -> int:
        """Tombstones are kept long enough to link a crash-resumed session to its first half."""
        return self.tombstones[-1].last + 2 * (tpl.gap_ms + tpl.lateness_ms)


def _cause(previous: _Emitted | None, merged: list[int], closed: bool, timeout: bool) -> str:
    if merged:
        return "merge"
    if timeout and not closed:
        return "timeout"
    if closed and (previous is None or not previous.closed):
        return "close"
    return "update" if previous is not None else "early_fire"


def _complete(tpl: CompiledTemplate, cluster: _Cluster) -> bool:
    """Every complete_when node present: decided from node names alone, before any document is built."""
    present = {e.node for e in cluster.baseline} | {e.node for e in cluster.supplements}
    return all(name in present for name in tpl.complete_when)


def supplement_horizon(tpl: CompiledTemplate, event: Event) -> int:
    """After this watermark no baseline event that could match the supplement can still arrive on time."""
    join = tpl.nodes[event.node].join
    return event.ts - join.lower_ms + tpl.gap_ms + tpl.lateness_ms


def _matching_cluster(tpl: CompiledTemplate, clusters: list[_Cluster], supplement: Event) -> _Cluster | None:
    join = tpl.nodes[supplement.node].join
    for cluster in clusters:
        for base in cluster.baseline:
            if base.joins.get(join.on) == supplement.join_key and base.ts + join.lower_ms <= supplement.ts <= base.ts + join.upper_ms:
                return cluster
    return None

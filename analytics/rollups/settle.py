"""Which facts of a session the rollups hold: final sessions count at once, provisional ones once stable.

A provisional (open) session may be re-emitted several times within seconds; counting each revision would
make live charts flicker. Like the session-window stabilisation of seed 002, its new facts wait as *pending*
until no revision has changed them for `settle_ms`; a final revision (complete/closed) is applied at once.
"""
from dataclasses import dataclass, replace

from .contribution import DeltaBatch, SessionFacts

PROVISIONAL = "open"


@dataclass(frozen=True)
class Stored:
    """A session's row in analytics_session_contribution: what the rollups hold and what waits."""

    applied: SessionFacts | None = None
    pending: SessionFacts | None = None
    pending_since_ms: int | None = None


def on_revision(stored: Stored, new: SessionFacts, now_ms: int, settle_ms: int, batch: DeltaBatch) -> Stored:
    """A new revision of the session was written: apply it, or let it wait until it is stable."""
    if new.status != PROVISIONAL or settle_ms <= 0:
        batch.move(stored.applied, new)
        return Stored(applied=new)
    if new == stored.applied:
        return Stored(applied=stored.applied)  # back to what is counted: nothing waits any more
    if new == stored.pending:
        return stored  # unchanged facts (e.g. a new raw event that moved nothing): the clock keeps running
    return replace(stored, pending=new, pending_since_ms=now_ms)


def on_tick(stored: Stored, now_ms: int, settle_ms: int, batch: DeltaBatch) -> Stored:
    """Apply pending facts that have been stable for `settle_ms`."""
    if stored.pending is None or stored.pending_since_ms is None or now_ms - stored.pending_since_ms < settle_ms:
        return stored
    batch.move(stored.applied, stored.pending)
    return Stored(applied=stored.pending)


def on_removal(stored: Stored, batch: DeltaBatch) -> None:
    """The session was merged into another or superseded: whatever it counted is retracted."""
    batch.move(stored.applied, None)

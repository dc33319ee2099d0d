"""Stored sessions as the correlation code sees them, and writes through the job's own sink writer — so the late
replay and an analyst's merge produce revisions exactly like the job does (same assembly, same revision guard)."""
from typing import Iterable

from jobs.sessionize.logic.records import Event, parse_line
from jobs.sessionize.logic.template import CompiledTemplate
from jobs.sessionize.sink.dialects import connect
from jobs.sessionize.sink.writer import SessionWriter, WriteStats

from ..models import Session
from .sink_database import database_url_for_jobs


def stored_events(sessions: Iterable[Session], tpl: CompiledTemplate) -> list[Event]:
    """The events of stored sessions, re-parsed with `tpl` (a raw line the template no longer uses is left out)."""
    return [
        parsed
        for session in sessions
        for node in session.nodes.all()
        if node.source in tpl.sources and isinstance(parsed := parse_line(tpl, node.source, node.raw), Event)
    ]


def write(template_id: int, records: list) -> WriteStats:
    """Emissions, dead letters, late events or orphans, written in one batch like the job writes them."""
    dialect, factory = connect(database_url_for_jobs())
    writer = SessionWriter(template_id, dialect, factory)
    try:
        writer.write(records)
    finally:
        writer.close()
    return writer.stats

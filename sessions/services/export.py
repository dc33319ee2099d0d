"""CSV export of a search's result set: streamed row by row and bounded, so an export never holds a table in memory."""
import csv
from typing import Iterator

from django.conf import settings
from django.db.models import QuerySet

from .. import timefmt
from ..models import Session

CHUNK = 2000
HEADER = ["id", "start", "session_key", "template", "status", "primary_conclusion", "conclusions", "duration_ms",
          "completeness", "revision", "split"]


class _Echo:
    """csv.writer wants a file; this one hands each formatted line straight back."""

    def write(self, value: str) -> str:
        return value


def export_limit() -> int:
    return int(getattr(settings, "LUNA_EXPORT_MAX_ROWS", 100_000))


def csv_lines(sessions: QuerySet[Session], limit: int | None = None) -> Iterator[str]:
    """The header, up to `limit` rows in the search's order, then a note line when the limit cut the set short."""
    limit = export_limit() if limit is None else limit
    writer = csv.writer(_Echo())
    yield writer.writerow(HEADER)
    count = 0
    # One query (no OFFSET pages, which rescan the index); prefetches run per chunk of 2,000 rows.
    for session in sessions[: limit + 1].iterator(chunk_size=CHUNK):
        if count == limit:
            yield writer.writerow([f"# truncated at {limit} rows; narrow the search"])
            return
        count += 1
        yield writer.writerow(_row(session))


def _row(session: Session) -> list:
    names = ";".join(item.name for item in session.conclusions.all())
    return [session.pk, timefmt.iso(session.start_ms), _safe(session.session_key), session.template.name, session.status,
            session.primary_conclusion, names, session.duration_ms, session.completeness, session.revision, session.split]


def _safe(text: str) -> str:
    """Keep spreadsheet programs from running a key that starts like a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text

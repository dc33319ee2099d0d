"""Job errors: a record some function still failed on becomes a dead letter with a short traceback (SPEC §7).

Rules are total and parsing never raises, so this is the last guard, not the way errors are normally handled;
the Jobs page counts these dead letters per run.
"""
import json
import logging
import traceback
from typing import Any

from .records import Event, Rejection

JOB_ERROR = "job error"
log = logging.getLogger("luna.sessionize")


def job_error(record: Any, exc: BaseException, where: str) -> Rejection:
    """`record`: an Event, a (source, line, origin) row, or anything JSON can show (e.g. the key of a timer)."""
    frames = traceback.extract_tb(exc.__traceback__)[-3:]
    trail = " <- ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}" for f in reversed(frames))
    reason = f"{JOB_ERROR} in {where}: {type(exc).__name__}: {exc} [{trail}]"[:500]
    log.error("%s", reason)
    if isinstance(record, Event):
        return Rejection(record.source, reason, record.raw, record.origin)
    if isinstance(record, tuple) and len(record) >= 3 and isinstance(record[1], str):  # a source row (Flink's Row is a tuple)
        return Rejection(str(record[0]), reason, record[1], str(record[2] or ""))
    return Rejection("(job)", reason, json.dumps(record, default=str)[:100_000], where)

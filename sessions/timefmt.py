"""Epoch-ms ↔ datetime for display, total over every integer a column can hold.

A stored value outside Python's datetime range (years 1–9999) must not break a page that shows it: it is
rendered as the raw number instead. Inputs are bounded to `MAX_EPOCH_MS` so such values are not stored anew.
"""
from datetime import datetime, timedelta, timezone

MAX_EPOCH_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z, the last instant datetime can show
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def to_datetime(epoch_ms: int | float | str) -> datetime | None:
    """The UTC datetime of `epoch_ms`, or None when it has none (out of range, not a number)."""
    try:
        return _EPOCH + timedelta(milliseconds=int(epoch_ms))  # exact: no float division
    except (OverflowError, OSError, ValueError, TypeError):
        return None


def iso(epoch_ms: int | float | str | None) -> str | None:
    """ISO 8601 with ms and Z; the number itself when it is no datetime; None for None."""
    if epoch_ms is None or epoch_ms == "":
        return None
    moment = to_datetime(epoch_ms)
    if moment is None:
        return str(epoch_ms)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def readable(epoch_ms: int | float | str | None) -> str:
    """'2024-05-01 12:03:04.123Z'; the number itself when it is no datetime."""
    if epoch_ms is None or epoch_ms == "":
        return ""
    moment = to_datetime(epoch_ms)
    if moment is None:
        return f"{epoch_ms} ms (out of range)"
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"

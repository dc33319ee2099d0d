"""Event-time parsing for the `time.format` values of SPEC §2 → epoch milliseconds (UTC)."""
import math
from datetime import datetime, timedelta, timezone
from typing import Callable

TimeParser = Callable[[object], int]

# Epoch values must stay within what the datetime-based formats can express (years 1..9999).
_MAX_ABS_MS = 253_402_300_800_000


def parse_offset(tz: str | None) -> timezone:
    """'+08:00' / '-0530' / 'UTC' / None → a fixed offset (named zones are not accepted: logs carry offsets)."""
    if tz in (None, "", "UTC", "Z", "utc"):
        return timezone.utc
    text = tz.strip()
    if not text or text[0] not in "+-":
        raise ValueError(f"bad time zone {tz!r}: expected an offset like '+08:00'")
    digits = text[1:].replace(":", "")
    if len(digits) != 4 or not digits.isdigit() or int(digits[2:]) > 59:
        raise ValueError(f"bad time zone {tz!r}: expected an offset like '+08:00'")
    delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return timezone(delta if text[0] == "+" else -delta)


def _to_ms(moment: datetime, default_tz: timezone) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=default_tz)
    return int(moment.timestamp() * 1000 + (0.5 if moment.timestamp() >= 0 else -0.5))


def make_time_parser(fmt: str, tz: str | None = None) -> TimeParser:
    """Build a parser once per source; it raises ValueError for a value it cannot read."""
    default_tz = parse_offset(tz)
    if fmt == "epoch_ms":
        return lambda value: int(_in_range(_number(value), value))
    if fmt == "epoch_s":
        return lambda value: int(round(_in_range(_number(value) * 1000, value)))
    if fmt == "iso8601":
        def parse_iso(value: object) -> int:
            if not isinstance(value, str):
                raise ValueError(f"expected an ISO-8601 string, got {value!r}")
            return _to_ms(datetime.fromisoformat(value.replace("Z", "+00:00")), default_tz)
        return parse_iso
    if "%" not in fmt:
        raise ValueError(f"bad time format {fmt!r}: use epoch_s, epoch_ms, iso8601 or a strftime pattern")

    def parse_pattern(value: object) -> int:
        if not isinstance(value, str):
            raise ValueError(f"expected a time string matching {fmt!r}, got {value!r}")
        return _to_ms(datetime.strptime(value, fmt), default_tz)
    return parse_pattern


def _number(value: object) -> float:
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        return float(value)
    raise ValueError(f"expected a number, got {value!r}")


def _in_range(ms: float, value: object) -> float:
    if not math.isfinite(ms) or abs(ms) >= _MAX_ABS_MS:
        raise ValueError(f"time {value!r} is out of range")
    return ms

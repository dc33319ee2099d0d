"""Start-time buckets in a chosen time zone, as either arithmetic or a list of boundaries (DST-exact).

Arithmetic `floor((t + offset) / size) * size - offset` is exact whenever every UTC offset met in the range is
congruent modulo the bucket size (always for minutes; for hours in whole-hour zones; for days and weeks only
without a DST change in range). Otherwise, and always for months, the bucket starts are computed here with
zoneinfo and the SQL picks one with a CASE over them (bound parameters).
"""
import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

MINUTE, HOUR, DAY = 60_000, 3_600_000, 86_400_000
SIZES = {"minute": MINUTE, "hour": HOUR, "day": DAY, "week": 7 * DAY}
WEEK_SHIFT = 3 * DAY  # 1970-01-01 was a Thursday: +3 days puts week starts on Mondays
MAX_BOUNDARIES = 1000


class BucketError(ValueError):
    """The range holds too many buckets of this granularity for this time zone."""


@dataclass(frozen=True)
class Bucketing:
    size_ms: int | None = None  # arithmetic buckets when set
    offset_ms: int = 0
    boundaries: tuple[int, ...] = ()  # otherwise: UTC starts of consecutive buckets, the first ≤ since

    def start_of(self, t: int) -> int:
        """The bucket start of `t` (what the SQL computes), for tests and the click-through URLs."""
        if self.size_ms:
            return (t + self.offset_ms) // self.size_ms * self.size_ms - self.offset_ms
        return max(b for b in self.boundaries if b <= t)

    def end_of(self, start: int) -> int:
        if self.size_ms:
            return start + self.size_ms
        later = [b for b in self.boundaries if b > start]
        return later[0] if later else start + 31 * DAY

    def nests(self, grain_ms: int) -> bool:
        """True when every bucket is a union of whole UTC grain buckets (rollups of that grain can answer)."""
        if self.size_ms:
            return self.size_ms % grain_ms == 0 and self.offset_ms % grain_ms == 0
        return all(b % grain_ms == 0 for b in self.boundaries)


FIXED_ZONES = frozenset({"UTC", "Etc/UTC", "Etc/GMT", "GMT", "Etc/Universal", "Universal", "Zulu", "Etc/Zulu"})


def offsets(zone: str, since_ms: int, until_ms: int) -> set[int]:
    """UTC offsets (ms) met in [since, until], sampled hourly (zone changes are never closer than that). UTC has
    one, known without sampling: 90 days of hourly samples cost ~4 ms of every UTC query's planning."""
    if zone in FIXED_ZONES:
        return {0}
    tz = ZoneInfo(zone)
    found, t = set(), since_ms
    while True:
        moment = dt.datetime.fromtimestamp(t / 1000, dt.timezone.utc)
        found.add(int(tz.utcoffset(moment).total_seconds() * 1000))
        if t >= until_ms:
            return found
        t = min(t + HOUR, until_ms)


def bucketing(granularity: str, zone: str, since_ms: int, until_ms: int) -> Bucketing:
    seen = offsets(zone, since_ms, until_ms)
    if granularity != "month":
        size = SIZES[granularity]
        shift = WEEK_SHIFT if granularity == "week" else 0
        if len({(o + shift) % size for o in seen}) == 1:
            return Bucketing(size_ms=size, offset_ms=(next(iter(seen)) + shift) % size)
    return Bucketing(boundaries=_boundaries(granularity, ZoneInfo(zone), since_ms, until_ms))


def _boundaries(granularity: str, tz: ZoneInfo, since_ms: int, until_ms: int) -> tuple[int, ...]:
    local = dt.datetime.fromtimestamp(since_ms / 1000, tz)
    day = local.date()
    if granularity == "month":
        day = day.replace(day=1)
    elif granularity == "week":
        day -= dt.timedelta(days=day.weekday())
    elif granularity in ("hour", "minute"):  # only reached in zones with sub-hour DST shifts (rare): use days' hours
        return _fine_boundaries(SIZES[granularity], tz, since_ms, until_ms)
    starts: list[int] = []
    while True:
        start = int(dt.datetime(day.year, day.month, day.day, tzinfo=tz).timestamp() * 1000)
        if start >= until_ms:
            return tuple(starts)
        starts.append(start)
        if len(starts) > MAX_BOUNDARIES:
            raise BucketError(f"too many {granularity} buckets in this range for {tz.key}; choose a coarser granularity")
        day = _next(granularity, day)


def _next(granularity: str, day: dt.date) -> dt.date:
    if granularity == "month":
        return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return day + dt.timedelta(days=7 if granularity == "week" else 1)


def _fine_boundaries(size: int, tz: ZoneInfo, since_ms: int, until_ms: int) -> tuple[int, ...]:
    if (until_ms - since_ms) // size > MAX_BOUNDARIES:
        raise BucketError(f"too many buckets in this range for {tz.key}; choose a coarser granularity")
    starts, t = [], since_ms
    while t < until_ms:
        offset = int(tz.utcoffset(dt.datetime.fromtimestamp(t / 1000, dt.timezone.utc)).total_seconds() * 1000)
        start = (t + offset) // size * size - offset
        if not starts or start > starts[-1]:
            starts.append(start)
        t = start + size
    return tuple(starts)

"""Rendering of times and records in the sources' text formats (the hot path of line generation)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta

from .catalog import BILLING_OFFSET_MS, DAY, HOUR, MINUTE

_EPOCH = datetime(1970, 1, 1)


# -- time rendering (cached per second: strftime is the costliest part of a line) ------------------------
class _Clock:
    """Renders epoch ms in the sources' text formats; the date part is cached per day (strftime is slow)."""

    def __init__(self):
        self._days: dict[int, str] = {}

    def day(self, local_ms: int) -> str:
        """'YYYY-MM-DD' of a local-time epoch ms."""
        day = local_ms // DAY
        text = self._days.get(day)
        if text is None:
            if len(self._days) > 4096:
                self._days.clear()
            text = self._days[day] = (_EPOCH + timedelta(days=day)).strftime("%Y-%m-%d")
        return text

    def _clock(self, local_ms: int) -> str:
        sec, milli = divmod(local_ms % DAY, 1000)
        minutes, sec = divmod(sec, 60)
        return f"{minutes // 60:02d}:{minutes % 60:02d}:{sec:02d}.{milli:03d}"

    def billing(self, ms: int) -> str:
        """'%Y-%m-%d %H:%M:%S.%f' in +08:00."""
        local = ms + BILLING_OFFSET_MS
        return f"{self.day(local)} {self._clock(local)}000"

    def iso(self, ms: int, offset: str) -> str:
        """ISO-8601 with milliseconds and the given offset ('Z' or '+08:00')."""
        local = ms
        if offset != "Z":
            shift = int(offset[1:3]) * HOUR + int(offset[4:6]) * MINUTE
            local += shift if offset[0] == "+" else -shift
        return f"{self.day(local)}T{self._clock(local)}{offset}"


def _dumps(record: dict) -> str:
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False)

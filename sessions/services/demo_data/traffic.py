"""When orders happen: creation times that follow the day's traffic curve, and the streamed backlog."""
from __future__ import annotations

import bisect
import random
from typing import Any, Iterator

from .catalog import BILLING_OFFSET_MS, HOUR, HOURLY_WEIGHT, LOOKBACK_MS
from .simulator import PaymentFlowSimulator


# -- creation times ---------------------------------------------------------------------------------------
class _DiurnalTime:
    """Maps [0, 1) onto [start, end) so that uniform inputs follow the day's traffic curve (+08:00 hours)."""

    def __init__(self, start_ms: int, end_ms: int):
        bounds, weights = [start_ms], []
        t = start_ms
        while t < end_ms:
            local_hour_start = ((t + BILLING_OFFSET_MS) // HOUR) * HOUR - BILLING_OFFSET_MS
            nxt = min(end_ms, local_hour_start + HOUR)
            weights.append(HOURLY_WEIGHT[((t + BILLING_OFFSET_MS) // HOUR) % 24] * (nxt - t))
            bounds.append(nxt)
            t = nxt
        self.bounds = bounds
        self.cum = [0.0]
        for w in weights:
            self.cum.append(self.cum[-1] + w)
        self.total = self.cum[-1]

    def __call__(self, u: float) -> int:
        target = u * self.total
        i = min(max(bisect.bisect_right(self.cum, target) - 1, 0), len(self.bounds) - 2)
        span = self.cum[i + 1] - self.cum[i]
        frac = (target - self.cum[i]) / span if span else 0.0
        return int(self.bounds[i] + frac * (self.bounds[i + 1] - self.bounds[i]))


def creation_times(rng: random.Random, n: int, start_ms: int, end_ms: int) -> Iterator[int]:
    """`n` sorted creation times over [start, end), streamed (sorted uniforms by the descending-product method)."""
    if n <= 0:
        return
    warp = _DiurnalTime(start_ms, end_ms) if end_ms > start_ms else (lambda u: start_ms)
    top = 1.0
    for k in range(n, 0, -1):
        top *= rng.random() ** (1.0 / k)  # the largest of k uniforms below `top`
        yield min(end_ms, warp(1.0 - top))


def backlog(
    orders: int,
    seed: int,
    start_ms: int,
    end_ms: int,
    **options: Any,
) -> Iterator[tuple[str, Any]]:
    """Stream a backlog: ("lines", [(source index, line), ...]) chunks in per-source arrival order,
    ("order", manifest entry) and ("malformed", {"malformed": kind, "source", "raw"}) items.
    No line is timed after `end_ms`. Ends with ("stats", Stats)."""
    sim = PaymentFlowSimulator(seed, **options)
    times_rng = random.Random(f"times:{seed}")
    for created in creation_times(times_rng, orders, start_ms, end_ms):
        chunk = sim.release(created - LOOKBACK_MS)
        if chunk:
            yield "lines", chunk
        yield "order", sim.add_order(created, latest_ms=end_ms)
        for bad in sim.take_malformed():
            yield "malformed", bad
    yield "lines", sim.drain()
    yield "stats", sim.stats

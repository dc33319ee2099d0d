"""Log-scale latency histogram: fixed bucket edges, so histograms of any rows merge by adding counts.

Bucket 0 holds durations below 1 ms; bucket i (1..BUCKETS-2) holds [GROWTH**(i-1), GROWTH**i) ms; the last
bucket is everything above (about 44 h). A percentile read from it is the bucket's geometric middle, within
±16 % of the exact value — what lets p95 over 90 days come from rollup rows instead of sessions.
"""
import math
from typing import Sequence

BUCKETS = 64
GROWTH = 1.35
_LOG = math.log(GROWTH)


def column(index: int) -> str:
    """Column name of a histogram bucket in the rollup table."""
    return f"h{index:02d}"


COLUMNS = tuple(column(i) for i in range(BUCKETS))


def bucket_of(duration_ms: float) -> int:
    if duration_ms < 1:
        return 0
    # The small epsilon keeps exact powers (e.g. 1.35**k) in their own bucket despite float rounding.
    return min(BUCKETS - 1, 1 + int(math.floor(math.log(duration_ms) / _LOG + 1e-9)))


def bounds(index: int) -> tuple[float, float]:
    """[low, high) of a bucket in ms."""
    if index == 0:
        return 0.0, 1.0
    return GROWTH ** (index - 1), (GROWTH ** index if index < BUCKETS - 1 else math.inf)


def representative(index: int) -> float:
    low, high = bounds(index)
    if index == 0:
        return 0.0
    return low * GROWTH if math.isinf(high) else math.sqrt(low * high)


def percentile(counts: Sequence[int], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100) of the merged histogram; None when it is empty."""
    total = sum(counts)
    if total <= 0:
        return None
    rank = max(1, math.ceil(p / 100 * total))
    seen = 0
    for index, count in enumerate(counts):
        seen += count
        if seen >= rank:
            return round(representative(index), 1)
    return round(representative(len(counts) - 1), 1)

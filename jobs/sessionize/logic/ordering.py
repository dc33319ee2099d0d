"""The reference engine's input ordering: per-source line streams interleaved as per-source watermarks would
deliver them. Dry runs, backtests and the demo data's checks feed `engine.Correlator` in this order."""
import heapq
import json
from typing import Iterable, Iterator

from .records import dig
from .template import CompiledTemplate


def merge_in_time_order(template: CompiledTemplate, streams: dict[str, Iterable[str]]) -> Iterator[tuple[str, str]]:
    """Interleave per-source line streams the way per-source watermarks would: always take the source whose
    next line is earliest. Disorder of the result is bounded by the worst disorder within one source.
    A line without a readable time takes the time of the last readable line of its source."""
    def timed(name: str, lines: Iterable[str]) -> Iterator[tuple[int, str]]:
        src = template.sources[name]
        last = -(2**62)
        for raw in lines:
            line = raw.rstrip("\n")
            try:
                last = src.parse_time(dig(json.loads(line), src.time_path))
            except Exception:  # malformed: keep its position in the file
                pass
            yield last, line

    iterators = {name: timed(name, lines) for name, lines in streams.items()}
    heap = []
    order = {name: i for i, name in enumerate(streams)}
    for name, it in iterators.items():
        head = next(it, None)
        if head is not None:
            heap.append((head[0], order[name], name, head[1]))
    heapq.heapify(heap)
    while heap:
        _, rank, name, line = heap[0]
        yield name, line
        head = next(iterators[name], None)
        if head is None:
            heapq.heappop(heap)
        else:
            heapq.heapreplace(heap, (head[0], rank, name, head[1]))

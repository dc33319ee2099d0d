"""Double-buffered sink state: the operator keeps taking records while the previous batch is written.

WriteBatches' records wait in keyed ListState. Written synchronously, a batch held the operator's task thread
for its whole transaction (row building, binding and every round trip to the database), so the operator took no
input meanwhile and assembly upstream stalled on back-pressure. Here each key has two lists: records go to the
*open* one; a flush hands the open list's records to one writer thread and opens the other list. The handed-over
list is cleared only after its transaction committed, so a checkpoint taken meanwhile still holds it, and a
restore writes it again before the newer list (the sink's revision guard makes that re-write change nothing).
At most one batch is in flight: the next flush waits for it, which is the back-pressure.

Flink state may only be touched on the task thread, with the key the call is for: the writer thread only
writes to the database; completions are collected on the task thread when that key is current again.
"""
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable

from ..profiling import OperatorProfile


@dataclass
class _InFlight:
    future: Future
    buffer: int  # which of the key's two lists holds the batch until it commits


class PipelinedBuffers:
    """Two ListStates and a ValueState (which list is open) per key, one writer thread for all keys."""

    def __init__(self, lists: list[Any], open_index: Any, write: Callable[[list], None], profile_name: str):
        self.lists, self.open_index, self.write = lists, open_index, write
        self.opened: dict[int, int] = {}  # key → its open list, once read from state (a state read is ~30 µs)
        self.in_flight: dict[int, _InFlight] = {}
        self.profile = OperatorProfile(profile_name)
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="luna-sink", initializer=self.profile.start)

    def add(self, key: int, value: Any) -> None:
        self.reap(key)
        self.lists[self._open(key)].add(value)

    def flush(self, key: int, wait: bool = False) -> None:
        """Hand the key's open list to the writer (after the key's previous batch committed); `wait`: until written."""
        index = self._open(key)
        self.reap(key, wait=True)
        values = list(self.lists[index].get() or [])
        if values:
            self._switch(key, 1 - index)
            self.in_flight[key] = _InFlight(self.executor.submit(self.write, values), index)
        if wait:
            self.reap(key, wait=True)

    def reap(self, key: int, wait: bool = False) -> None:
        """Clear the key's written batch (its commit is durable); a failed write raises here, on the task thread."""
        flight = self.in_flight.get(key)
        if flight is None or not (wait or flight.future.done()):
            return
        flight.future.result()  # the writer's error fails the task: Flink restarts from the checkpoint
        self.lists[flight.buffer].clear()
        del self.in_flight[key]

    def close(self) -> None:
        """Let a batch in flight finish (a bounded run's last one was waited for already)."""
        self.executor.submit(self.profile.stop)
        self.executor.shutdown(wait=True)

    def _open(self, key: int) -> int:
        index = self.opened.get(key)
        if index is None:  # first use of the key by this instance (e.g. after a restore)
            index = self.open_index.value() or 0
            self.opened[key] = index
            left = list(self.lists[1 - index].get() or [])
            if left:  # a batch in flight when the checkpoint was taken: older than the open list, so written first
                self.in_flight[key] = _InFlight(self.executor.submit(self.write, left), 1 - index)
        return index

    def _switch(self, key: int, index: int) -> None:
        self.opened[key] = index
        self.open_index.update(index)

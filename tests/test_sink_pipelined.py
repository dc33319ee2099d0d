"""The sink's double buffer, on fake Flink state: a batch leaves the state only after its write returned, a
checkpoint taken meanwhile still holds it, and a restore writes it again before anything newer."""
import copy
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.sessionize.sink.pipelined import PipelinedBuffers


class FakeKeyedState:
    """ListState / ValueState of one key (the tests use one key per PipelinedBuffers call)."""

    def __init__(self, value=None):
        self.items = value

    # ListState
    def add(self, value):
        self.items = (self.items or []) + [value]

    def get(self):
        return iter(self.items or [])

    def clear(self):
        self.items = None

    # ValueState
    def value(self):
        return self.items

    def update(self, value):
        self.items = value


def buffers(write, state=None):
    """PipelinedBuffers over fake state; `state` restores a checkpoint (a deep copy of another instance's)."""
    lists, open_index = state or ([FakeKeyedState(), FakeKeyedState()], FakeKeyedState())
    return PipelinedBuffers(lists, open_index, write, "test-sink-writer")


def checkpoint(pipeline: PipelinedBuffers):
    return copy.deepcopy((pipeline.lists, pipeline.open_index))


def stored(pipeline: PipelinedBuffers) -> list:
    return [item for state in pipeline.lists for item in (state.items or [])]


def test_a_batch_leaves_the_state_only_after_it_was_written():
    started, release, written = threading.Event(), threading.Event(), []

    def write(values):
        started.set()
        release.wait(5)
        written.append(values)

    pipeline = buffers(write)
    pipeline.add(0, "a")
    pipeline.add(0, "b")
    pipeline.flush(0)
    assert started.wait(5)
    pipeline.add(0, "c")  # the operator keeps taking records while the batch is written
    assert sorted(stored(pipeline)) == ["a", "b", "c"]
    release.set()
    pipeline.flush(0, wait=True)
    assert written == [["a", "b"], ["c"]]
    assert stored(pipeline) == []
    pipeline.close()


def test_a_restore_writes_the_batch_in_flight_at_the_checkpoint_before_the_newer_records():
    release, written = threading.Event(), []

    def slow(values):
        release.wait(5)
        written.append(values)

    first = buffers(slow)
    first.add(0, "a")
    first.flush(0)
    first.add(0, "b")
    state = checkpoint(first)  # taken while ["a"] is still being written
    release.set()
    first.close()

    replayed = []
    second = buffers(replayed.append, state)
    second.flush(0, wait=True)  # e.g. the restored flush timer
    assert replayed == [["a"], ["b"]]  # "a" again (the revision guard makes that harmless), then the newer "b"
    assert stored(second) == []
    second.close()


def test_a_failed_write_fails_the_task_thread_and_keeps_the_batch():
    def fail(values):
        raise RuntimeError("database refused")

    pipeline = buffers(fail)
    pipeline.add(0, "a")
    pipeline.flush(0)
    with pytest.raises(RuntimeError, match="database refused"):
        pipeline.flush(0, wait=True)
    assert stored(pipeline) == ["a"]  # still in the state: the restore writes it
    pipeline.close()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.just("flush"), st.just("restore"), st.integers(0, 99)), max_size=40))
def test_every_record_is_written_in_order_whatever_the_flushes_and_restores(steps):
    """Written order with repeats removed is the order records came in; nothing is left once the end is flushed."""
    written: list = []
    pipeline = buffers(lambda values: written.extend(values))
    sent = []
    for number, step in enumerate(steps):
        if step == "flush":
            pipeline.flush(0)
        elif step == "restore":  # a checkpoint taken now, then a crash: what the writer did after it is kept
            state = checkpoint(pipeline)
            pipeline.close()
            pipeline = buffers(lambda values: written.extend(values), state)
        else:
            record = (number, step)
            sent.append(record)
            pipeline.add(0, record)
    pipeline.flush(0, wait=True)
    pipeline.close()
    first_seen = list(dict.fromkeys(written))
    assert first_seen == sent
    assert stored(pipeline) == []

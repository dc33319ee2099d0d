"""RevisionBatches.java, called through the Py4J gateway (no Flink job): which revisions of a batch it passes on to
assembly, and the sink partition it batches a row under (the whole job: test_job_end_to_end and the kill test).

The fold must keep what the sink keeps of the same batch (writer.newest_per_session: per session, the highest
revision, the first of equals) in the batch's order, and pass late events, orphans and job errors untouched."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.sessionize.functions import SinkPartition, WriteBatches, end_of_batch, sink_record
from jobs.sessionize.jvm.functions import AssembleRevisions
from jobs.sessionize.logic.sessions import Emission, Late
from jobs.sessionize.logic.records import Event
from tests.flows import demo_document
from tests.jvm_bridge import jvm_package
from tests.test_functions import FakeContext


@pytest.fixture(scope="module")
def package():
    return jvm_package()


def java_rows(rows: list[tuple]):
    from pyflink.java_gateway import get_gateway
    from pyflink.util.java_utils import to_jarray

    gateway = get_gateway()
    listed = gateway.jvm.java.util.ArrayList()
    for row in rows:
        listed.add(gateway.jvm.org.apache.flink.types.Row.of(to_jarray(gateway.jvm.Object, list(row))))
    return listed


def emission_row(key: str, revision: int, first: int, tag: int) -> tuple:
    return ("E", key, f"E\t{revision}\tupdate\t0\t{first}\t\t\t\t\tu{tag}", b"")


ROWS = st.lists(
    st.one_of(
        st.builds(emission_row, st.sampled_from(["o1", "o2", "o3"]), st.integers(1, 4), st.sampled_from([10, 20]), st.integers(0, 10**6)),
        st.builds(lambda uid: ("L", "o1", f"L\t{uid}\tlate", b""), st.sampled_from(["a1", "b2"])),
        st.just(("J", None, "job error in SessionFunction: x", b"")),
    ),
    max_size=30,
)


def sink_keeps(rows: list[tuple]) -> list[tuple]:
    """The sink's rule, in Python: per (key, first), the first row of the highest revision."""
    best: dict[tuple, int] = {}
    for i, (kind, key, header, _) in enumerate(rows):
        if kind == "E":
            parts = header.split("\t")
            session, revision = (key, parts[4]), int(parts[1])
            if session not in best or int(rows[best[session]][2].split("\t")[1]) < revision:
                best[session] = i
    return [row for i, row in enumerate(rows) if row[0] != "E" or best[(row[1], row[2].split("\t")[4])] == i]


@settings(max_examples=60, deadline=None)
@given(rows=ROWS)
def test_a_batch_keeps_each_sessions_newest_revision_in_order_and_everything_else(package, rows):
    kept = package.RevisionBatches.newest(java_rows(rows))
    assert [row.getField(2) for row in kept] == [row[2] for row in sink_keeps(rows)]


def test_a_row_is_batched_under_the_partition_the_sink_gives_what_it_becomes(package):
    event = Event("billing", "order", 1, "o7", None, {}, {}, "{}", "ab12cd")
    for partitions in (1, 2, 3, 4):
        python = SinkPartition(partitions)
        for key in ("o7", "order-ü-42", ""):
            row = java_rows([emission_row(key, 1, 10, 0)]).get(0)
            assert package.RevisionBatches.partition(row, partitions) == python.of(Emission(1, {"session_key": key}, []))
        late = java_rows([("L", "o7", f"L\t{event.uid}\tlate by 5 s", b"")]).get(0)
        assert package.RevisionBatches.partition(late, partitions) == python.of(Late(event, "late"))
        error = java_rows([("J", None, "job error", b"")]).get(0)
        assert package.RevisionBatches.partition(error, partitions) == 0


def test_the_end_of_a_batch_reaches_the_sink_as_its_partition_alone():
    function = AssembleRevisions(demo_document(), 1, SinkPartition(4))
    function.open(None)
    assert function.process_element(("F", None, "3", b""), FakeContext()) == [end_of_batch(3)] == [b"\x00\x03"]
    assert SinkPartition(4)(end_of_batch(3)) == 3


class Buffer(list):
    """A ListState over a list."""

    def add(self, value):
        self.append(value)

    def get(self):
        return list(self)


class Timers:
    def register_processing_time_timer(self, at):
        pass

    def current_processing_time(self):
        return 0


class Context:
    def timer_service(self):
        return Timers()


def test_the_sink_writes_its_batch_on_the_end_of_batch_record_not_on_its_timer():
    sink = WriteBatches(1, "sqlite://", flush_rows=1000, flush_interval_ms=60_000)
    sink.buffer, sink.pending, written = Buffer(), {}, []
    sink.writer = type("Writer", (), {"write": lambda self, batch: written.append(batch)})()
    first, second = Emission(1, {"uid": 1, "session_key": "o1"}, []), Emission(2, {"uid": 1, "session_key": "o1"}, [])
    for record in (sink_record(first), sink_record(second)):
        assert sink.process_element(record, Context()) == []
    assert written == []
    sink.process_element(end_of_batch(0), Context())
    assert written == [[first, second]] and sink.buffer == [] and sink.pending == {}
    sink.process_element(end_of_batch(0), Context())  # nothing buffered: nothing written
    assert len(written) == 1


def test_a_backfill_batches_longer_than_a_live_run_so_more_revisions_fold():
    from jobs.sessionize.config import JobConfig
    from jobs.sessionize.pipeline import batching

    live = JobConfig(template={}, template_id=1, version=1, database_url="", data_dir="", flush_interval_ms=100)
    assert batching(live) == (1000, 100), "a live run's freshness: the sink's own flush settings"
    backfill = JobConfig(template={}, template_id=1, version=1, database_url="", data_dir="", bounded=True)
    assert batching(backfill) == (5000, 5000)

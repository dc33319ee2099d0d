"""The Python ends of the JVM design, called directly: ParseRows' rows for the Java stages and AssembleRevisions'
decoding of what the Java stages emit (the Java side itself: test_jvm_machine; the whole job: test_job_end_to_end)."""
import pickle
import struct

from jobs.sessionize.functions import sink_item
from jobs.sessionize.jvm.functions import AssembleRevisions, ParseRows
from jobs.sessionize.logic.records import Rejection
from jobs.sessionize.logic.sessions import Emission, Late
from tests.flows import T0, demo_document, order_line, verified_line
from tests.test_functions import FakeContext


def rows(line: tuple[str, str]) -> list:
    function = ParseRows(demo_document(), 1)
    function.open(None)
    return list(function.process_element((line[0], line[1], "file:/x"), FakeContext()))


def packed(*events) -> bytes:
    blobs = [pickle.dumps(e) for e in events]
    return b"".join(struct.pack(">i", len(b)) + b for b in blobs)


def assembled(row: tuple) -> list:
    function = AssembleRevisions(demo_document(), 1)
    function.open(None)
    return [sink_item(item) for item in function.process_element(row, FakeContext())]  # SINK_BYTES


def test_a_baseline_event_becomes_a_row_keyed_by_its_join_value_with_the_pickled_event():
    [row] = rows(verified_line(T0, "o1", "t1"))
    route, kind, uid, node, ts, session_key, join_key, joins, supplement, payload, out = row
    assert (route, kind, node, ts, session_key, join_key, joins, supplement, out) == (
        "trans_id\x00t1", "baseline", "verified", T0, "o1", None, {"trans_id": "t1"}, False, None)
    assert pickle.loads(payload).uid == uid


def test_a_bad_line_still_goes_to_the_rejected_side_output():
    [(tag, rejection)] = rows(("billing", "{not json"))
    assert tag.tag_id == "rejected" and isinstance(rejection, Rejection)


def test_a_revision_row_is_assembled_into_the_document_python_would_store():
    [order_row] = rows(order_line(T0, "o1"))
    event = pickle.loads(order_row[9])
    header = f"E\t1\tclose\t1\t{T0}\t\t\t\t{event.uid}\t"
    [emission] = assembled(("E", "o1", header, packed(event)))
    assert isinstance(emission, Emission) and (emission.revision, emission.cause, emission.replaces) == (1, "close", [])
    assert emission.document["status"] == "closed" and [n["uid"] for n in emission.document["nodes"]] == [event.uid]


def test_late_rows_keep_their_reason_and_job_errors_become_dead_letters():
    [order_row] = rows(order_line(T0, "o1"))
    event = pickle.loads(order_row[9])
    [late] = assembled(("L", "o1", f"L\t{event.uid}\tline one\\nline two \\\\ end", packed(event)))
    assert late == Late(event, "line one\nline two \\ end")
    [error] = assembled(("J", None, "job error in SessionFunction: boom [k]", b""))
    assert isinstance(error, Rejection) and error.reason.startswith("job error")
    [broken] = assembled(("E", "o1", "E\tnot a revision", b""))
    assert isinstance(broken, Rejection) and "AssembleRevisions" in broken.reason


def test_a_line_classified_in_sql_is_rebuilt_from_its_text_payload():
    """SqlRows' payload (`T` source, node, ts, line, origin): the event Python's parser makes of the same line."""
    source, line = order_line(T0, "o1")
    [order_row] = rows((source, line))
    event = pickle.loads(order_row[9])
    text = "\x1f".join(["Tbilling", "order", str(T0), line.strip(), "file:/x"]).encode()
    header = f"E\t1\tclose\t1\t{T0}\t\t\t\t{event.uid}\t"
    [emission] = assembled(("E", "o1", header, struct.pack(">i", len(text)) + text))
    [expected] = assembled(("E", "o1", header, packed(event)))
    assert emission == expected

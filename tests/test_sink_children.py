"""A session's child rows are rewritten by difference: what is stored after each revision is exactly what the
revision shows (as if written afresh), and rows that did not change are not rewritten."""
import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobs.sessionize.logic.sessions import Emission
from jobs.sessionize.sink.rows import conclusion_rows, field_rows, node_rows, rule_error_rows
from sessions.models import SessionConclusion, SessionField, SessionNode, SessionRuleError

pytestmark = pytest.mark.django_db(transaction=True)
TEMPLATE_ID = 7  # the sink_writer fixture's
NODES = [("order", "billing", False), ("pay_page", "client", True), ("verified", "channel", False), ("delivery", "gamesvr", True)]
_uids = itertools.count(5000)


def document(uid: int, nodes: list[int], values: dict, conclusions: list[str], errors: list[str], start: int = 1000) -> dict:
    events = [{"node": NODES[i][0], "seq": seq, "source": NODES[i][1], "ts": start + 10 * i + seq, "supplement": NODES[i][2],
               "uid": f"{i}{seq}".ljust(24, "x"), "raw": f'{{"n":{i},"s":{seq}}}'} for seq, i in enumerate(nodes)]
    return {
        "uid": uid, "session_key": f"k-{uid}", "start_ms": start, "end_ms": start + 100, "duration_ms": 100, "status": "open",
        "completeness": 0.5, "primary_conclusion": conclusions[0] if conclusions else "", "split": False, "prev_uid": None,
        "next_uid": None, "nodes": events, "fields": {name: vs[0] for name, vs in values.items() if vs},
        "values": [[name, v, "order"] for name, vs in values.items() for v in vs],
        "conclusions": [{"name": c, "label": c.title(), "severity": "high"} for c in conclusions],
        "rule_errors": [{"rule": r, "message": f"{r} failed"} for r in errors],
    }


def stored(uid: int) -> dict:
    return {name: sorted(rows, key=repr) for name, rows in {
        "fields": list(SessionField.objects.filter(session_id=uid).values_list("name", "str_value", "num_value", "node")),
        "nodes": list(SessionNode.objects.filter(session_id=uid).values_list("node", "seq", "source", "event_ms", "supplement", "event_uid", "raw")),
        "conclusions": list(SessionConclusion.objects.filter(session_id=uid).values_list("name", "label", "severity", "start_ms")),
        "errors": list(SessionRuleError.objects.filter(session_id=uid).values_list("rule", "message", "start_ms")),
    }.items()}


def shown(doc: dict) -> dict:
    return {name: sorted(rows, key=repr) for name, rows in {
        "fields": list(r[2:] for r in field_rows(TEMPLATE_ID, doc)),
        "nodes": list((*r[1:5], bool(r[5]), *r[6:]) for r in node_rows(doc)),
        "conclusions": list(r[2:] for r in conclusion_rows(TEMPLATE_ID, doc)),
        "errors": list(r[2:] for r in rule_error_rows(TEMPLATE_ID, doc)),
    }.items()}


def test_a_revision_that_adds_a_node_keeps_the_unchanged_rows_and_drops_what_went(sink_writer):
    uid = next(_uids)
    sink_writer.write([Emission(1, document(uid, [0, 2], {"channel": ["wechat"], "amount": [6.5]}, ["lost_order"], []), [])])
    kept_node = SessionNode.objects.get(session_id=uid, node="order").pk
    kept_field = SessionField.objects.get(session_id=uid, name="channel").pk
    later = document(uid, [0, 2, 3], {"channel": ["wechat"], "amount": [6.5], "device": ["Pixel 8"]}, ["delivered"], [])
    sink_writer.write([Emission(2, later, [])])
    assert stored(uid) == shown(later)
    assert SessionNode.objects.get(session_id=uid, node="order").pk == kept_node
    assert SessionField.objects.get(session_id=uid, name="channel").pk == kept_field


_documents = st.builds(
    lambda nodes, values, conclusions, errors, start: (nodes, values, conclusions, errors, start),
    st.lists(st.integers(0, 3), min_size=1, max_size=5),
    st.dictionaries(st.sampled_from(["channel", "amount", "device"]),
                    st.lists(st.one_of(st.sampled_from(["wechat", "alipay", "é"]), st.integers(-3, 3), st.booleans()), max_size=3),
                    max_size=3),
    st.lists(st.sampled_from(["lost_order", "delivered", "abandoned"]), unique=True, max_size=2),
    st.lists(st.sampled_from(["fields.x.expr", "conclusions.y.when"]), max_size=2),
    st.sampled_from([1000, 1000, 2000]),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(revisions=st.lists(_documents, min_size=1, max_size=4))
def test_after_every_revision_the_stored_rows_are_exactly_the_revisions_rows(sink_writer, revisions):
    uid = next(_uids)
    for number, parts in enumerate(revisions, start=1):
        doc = document(uid, *parts)
        sink_writer.write([Emission(number, doc, [])])
        assert stored(uid) == shown(doc)

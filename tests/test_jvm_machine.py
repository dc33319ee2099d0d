"""One meaning, proven twice: the JVM session and join-value machines (jobs/sessionize/jvm/src) against the Python
reference (SessionKeyState / JoinKeyState), driven by the same Correlator through the Py4J gateway (no Flink job)
with the same hypothesis histories; every emission, late event, orphan and stored document must be identical.

Two kinds of history: the demo flows of the property tests (realistic orders, out of order within the bound,
duplicates, crash-length pauses, timeouts), and synthetic ones on a template with second-scale durations whose
event times sit on the edges: the gap, the join interval's bounds, the lateness and the purge horizon.
"""
import hashlib
import os
import pickle

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobs.sessionize.jvm import rules_spec
from jobs.sessionize.logic.engine import Correlator
from jobs.sessionize.logic.records import Event
from jobs.sessionize.logic.template import compile_template
from tests.flows import T0, demo_template, mutated
from tests.jvm_bridge import jvm_correlator, jvm_package
from tests.test_logic_properties import flows_and_arrivals

EXAMPLES = settings(max_examples=int(os.environ.get("LUNA_PROPERTY_EXAMPLES", "60")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def package():
    return jvm_package()


def _small(doc):
    doc["session"].update(gap="10s", allowed_lateness="20s", out_of_orderness="5s", timeout="1s")
    for node in doc["nodes"]:
        if node["name"] == "callback":
            node["join"].update(lower="-3s", upper="+7s")
        if node["name"] == "delivery":
            node["join"].update(lower="0s", upper="+15s")


SMALL = compile_template(mutated(_small), version=3)
S = 1000
OOO = SMALL.out_of_orderness_ms
# where a new baseline event sits from an earlier one of its key: on either side of the gap (10 s), or close by
BASE_STEPS = [0, 1, -1, 2 * S, -2 * S, 10 * S - 1, 10 * S, 10 * S + 1, -10 * S, -10 * S - 1, 20 * S + 1]
# where a supplement sits from a baseline event carrying its join value: on either side of its interval's bounds
BOUNDS = {"callback": [-3 * S - 1, -3 * S, 0, 7 * S, 7 * S + 1], "delivery": [-1, 0, 5 * S, 15 * S, 15 * S + 1]}
# where the watermark lands from an event: its close (gap), its lateness (gap + 20 s), a callback's horizon
# (+ 3 s), its purge (+ 15 s hold), the join reach, forgetting tombstones (2 × (gap + lateness))
HORIZONS = [10 * S, 30 * S, 33 * S, 45 * S, 60 * S]
BASELINE_NODES = ["order", "pay_page", "voucher", "verified"]


def _event(number: int, node: str, ts: int, key: str | None, trans_id: str | None, result: str) -> Event:
    uid = hashlib.blake2b(str(number).encode(), digest_size=12).hexdigest()
    supplement = node in ("callback", "delivery")
    values = {"trans_id": trans_id} if trans_id else {}
    if not supplement:
        values.update(order_id=key, type=node, result=result, amount=6.0)
    joins = {} if supplement or not trans_id else {"trans_id": trans_id}
    return Event("s", node, ts, None if supplement else key, trans_id if supplement else None, joins, values,
                 f"line {number}", uid, "", supplement)


@st.composite
def edge_histories(draw):
    """Steps: ('event', Event) | ('advance', max_ts) | ('timeout',) | ('restore',). Each time is placed on an edge of an earlier
    event's: clusters touch or just miss, supplements sit on their interval's bounds (before or after their
    owner arrives), the watermark lands on a close, lateness, horizon or purge, so some events come late."""
    steps, events, max_ts = [], [], T0
    for number in range(draw(st.integers(1, 30))):
        kind = draw(st.sampled_from(["base"] * 4 + ["supplement"] * 3 + ["duplicate", "advance", "advance", "timeout", "restore"]))
        baseline = [e for e in events if not e.supplement]
        anchor = draw(st.sampled_from(baseline)) if baseline else None
        if kind == "duplicate" and events:
            steps.append(("event", draw(st.sampled_from(events))))
            continue
        if kind in ("timeout", "restore"):
            steps.append((kind,))
            continue
        if kind == "advance" and events:
            target = draw(st.sampled_from(events)).ts + OOO + draw(st.sampled_from(HORIZONS)) + draw(st.sampled_from([-1, 0, 0, 1]))
            max_ts = max(max_ts, target)
            steps.append(("advance", max_ts))
            continue
        result = draw(st.sampled_from(["OK", "ERR"]))
        if kind == "supplement":
            node = draw(st.sampled_from(["callback", "delivery"]))
            trans_id = (anchor.joins.get("trans_id") if anchor else None) or draw(st.sampled_from(["J0", "J1"]))
            ts = (anchor.ts if anchor else T0) + draw(st.sampled_from(BOUNDS[node]))
            event = _event(number, node, ts, None, trans_id, result)
        else:
            key = anchor.session_key if anchor and draw(st.booleans()) else draw(st.sampled_from(["K0", "K0", "K1"]))
            ts = (anchor.ts if anchor else T0) + draw(st.sampled_from(BASE_STEPS))
            event = _event(number, draw(st.sampled_from(BASELINE_NODES)), ts, key, draw(st.sampled_from(["J0", "J0", "J1", None])), result)
        events.append(event)
        max_ts = max(max_ts, event.ts)
        steps.append(("event", event))
    return steps, draw(st.booleans())


def _run(corr: Correlator, steps, finish: bool) -> Correlator:
    for step in steps:
        if step[0] == "event":
            corr.add_event(step[1])
            corr.advance(max(corr.max_ts, step[1].ts))
        elif step[0] == "advance":
            corr.advance(max(corr.max_ts, step[1]))
        elif step[0] == "restore":
            restore(corr)
        else:
            corr.timeout()
    if finish:
        corr.finish()
    return corr


def restore(corr: Correlator) -> None:
    """Every key's state as a checkpoint restore gives it back: pickled (the Python job's ValueState) or through
    Flink's serializer (the Java functions' state)."""
    for states in (corr.keys, corr.joins):
        for key, state in states.items():
            if hasattr(state, "restore"):
                state.restore()
            else:
                states[key] = pickle.loads(pickle.dumps(state))


def _assert_same(reference: Correlator, jvm: Correlator) -> None:
    assert jvm.emissions == reference.emissions
    assert jvm.late == reference.late
    assert jvm.orphans == reference.orphans
    assert {u: (s.revision, s.document) for u, s in jvm.store.items()} == {u: (s.revision, s.document) for u, s in reference.store.items()}
    assert sorted(jvm.keys) == sorted(reference.keys) and sorted(jvm.joins) == sorted(reference.joins)
    for key, state in reference.keys.items():
        assert jvm.keys[key].next_event_timer(SMALL) == state.next_event_timer(SMALL)


@EXAMPLES
@given(edge_histories())
def test_edge_histories_emit_the_same_revisions(package, history):
    steps, finish = history
    reference = _run(Correlator(SMALL, keep_emissions=True), steps, finish)
    jvm = _run(jvm_correlator(package, SMALL), steps, finish)
    _assert_same(reference, jvm)


@EXAMPLES
@given(flows_and_arrivals(), st.data())
def test_demo_flows_with_timeouts_emit_the_same_revisions(package, case, data):
    _, arrival = case
    stalls = set(data.draw(st.lists(st.integers(0, len(arrival)), max_size=4), label="timeouts after line"))
    correlators = [Correlator(demo_template(), keep_emissions=True), jvm_correlator(package, demo_template())]
    for corr in correlators:
        for index, (source, text) in enumerate(arrival):
            if index in stalls:
                corr.timeout()
            corr.feed(source, text)
        corr.finish()
    _assert_same(*correlators)


def test_the_rules_spec_carries_every_node_and_duration():
    spec = rules_spec(SMALL).splitlines()
    assert spec[:6] == ["gap 10000", "lateness 20000", "hold 15000", "reach 15000", "timeout 1000", "complete order verified callback delivery"]
    assert "node callback supplement one trans_id -3000 7000" in spec and "node delivery supplement many trans_id 0 15000" in spec
    assert "version 3" in spec


def test_a_merge_of_two_sessions_is_one_revision_that_replaces_the_other(package):
    steps = [("event", _event(1, "order", T0, "K0", None, "OK")), ("timeout",),
             ("event", _event(2, "verified", T0 + 20 * S, "K0", None, "OK")), ("timeout",),
             ("event", _event(3, "pay_page", T0 + 10 * S, "K0", None, "OK"))]
    reference = _run(Correlator(SMALL, keep_emissions=True), steps, finish=True)
    jvm = _run(jvm_correlator(package, SMALL), steps, finish=True)
    _assert_same(reference, jvm)
    # the second event's watermark closes the first session; the third, still on time, bridges the two
    assert [e.cause for e in jvm.emissions] == ["timeout", "update", "close", "timeout", "merge", "close"]
    assert jvm.emissions[4].replaces == [jvm.emissions[3].document["uid"]] != [jvm.emissions[4].document["uid"]]

"""Property tests: the stored sessions depend on the set of lines, not on arrival order within the watermark's
bound, on duplicates (at-least-once shipping) or on replays (a restarted source re-reading from any point).

LUNA_PROPERTY_EXAMPLES=2000 runs a deeper search than the default 60 examples per property.
"""
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobs.sessionize.logic.engine import Correlator
from jobs.sessionize.logic.records import Event, parse_line
from tests.flows import (
    MINUTE,
    T0,
    callback_line,
    client_line,
    correlate,
    delivery_line,
    demo_template,
    documents,
    order_line,
    pay_page_line,
    verified_line,
    voucher_line,
)

TPL = demo_template()
BOUND = TPL.out_of_orderness_ms
PROPERTY_SETTINGS = settings(max_examples=int(os.environ.get("LUNA_PROPERTY_EXAMPLES", "60")), deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _pause(draw):
    """Mostly a few seconds to minutes between steps; sometimes a crash-length pause beyond the gap.

    Two pauses in a row stay below gap + allowed_lateness (2h20m): a crash-resume that far apart is linked to its
    first half only if it arrives before that half is purged, which depends on arrival order (the known open
    problem pinned by the xfail tests in test_logic_sessions.py).
    """
    if draw(st.integers(0, 7)) == 0:
        return draw(st.integers(19 * MINUTE, 60 * MINUTE))
    return draw(st.integers(0, 3 * MINUTE))


@st.composite
def timed_lines(draw):
    """Several orders, each with random steps, delays, resumed attempts, supplements and noise → (ts, line)."""
    timed = []
    for number in range(draw(st.integers(1, 4))):
        order_id = f"O{number}"
        clock = T0 + draw(st.integers(0, 40 * MINUTE))
        trans_id = f"T{number}"
        for attempt in range(draw(st.integers(1, 2))):
            if attempt:
                clock += _pause(draw)
                if draw(st.booleans()):
                    trans_id = f"T{number}-{attempt}"
            carriers = []
            for step in ("order", "pay_page", "voucher", "verified"):
                if not draw(st.booleans()) and not (attempt == 0 and step == "order"):
                    continue
                if step == "order" and attempt:
                    continue
                clock += _pause(draw)
                if step == "order":
                    timed.append((clock, order_line(clock, order_id, amount=draw(st.sampled_from([6.0, 30.0])))))
                elif step == "pay_page":
                    timed.append((clock, pay_page_line(clock, order_id)))
                elif step == "voucher":
                    timed.append((clock, voucher_line(clock, order_id, trans_id)))
                    carriers.append(clock)
                else:
                    result = draw(st.sampled_from(["OK", "OK", "SIGN_ERR"]))
                    timed.append((clock, verified_line(clock, order_id, trans_id, result)))
                    carriers.append(clock)
            anchor = carriers[-1] if carriers else clock
            if draw(st.booleans()):
                ts = anchor + draw(st.integers(-7 * MINUTE, 35 * MINUTE))
                timed.append((ts, callback_line(ts, trans_id, draw(st.sampled_from(["SUCCESS", "RETRY"])))))
            for copy in range(draw(st.integers(0, 2))):
                ts = anchor + draw(st.integers(-2 * MINUTE, 125 * MINUTE))
                timed.append((ts, delivery_line(ts, trans_id, role=f"r{copy}")))
    for _ in range(draw(st.integers(0, 2))):  # noise the correlation must not care about
        ts = T0 + draw(st.integers(0, 60 * MINUTE))
        timed.append((ts, draw(st.sampled_from([client_line(ts, "O0", "login"), ("billing", "{not json"), ("channel", "[]")]))))
    for index in draw(st.lists(st.integers(0, len(timed) - 1), max_size=4)):  # shipped twice, adjacent in time
        timed.append(timed[index])
    return timed


def time_ordered(timed):
    return [line for _, line in sorted(timed, key=lambda item: item[0])]


@st.composite
def flows_and_arrivals(draw):
    """A flow plus one arrival order in which every line is displaced from time order by less than the bound."""
    timed = draw(timed_lines())
    jitter = draw(st.lists(st.integers(0, BOUND - 1), min_size=len(timed), max_size=len(timed)))
    arrival = [line for _, _, line in sorted(((ts + j, i, line) for i, ((ts, line), j) in enumerate(zip(timed, jitter))))]
    return timed, arrival


def outcome(lines):
    corr = correlate(lines)
    return corr, documents(corr)


def orphaned(corr):
    return sorted({orphan.event.uid for orphan in corr.orphans})


@PROPERTY_SETTINGS
@given(flows_and_arrivals())
def test_arrival_order_within_the_bound_does_not_change_the_stored_sessions(case):
    timed, arrival = case
    reference, expected = outcome(time_ordered(timed))
    corr, actual = outcome(arrival)
    assert actual == expected
    assert sorted(item.event.uid for item in corr.late) == sorted(item.event.uid for item in reference.late)
    assert orphaned(corr) == orphaned(reference)


@PROPERTY_SETTINGS
@given(flows_and_arrivals(), st.data())
def test_duplicating_lines_never_changes_the_stored_sessions(case, data):
    _, arrival = case
    _, expected = outcome(arrival)
    with_duplicates = list(arrival)
    for index in data.draw(st.lists(st.integers(0, len(arrival) - 1), min_size=1, max_size=6), label="duplicated"):
        original = with_duplicates.index(arrival[index])
        position = data.draw(st.integers(original + 1, len(with_duplicates)), label="redelivered at")
        with_duplicates.insert(position, arrival[index])
    _, actual = outcome(with_duplicates)
    assert actual == expected


@PROPERTY_SETTINGS
@given(flows_and_arrivals(), st.data())
def test_a_replay_from_any_point_converges_to_the_same_stored_sessions(case, data):
    _, arrival = case
    _, expected = outcome(arrival)
    k = data.draw(st.integers(0, len(arrival)), label="replay from")
    _, actual = outcome(arrival + arrival[k:])
    assert actual == expected


@PROPERTY_SETTINGS
@given(flows_and_arrivals())
def test_stored_sessions_are_consistent(case):
    _, arrival = case
    corr, docs = outcome(arrival)
    uids = set(docs)
    events_seen = set()
    for uid, doc in docs.items():
        assert doc["uid"] == uid
        assert doc["status"] in ("complete", "closed"), "finish() leaves nothing open"
        assert doc["start_ms"] <= doc["end_ms"] and doc["duration_ms"] == doc["end_ms"] - doc["start_ms"]
        assert doc["split"] == (doc["prev_uid"] is not None or doc["next_uid"] is not None)
        for link in (doc["prev_uid"], doc["next_uid"]):
            assert link is None or link in uids
        if doc["next_uid"] is not None:
            following = docs[doc["next_uid"]]
            assert following["prev_uid"] == uid
            last_baseline = max(n["ts"] for n in doc["nodes"] if not n["supplement"])
            assert following["start_ms"] - last_baseline > TPL.gap_ms
        node_uids = [n["uid"] for n in doc["nodes"]]
        assert len(node_uids) == len(set(node_uids)), "a line counts once"
        assert not (events_seen & set(node_uids)), "an event belongs to one session"
        events_seen |= set(node_uids)
        assert (doc["status"] == "complete") == all(name in {n["node"] for n in doc["nodes"]} for name in TPL.complete_when)


@PROPERTY_SETTINGS
@given(flows_and_arrivals())
def test_every_accepted_event_is_stored_orphaned_or_late(case):
    _, arrival = case
    corr, docs = outcome(arrival)
    stored = {n["uid"] for doc in docs.values() for n in doc["nodes"]}
    orphans = {o.event.uid for o in corr.orphans}
    late = {item.event.uid for item in corr.late}
    parsed = [parse_line(TPL, source, text) for source, text in arrival]
    accepted = {p.uid for p in parsed if isinstance(p, Event)}
    kept_once = {p.uid for p in parsed if isinstance(p, Event) and p.node == "callback"}
    missing = accepted - stored - orphans - late
    # a second callback for the same session is dropped by design (single supplement keeps its first match)
    assert missing <= kept_once, f"events lost silently: {missing - kept_once}"
    assert stored.isdisjoint(orphans)


@PROPERTY_SETTINGS
@given(flows_and_arrivals(), st.data())
def test_processing_time_timeouts_never_change_the_final_sessions(case, data):
    _, arrival = case
    _, expected = outcome(arrival)
    stalls = set(data.draw(st.lists(st.integers(0, len(arrival)), max_size=5), label="timeouts after line"))
    corr = Correlator(TPL)
    for index, (source, text) in enumerate(arrival):
        if index in stalls:
            corr.timeout()
        corr.feed(source, text)
    if len(arrival) in stalls:
        corr.timeout()
    corr.finish()
    assert documents(corr) == expected

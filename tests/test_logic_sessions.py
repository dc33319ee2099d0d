"""Correlation semantics (SPEC §4) on the demo template, through the in-memory engine and the key state."""
import random

import pytest

from jobs.sessionize.logic.assemble import session_uid
from jobs.sessionize.logic.engine import END_OF_TIME, Correlator, StoredSession, apply_emission
from jobs.sessionize.logic.records import parse_line
from jobs.sessionize.logic.sessions import Emission, Late, SessionKeyState
from tests.flows import (
    HOUR,
    MINUTE,
    SECOND,
    T0,
    by_key,
    callback_line,
    client_line,
    correlate,
    delivery_line,
    demo_template,
    documents,
    in_time_order,
    node_names,
    only_session,
    order_line,
    pay_page_line,
    payment_flow,
    verified_line,
    voucher_line,
)

TPL = demo_template()
GAP = 20 * MINUTE
OOO = 30 * SECOND


def uid_of(key, first_ts):
    return session_uid("mobile-pay", key, first_ts)


def revisions(corr):
    return {uid: stored.revision for uid, stored in corr.store.items()}


def feed(corr, *lines):
    for source, text in lines:
        corr.feed(source, text)


def event(line):
    return parse_line(TPL, *line)


# -- early fire & FIRE/UPDATE ---------------------------------------------------------------------------------
def test_a_complete_flow_fires_before_the_session_closes():
    flow = in_time_order(payment_flow("O1", T0))
    corr = Correlator(TPL)
    feed(corr, *flow[:-1])
    assert corr.store == {}, "an incomplete, open session is not emitted"
    feed(corr, flow[-1])
    assert list(corr.store) == [uid_of("O1", T0)]
    stored = corr.store[uid_of("O1", T0)]
    assert stored.revision == 1
    doc = stored.document
    assert doc["status"] == "complete"
    assert doc["completeness"] == 1.0
    assert doc["primary_conclusion"] == "delivered"
    assert node_names(doc) == ["order", "pay_page", "voucher", "verified", "callback", "delivery"]
    assert (doc["start_ms"], doc["end_ms"], doc["duration_ms"]) == (T0, T0 + 55 * SECOND, 55 * SECOND)
    assert doc["fields"]["pay_ms"] == 45_000.0 and doc["fields"]["deliver_ms"] == 10_000.0
    assert doc["fields"]["channel"] == "alipay" and doc["fields"]["region"] == "cn-east"
    assert [n["supplement"] for n in doc["nodes"]] == [False, False, False, False, True, True]
    assert doc["split"] is False and doc["prev_uid"] is None and doc["next_uid"] is None


def test_a_complete_session_keeps_its_revision_when_it_closes_unchanged():
    corr = correlate(in_time_order(payment_flow("O1", T0)))
    assert revisions(corr) == {uid_of("O1", T0): 1}
    assert corr.store[uid_of("O1", T0)].document["status"] == "complete"


def test_a_second_delivery_emits_a_higher_revision_with_duplicate_delivery():
    corr = Correlator(TPL)
    feed(corr, *in_time_order(payment_flow("O1", T0)))
    first = corr.store[uid_of("O1", T0)].revision
    feed(corr, delivery_line(T0 + 10 * MINUTE, "T-O1", role="r2"))
    stored = corr.store[uid_of("O1", T0)]
    assert stored.revision > first
    doc = stored.document
    assert doc["primary_conclusion"] == "duplicate_delivery"
    assert doc["conclusions"][0] == {"name": "duplicate_delivery", "label": "Delivered more than once", "severity": "critical"}
    assert doc["fields"]["deliveries"] == 2.0
    assert [(n["node"], n["seq"]) for n in doc["nodes"] if n["node"] == "delivery"] == [("delivery", 0), ("delivery", 1)]
    assert doc["end_ms"] == T0 + 10 * MINUTE


def test_an_identical_line_counts_once_but_a_distinct_delivery_counts():
    flow = in_time_order(payment_flow("O1", T0))
    corr = Correlator(TPL)
    feed(corr, *flow)
    before = dict(revisions(corr))
    feed(corr, flow[-1], flow[-1], flow[0])  # at-least-once shipping: the same lines again
    assert revisions(corr) == before
    doc = only_session(corr, "O1")
    assert doc["fields"]["deliveries"] == 1.0 and doc["primary_conclusion"] == "delivered"
    feed(corr, delivery_line(T0 + 56 * SECOND, "T-O1"))  # a distinct second delivery a second later
    doc = only_session(corr, "O1")
    assert doc["fields"]["deliveries"] == 2.0 and doc["primary_conclusion"] == "duplicate_delivery"


def test_a_single_supplement_keeps_only_its_first_match():
    corr = correlate(in_time_order(payment_flow("O1", T0)) + [callback_line(T0 + 2 * MINUTE, "T-O1", status="RETRY")])
    doc = only_session(corr, "O1")
    callbacks = [n for n in doc["nodes"] if n["node"] == "callback"]
    assert len(callbacks) == 1 and callbacks[0]["ts"] == T0 + 50 * SECOND
    assert doc["fields"]["channel_status"] == "SUCCESS"


def test_conclusions_are_recomputed_on_every_revision():
    corr = Correlator(TPL)
    feed(corr, *in_time_order(payment_flow("O1", T0, steps=("order", "pay_page", "voucher", "verified", "callback"))))
    feed(corr, order_line(T0 + 30 * MINUTE, "O2"))  # the watermark passes O1's gap
    doc = only_session(corr, "O1")
    assert (doc["status"], doc["primary_conclusion"]) == ("closed", "lost_order")
    assert doc["completeness"] == 0.75
    revision = corr.store[doc["uid"]].revision
    feed(corr, delivery_line(T0 + 40 * MINUTE, "T-O1"))  # the game server delivers late, within +2h
    stored = corr.store[doc["uid"]]
    assert stored.revision > revision
    assert (stored.document["status"], stored.document["primary_conclusion"]) == ("complete", "delivered")
    assert "lost_order" not in [c["name"] for c in stored.document["conclusions"]]


def test_an_invalid_voucher_is_concluded():
    corr = correlate(in_time_order(payment_flow("O1", T0, steps=("order", "pay_page", "voucher", "verified"), result="SIGN_ERR")))
    doc = only_session(corr, "O1")
    assert doc["primary_conclusion"] == "invalid_voucher"
    assert doc["status"] == "closed"


# -- closing by gap -------------------------------------------------------------------------------------------
def test_the_gap_closes_an_abandoned_session():
    corr = Correlator(TPL)
    feed(corr, order_line(T0, "O1"), pay_page_line(T0 + 5 * SECOND, "O1"))
    last = T0 + 5 * SECOND
    feed(corr, order_line(last + GAP + OOO - 1, "O2"))  # watermark = last + gap - 1: not yet
    assert by_key(corr).get("O1") is None
    feed(corr, order_line(last + GAP + OOO, "O3"))  # watermark = last + gap: closed
    doc = only_session(corr, "O1")
    assert doc["status"] == "closed"
    assert doc["primary_conclusion"] == "abandoned"
    assert doc["completeness"] == 0.25
    assert corr.store[doc["uid"]].revision == 1


def test_events_within_the_gap_stay_in_one_session():
    corr = correlate([order_line(T0, "O1"), pay_page_line(T0 + GAP, "O1"), voucher_line(T0 + 2 * GAP, "O1", "T1")])
    doc = only_session(corr, "O1")
    assert node_names(doc) == ["order", "pay_page", "voucher"]
    assert doc["duration_ms"] == 2 * GAP


def test_finish_closes_every_open_session():
    corr = correlate([order_line(T0, "O1"), order_line(T0, "O2")], finish=False)
    assert corr.store == {}
    corr.finish()
    assert {d["session_key"]: d["status"] for d in documents(corr).values()} == {"O1": "closed", "O2": "closed"}
    assert corr.keys == {} and corr.joins == {}


# -- order independence (examples; the property tests generalise) ---------------------------------------------------
def test_out_of_order_input_within_the_bound_gives_the_same_result():
    timed = payment_flow("O1", T0) + payment_flow("O2", T0 + 20 * SECOND, steps=("order", "pay_page", "voucher", "verified"))
    ordered = correlate(in_time_order(timed))
    rng = random.Random(7)
    for _ in range(20):
        jittered = sorted(timed, key=lambda item: item[0] + rng.randrange(OOO))
        assert documents(correlate([line for _, line in jittered])) == documents(ordered)


def test_a_reversed_flow_inside_the_bound_is_the_same_session():
    timed = payment_flow("O1", T0, delays={"pay_page": 1000, "voucher": 2000, "verified": 3000, "callback": 4000, "delivery": 5000})
    forwards = correlate(in_time_order(timed))
    backwards = correlate([line for _, line in reversed(timed)])
    assert documents(backwards) == documents(forwards)
    assert only_session(backwards, "O1")["status"] == "complete"


# -- supplements ----------------------------------------------------------------------------------------------
def test_a_supplement_arriving_before_its_baseline_event_is_attached():
    corr = Correlator(TPL)
    feed(corr, order_line(T0, "O1"), pay_page_line(T0 + 10 * SECOND, "O1"))
    feed(corr, callback_line(T0 + 20 * SECOND, "T1"))  # nobody carries T1 yet: it waits in the join stage
    assert corr.store == {} and corr.orphans == []
    feed(corr, voucher_line(T0 + 30 * SECOND, "O1", "T1"), verified_line(T0 + 35 * SECOND, "O1", "T1"))
    feed(corr, delivery_line(T0 + 40 * SECOND, "T1"))
    doc = only_session(corr, "O1")
    assert doc["status"] == "complete"
    assert "callback" in node_names(doc)
    corr.finish()
    assert corr.orphans == []


def test_a_supplement_arriving_before_every_baseline_event_is_attached():
    corr = correlate([
        delivery_line(T0 + 50 * SECOND, "T1"),
        callback_line(T0 + 45 * SECOND, "T1"),
        order_line(T0 + 40 * SECOND, "O1"),
        verified_line(T0 + 45 * SECOND, "O1", "T1"),
    ])
    doc = only_session(corr, "O1")
    assert node_names(doc) == ["order", "verified", "callback", "delivery"]
    assert doc["status"] == "complete"
    assert corr.orphans == []


@pytest.mark.parametrize(
    ("offset", "attached"),
    [(-5 * MINUTE, True), (-5 * MINUTE - 1, False), (30 * MINUTE, True), (30 * MINUTE + 1, False), (-10 * MINUTE, False), (31 * MINUTE, False)],
)
def test_a_callback_is_attached_only_inside_its_interval(offset, attached):
    verified_at = T0 + 45 * SECOND
    timed = payment_flow("O1", T0, steps=("order", "pay_page", "verified"), trans_id="T1")
    timed.append((verified_at + offset, callback_line(verified_at + offset, "T1")))
    corr = correlate(in_time_order(timed))
    doc = only_session(corr, "O1")
    assert ("callback" in node_names(doc)) is attached
    if attached:
        assert corr.orphans == []
    else:
        assert doc["primary_conclusion"] == "lost_order"
        assert "callback_missing" in [c["name"] for c in doc["conclusions"]]
        assert [o.event.node for o in corr.orphans] == ["callback"]
        assert "trans_id=T1" in corr.orphans[0].reason


def test_the_interval_counts_from_any_baseline_event_carrying_the_join_value():
    voucher_at, verified_at = T0, T0 + 10 * MINUTE
    corr = correlate([
        order_line(T0 - MINUTE, "O1"),
        voucher_line(voucher_at, "O1", "T1"),
        callback_line(voucher_at - 4 * MINUTE, "T1"),  # -4m from the voucher, -14m from verification
        verified_line(verified_at, "O1", "T1"),
    ])
    assert "callback" in node_names(only_session(corr, "O1"))


def test_a_supplement_nobody_claims_becomes_an_orphan():
    corr = correlate([order_line(T0, "O1"), callback_line(T0, "T-unknown"), delivery_line(T0, "T-unknown")])
    assert sorted(o.event.node for o in corr.orphans) == ["callback", "delivery"]
    assert all("T-unknown" in o.reason for o in corr.orphans)
    assert node_names(only_session(corr, "O1")) == ["order"]


def test_an_orphan_is_reported_once_its_horizon_passes_not_at_the_end():
    corr = Correlator(TPL)
    feed(corr, order_line(T0, "O1"), callback_line(T0, "T-unknown"))
    feed(corr, order_line(T0 + 5 * HOUR, "O2"))
    assert [o.event.join_key for o in corr.orphans] == ["T-unknown"]
    assert all("T-unknown" not in key for key in corr.joins)


def test_one_trans_id_shared_by_two_orders_attaches_to_the_one_in_range():
    corr = correlate([
        verified_line(T0, "O1", "T1"),
        verified_line(T0 + 3 * HOUR, "O2", "T1"),
        delivery_line(T0 + 3 * HOUR + MINUTE, "T1"),
    ])
    assert "delivery" not in node_names(only_session(corr, "O1"))
    assert "delivery" in node_names(only_session(corr, "O2"))


# -- crash split ----------------------------------------------------------------------------------------------
def _assert_linked_split(corr, key):
    first, second = by_key(corr)[key]
    assert first["split"] is True and second["split"] is True
    assert first["next_uid"] == second["uid"] and second["prev_uid"] == first["uid"]
    assert first["prev_uid"] is None and second["next_uid"] is None
    return first, second


def test_the_same_order_after_the_gap_is_a_second_session_linked_to_the_first():
    timed = payment_flow("O1", T0, steps=("order", "pay_page"))
    timed += [(T0 + 45 * MINUTE, pay_page_line(T0 + 45 * MINUTE, "O1")),
              (T0 + 46 * MINUTE, voucher_line(T0 + 46 * MINUTE, "O1", "T1"))]
    corr = correlate(in_time_order(timed))
    first, second = _assert_linked_split(corr, "O1")
    assert (first["uid"], second["uid"]) == (uid_of("O1", T0), uid_of("O1", T0 + 45 * MINUTE))
    assert node_names(first) == ["order", "pay_page"] and node_names(second) == ["pay_page", "voucher"]


def test_a_split_detected_after_the_first_half_was_stored_updates_the_first_half():
    corr = Correlator(TPL)
    feed(corr, order_line(T0, "O1"), order_line(T0 + 30 * MINUTE, "O2"))
    assert only_session(corr, "O1")["split"] is False
    revision = corr.store[uid_of("O1", T0)].revision
    feed(corr, pay_page_line(T0 + 40 * MINUTE, "O1"))
    corr.finish()
    _assert_linked_split(corr, "O1")
    assert corr.store[uid_of("O1", T0)].revision > revision


def test_three_sessions_of_one_key_form_a_chain():
    corr = correlate([order_line(T0, "O1"), pay_page_line(T0 + HOUR, "O1"), pay_page_line(T0 + 2 * HOUR, "O1")])
    a, b, c = by_key(corr)["O1"]
    assert (a["prev_uid"], a["next_uid"]) == (None, b["uid"])
    assert (b["prev_uid"], b["next_uid"]) == (a["uid"], c["uid"])
    assert (c["prev_uid"], c["next_uid"]) == (b["uid"], None)
    assert all(d["split"] for d in (a, b, c))


def test_a_crash_resume_after_the_first_half_was_purged_still_links_back():
    corr = correlate([order_line(T0, "O1"), order_line(T0 + 150 * MINUTE, "O2"), pay_page_line(T0 + 3 * HOUR, "O1")])
    first, second = by_key(corr)["O1"]
    assert second["split"] is True and second["prev_uid"] == first["uid"]


def test_a_crash_resume_after_the_first_half_was_purged_marks_both_halves():
    corr = correlate([order_line(T0, "O1"), order_line(T0 + 150 * MINUTE, "O2"), pay_page_line(T0 + 3 * HOUR, "O1")])
    _assert_linked_split(corr, "O1")


def test_a_crash_resume_near_the_purge_horizon_does_not_depend_on_arrival_order():
    resume = pay_page_line(T0 + GAP + 2 * HOUR + 10 * SECOND, "O1")
    other = order_line(T0 + GAP + 2 * HOUR + 35 * SECOND, "O2")  # 25 s later: within the 30 s bound
    in_order = correlate([order_line(T0, "O1"), resume, other])
    displaced = correlate([order_line(T0, "O1"), other, resume])
    _assert_linked_split(in_order, "O1")
    assert documents(displaced) == documents(in_order)


# -- processing-time timeout ------------------------------------------------------------------------------------
def test_a_timeout_shows_an_open_session_provisionally_then_it_closes_with_a_higher_revision():
    corr = Correlator(TPL)
    feed(corr, order_line(T0, "O1"), pay_page_line(T0 + 5 * SECOND, "O1"))
    assert corr.store == {}
    corr.timeout()
    stored = corr.store[uid_of("O1", T0)]
    assert (stored.revision, stored.document["status"]) == (1, "open")
    corr.timeout()  # nothing changed: no new revision
    assert corr.store[uid_of("O1", T0)].revision == 1
    feed(corr, voucher_line(T0 + 10 * SECOND, "O1", "T1"))  # already shown: every change is emitted now
    stored = corr.store[uid_of("O1", T0)]
    assert (stored.revision, stored.document["status"]) == (2, "open")
    assert "voucher" in node_names(stored.document)
    feed(corr, order_line(T0 + HOUR, "O2"))
    stored = corr.store[uid_of("O1", T0)]
    assert (stored.revision, stored.document["status"]) == (3, "closed")


def test_a_timeout_without_open_sessions_emits_nothing():
    corr = Correlator(TPL)
    corr.timeout()
    feed(corr, *in_time_order(payment_flow("O1", T0)))
    before = revisions(corr)
    corr.timeout()
    assert revisions(corr) == before


# -- late data ------------------------------------------------------------------------------------------------
def test_late_data_within_allowed_lateness_updates_the_closed_session():
    corr = Correlator(TPL)
    feed(corr, order_line(T0, "O1"), order_line(T0 + HOUR, "O2"))
    revision = corr.store[uid_of("O1", T0)].revision
    feed(corr, pay_page_line(T0 + 2 * MINUTE, "O1"))
    stored = corr.store[uid_of("O1", T0)]
    assert stored.revision > revision
    assert node_names(stored.document) == ["order", "pay_page"]
    assert stored.document["status"] == "closed"
    assert corr.late == []


def test_an_event_beyond_allowed_lateness_goes_to_the_late_queue_not_the_store():
    corr = Correlator(TPL)
    feed(corr, order_line(T0, "O1"), order_line(T0 + 3 * HOUR, "O2"))
    before = documents(corr)
    late_line = pay_page_line(T0 + MINUTE, "O1")
    feed(corr, late_line)
    assert documents(corr) == before
    assert [(item.event.node, item.event.raw) for item in corr.late] == [("pay_page", late_line[1])]
    assert "allowed_lateness" in corr.late[0].reason


def test_a_late_event_for_a_new_key_goes_to_the_late_queue():
    corr = Correlator(TPL)
    feed(corr, order_line(T0 + 3 * HOUR, "O2"), order_line(T0, "O9"))
    assert by_key(corr).get("O9") is None
    assert [item.event.session_key for item in corr.late] == ["O9"]


def test_a_late_supplement_goes_to_the_late_queue():
    corr = Correlator(TPL)
    feed(corr, *in_time_order(payment_flow("O1", T0, steps=("order", "verified"))))
    feed(corr, order_line(T0 + 3 * HOUR, "O2"))
    late_line = callback_line(T0 + 10 * MINUTE, "T-O1")  # horizon: ts + 5m + gap + lateness < watermark
    feed(corr, late_line)
    corr.finish()
    assert "callback" not in node_names(only_session(corr, "O1"))
    assert [(item.event.raw, item.reason) for item in corr.late] == [(late_line[1], "supplement later than allowed_lateness")]
    assert corr.orphans == []


def test_a_very_late_supplement_goes_to_the_late_queue_not_the_orphans():
    corr = Correlator(TPL)
    feed(corr, *in_time_order(payment_flow("O1", T0, steps=("order", "verified"))))
    feed(corr, order_line(T0 + 5 * HOUR, "O2"))
    feed(corr, delivery_line(T0 + 30 * MINUTE, "T-O1"))
    corr.finish()
    assert "delivery" not in node_names(only_session(corr, "O1"))
    assert [item.event.node for item in corr.late] == ["delivery"]
    assert corr.orphans == []


def test_an_on_time_supplement_claimed_too_late_is_an_orphan_not_late():
    corr = Correlator(TPL)
    feed(corr, order_line(T0, "O1"), delivery_line(T0, "T1"))
    feed(corr, order_line(T0 + 3 * HOUR, "O2"))  # moves the watermark past the delivery's horizon
    feed(corr, voucher_line(T0 + 3 * HOUR, "O2", "T1"))  # an unrelated order carrying the same trans_id much later
    corr.finish()
    assert corr.late == []
    assert [o.event.node for o in corr.orphans] == ["delivery"]


def test_the_key_state_reports_late_events():
    state = SessionKeyState("O1")
    out = state.add(TPL, event(order_line(T0, "O1")), watermark=T0 + GAP + 2 * HOUR)
    assert len(out) == 1 and isinstance(out[0], Late)
    assert out[0].reason == "event later than allowed_lateness"
    assert state.is_empty()


def test_an_event_inside_a_purged_session_is_late():
    state = SessionKeyState("O1")
    state.add(TPL, event(order_line(T0, "O1")), watermark=T0 - OOO)
    purge = T0 + GAP + 2 * HOUR + TPL.join_hold_ms  # kept while a delivery (up to +2h) may still join it
    state.on_watermark(TPL, purge - 1)
    assert state.baseline != {}
    state.on_watermark(TPL, purge)
    assert state.baseline == {} and len(state.tombstones) == 1
    out = state.add(TPL, event(pay_page_line(T0 + 10 * MINUTE, "O1")), watermark=T0 + GAP + 2 * HOUR - 10 * MINUTE)
    assert [type(o) for o in out] == [Late]
    assert out[0].reason == "event belongs to a session already finalised"


# -- storage never goes backwards ------------------------------------------------------------------------------------
def _emission(revision, uid=1, replaces=(), **extra):
    return Emission(revision, {"uid": uid, **extra}, list(replaces))


def test_storage_never_goes_backwards():
    store = {}
    assert apply_emission(store, _emission(2, status="closed")) is True
    assert apply_emission(store, _emission(1, status="open")) is False
    assert apply_emission(store, _emission(2, status="open")) is False
    assert store[1] == StoredSession(2, {"uid": 1, "status": "closed"})
    assert apply_emission(store, _emission(3, status="complete")) is True
    assert store[1].revision == 3 and store[1].document["status"] == "complete"


def test_a_merge_deletes_only_rows_older_than_itself():
    store = {2: StoredSession(1, {"uid": 2}), 3: StoredSession(9, {"uid": 3})}
    assert apply_emission(store, _emission(5, uid=1, replaces=[2, 3, 4]))
    assert sorted(store) == [1, 3]


def test_a_refused_emission_deletes_nothing():
    store = {1: StoredSession(5, {"uid": 1}), 2: StoredSession(1, {"uid": 2})}
    assert not apply_emission(store, _emission(4, uid=1, replaces=[2]))
    assert sorted(store) == [1, 2]


def test_revisions_of_one_key_only_grow():
    state = SessionKeyState("O1")
    seen = []
    watermark = T0 - OOO
    for line in in_time_order(payment_flow("O1", T0, steps=("order", "pay_page", "voucher"))):
        seen += [o.revision for o in state.add(TPL, event(line), watermark) if isinstance(o, Emission)]
        seen += [o.revision for o in state.on_timeout(TPL, watermark)]
    seen += [o.revision for o in state.on_watermark(TPL, END_OF_TIME) if isinstance(o, Emission)]
    assert seen == sorted(seen) and len(set(seen)) == len(seen) and seen


# -- merges ---------------------------------------------------------------------------------------------------
def test_an_event_bridging_two_sessions_merges_them_and_replaces_the_stale_row():
    corr = Correlator(TPL)
    feed(corr, order_line(T0, "O1"), pay_page_line(T0 + 30 * MINUTE, "O1"))
    corr.timeout()  # both halves are stored: the first closed, the second provisionally
    first, second = uid_of("O1", T0), uid_of("O1", T0 + 30 * MINUTE)
    assert sorted(corr.store) == sorted([first, second])
    assert corr.store[first].document["next_uid"] == second
    feed(corr, voucher_line(T0 + 15 * MINUTE, "O1", "T1"))  # late, within the lateness: bridges the gap
    assert list(corr.store) == [first]
    doc = corr.store[first].document
    assert node_names(doc) == ["order", "pay_page", "voucher"]
    assert doc["split"] is False and doc["next_uid"] is None
    corr.finish()
    assert list(corr.store) == [first]


def test_an_earlier_event_moves_the_session_start_and_replaces_the_row():
    corr = Correlator(TPL)
    feed(corr, pay_page_line(T0, "O1"))
    corr.timeout()
    assert list(corr.store) == [uid_of("O1", T0)]
    feed(corr, order_line(T0 - 10 * SECOND, "O1"))
    assert list(corr.store) == [uid_of("O1", T0 - 10 * SECOND)]
    assert corr.store[uid_of("O1", T0 - 10 * SECOND)].document["start_ms"] == T0 - 10 * SECOND


def test_the_merge_emission_lists_the_rows_it_replaces():
    state = SessionKeyState("O1")
    wm = T0 + 30 * MINUTE - OOO
    state.add(TPL, event(order_line(T0, "O1")), wm)
    state.add(TPL, event(pay_page_line(T0 + 30 * MINUTE, "O1")), wm)
    state.on_timeout(TPL, wm)
    out = state.add(TPL, event(voucher_line(T0 + 15 * MINUTE, "O1", "T1")), wm)
    assert len(out) == 1
    assert out[0].document["uid"] == uid_of("O1", T0)
    assert out[0].replaces == [uid_of("O1", T0 + 30 * MINUTE)]


# -- bookkeeping ---------------------------------------------------------------------------------------------
def test_rejected_and_ignored_lines_are_counted_not_correlated():
    corr = correlate([order_line(T0, "O1"), ("client", "{bad"), client_line(T0, "O1", "login"), ("channel", "[]")])
    assert corr.counts[("billing", "Event")] == 1
    assert corr.counts[("client", "Rejection")] == 1
    assert corr.counts[("client", "Ignored")] == 1
    assert corr.counts[("channel", "Rejection")] == 1
    assert [r.raw for r in corr.rejected] == ["{bad", "[]"]
    assert list(by_key(corr)) == ["O1"]


def test_finished_keys_are_forgotten_as_the_watermark_moves_on():
    corr = Correlator(TPL)
    feed(corr, *in_time_order(payment_flow("O1", T0)))
    assert "O1" in corr.keys and corr.joins
    feed(corr, order_line(T0 + 6 * HOUR, "O2"))
    feed(corr, order_line(T0 + 12 * HOUR, "O3"))
    assert "O1" not in corr.keys
    assert all("T-O1" not in key for key in corr.joins)
    assert only_session(corr, "O1")["status"] == "complete"


def test_the_watermark_trails_the_highest_event_time_by_the_bound():
    corr = Correlator(TPL)
    feed(corr, order_line(T0, "O1"), order_line(T0 - MINUTE, "O2"))
    assert corr.watermark == T0 - OOO


# -- state lifetime: a session lives as long as a supplement may still join it (issue: late callback orphaned) ---
def test_a_supplement_on_time_for_its_interval_joins_a_session_past_gap_and_lateness():
    """The callback may come up to +30m after verification and still be on time for another gap + lateness;
    the session's state must outlive last baseline + gap + lateness for it, or it is dead-lettered as an orphan."""
    corr = Correlator(TPL)
    feed(corr, order_line(T0, "O1"), pay_page_line(T0 + 10 * SECOND, "O1"), voucher_line(T0 + 20 * SECOND, "O1", "T1"),
         verified_line(T0 + MINUTE, "O1", "T1"))
    # other orders move the watermark past O1's last baseline + gap + allowed lateness (2h21m) ...
    feed(corr, order_line(T0 + 2 * HOUR + 30 * MINUTE + OOO, "O2"))
    assert corr.watermark > T0 + MINUTE + GAP + 2 * HOUR
    # ... while a callback 25 minutes after verification is still on time (its horizon is 2h50m)
    feed(corr, callback_line(T0 + 26 * MINUTE, "T1"))
    assert corr.orphans == [] and corr.late == []
    assert "callback" in node_names(only_session(corr, "O1"))

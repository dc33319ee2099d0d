"""Pure rollup upkeep: facts of a document, deltas per grain, combining within a batch, histogram, settling."""
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.rollups import histogram
from analytics.rollups.contribution import DAYS, HOURS, DeltaBatch, SessionFacts, contribution, facts_of
from analytics.rollups.settle import Stored, on_removal, on_revision, on_tick

T0 = 1714550400000  # 2024-05-01T08:00:00Z


def document(status: str = "complete", conclusion: str = "lost_order", channel: str = "alipay", duration: int = 40_000) -> dict:
    return {
        "uid": 1, "session_key": "o-1", "start_ms": T0 + 61_000, "end_ms": T0 + 61_000 + duration, "duration_ms": duration,
        "status": status, "completeness": 0.75, "primary_conclusion": conclusion,
        "fields": {"channel": channel, "region": "eu", "amount_value": 6.0},
        "conclusions": [{"name": conclusion, "label": "x", "severity": "high"}, {"name": "callback_missing", "label": "y", "severity": "medium"}],
    }


def test_facts_take_the_configured_dimensions_and_the_primary_conclusions_severity():
    facts = facts_of(document(), ["region", "channel", "missing", "zone"])
    assert facts.dims == (("channel", "alipay"), ("missing", None), ("region", "eu")), "the first three by name"
    key = contribution(facts)[0][0]
    assert (key.dim_names, key.values) == ("channel,missing,region", ("alipay", "", "eu"))
    assert (facts.conclusion, facts.severity, facts.completeness_e4) == ("lost_order", "high", 7500)
    assert SessionFacts.from_json(facts.to_json()) == facts


def test_a_session_counts_once_per_grain_in_its_utc_buckets():
    rows = contribution(facts_of(document(), ["channel"]))
    assert [(k.grain, k.bucket_ms) for k, _ in rows] == [("m", T0 + 60_000), ("h", T0), ("d", T0 - 8 * 3_600_000),
                                                          (HOURS, T0 - 8 * 3_600_000)]
    assert all(d.sessions == 1 and d.duration_sum == 40_000 and sum(d.histogram.values()) == 1 for _, d in rows)
    day_key, day = rows[3]  # the day row without status or severity also counts the start hour of the day
    assert (day_key.status, day_key.severity, day_key.conclusion) == ("", "", "lost_order")
    assert day.hours == {8: 1} and not any(d.hours for _, d in rows[:3])
    batch = DeltaBatch()  # … and so does the one without the conclusion either, derived by the batch
    batch.move(None, facts_of(document(), ["channel"]))
    batch.move(None, facts_of(document(conclusion="delivered"), ["channel"]))
    [(total_key, total)] = [(k, d) for k, d in batch.nonzero() if k.grain == DAYS]
    assert (total_key.bucket_ms, total_key.conclusion, total_key.values) == (T0 - 8 * 3_600_000, "", day_key.values)
    assert (total.sessions, total.hours, total.duration_sum, total.histogram) == (2, {8: 2}, 80_000, {k: 2 * v for k, v in day.histogram.items()})


def test_a_retraction_and_an_addition_on_the_same_row_write_nothing():
    batch = DeltaBatch()
    old, new = facts_of(document(conclusion="lost_order"), ["channel"]), facts_of(document(conclusion="delivered"), ["channel"])
    batch.move(None, old)
    batch.move(old, new)
    batch.move(new, old)
    assert batch.uncombined == 25
    assert sorted(d.sessions for _, d in batch.nonzero()) == [1, 1, 1, 1, 1]
    batch.move(old, None)
    assert batch.nonzero() == []


@given(st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), st.sampled_from(["open", "closed"]), st.integers(0, 10**7)), min_size=1, max_size=12))
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_any_sequence_of_revisions_nets_to_its_last_one(revisions):
    batch, previous = DeltaBatch(), None
    for conclusion, status, duration in revisions:
        facts = facts_of(document(status=status, conclusion=conclusion, duration=duration), ["channel"])
        batch.move(previous, facts)
        previous = facts
    expected = DeltaBatch()
    expected.move(None, previous)
    assert batch.nonzero() == expected.nonzero()


@given(st.lists(st.integers(0, 10**9), min_size=1, max_size=200), st.sampled_from([50, 90, 95, 99]))
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_histogram_percentiles_are_within_one_bucket_of_the_exact_value(values, p):
    counts = [0] * histogram.BUCKETS
    for value in values:
        counts[histogram.bucket_of(value)] += 1
    exact = sorted(values)[max(0, -(-p * len(values) // 100) - 1)]
    low, high = histogram.bounds(histogram.bucket_of(exact))
    assert low <= histogram.percentile(counts, p) <= max(high, low * histogram.GROWTH)


def test_histograms_merge_by_adding_counts():
    a, b = [0] * histogram.BUCKETS, [0] * histogram.BUCKETS
    a[histogram.bucket_of(10)] += 1
    b[histogram.bucket_of(10_000)] += 3
    merged = [x + y for x, y in zip(a, b)]
    assert histogram.percentile(merged, 25) < 20 < histogram.percentile(merged, 50)


def test_a_provisional_session_waits_until_stable_then_counts_once():
    batch = DeltaBatch()
    first, second = facts_of(document(status="open", conclusion="a"), []), facts_of(document(status="open", conclusion="b"), [])
    state = on_revision(Stored(), first, now_ms=1000, settle_ms=5000, batch=batch)
    state = on_revision(state, second, now_ms=3000, settle_ms=5000, batch=batch)
    assert state.pending == second and state.applied is None and batch.nonzero() == []
    assert on_tick(state, now_ms=7999, settle_ms=5000, batch=batch) == state
    state = on_tick(state, now_ms=8000, settle_ms=5000, batch=batch)
    assert state == Stored(applied=second)
    assert [d.sessions for _, d in batch.nonzero()] == [1, 1, 1, 1, 1]


def test_a_final_revision_counts_at_once_and_retracts_what_was_counted():
    batch = DeltaBatch()
    state = Stored(applied=facts_of(document(status="open", conclusion="a"), []))
    state = on_revision(state, facts_of(document(status="closed", conclusion="b"), []), now_ms=0, settle_ms=5000, batch=batch)
    assert state.pending is None and state.applied.status == "closed"
    # the day row without conclusion keeps the session (0) but no longer counts it open
    assert [(k.conclusion, d.sessions, d.open_sessions) for k, d in batch.nonzero() if k.grain == DAYS] == [("", 0, -1)]
    assert sorted(d.sessions for _, d in batch.nonzero()) == [-1, -1, -1, -1, 0, 1, 1, 1, 1]
    on_removal(state, batch)
    assert sorted(d.sessions for _, d in batch.nonzero()) == [-1, -1, -1, -1, -1]

"""Macro queries: spec validation, the planner's choice, DST-exact buckets, and answers from the fact tables."""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from analytics.query.buckets import bucketing
from analytics.query.planner import PlanError, plan
from analytics.query.spec import MacroQuery
from analytics.services import macro
from tests.analytics_backends import analytics_db  # noqa: F401 (fixture)
from tests.factories import DAY, T0

SINCE = T0 - T0 % DAY  # 2024-05-01T00:00Z
DIMS = ["channel", "region"]


def query(**kwargs) -> MacroQuery:
    base = dict(template="mobile-pay", since_ms=SINCE, until_ms=SINCE + 7 * DAY, measures=[{"kind": "sessions"}])
    return MacroQuery(**{**base, **kwargs})


@given(st.dictionaries(st.sampled_from(["measures", "dimensions", "filters", "since_ms", "time_zone", "source"]),
                       st.one_of(st.text(max_size=5), st.integers(), st.lists(st.dictionaries(st.text(max_size=6), st.text(max_size=6)), max_size=2))))
@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
def test_bad_queries_are_rejected_with_a_validation_error(fields):
    try:
        query(**fields)
    except ValidationError:
        pass


def test_rules_between_fields_are_enforced():
    for bad in (
        dict(measures=[{"kind": "percentile", "field": "duration"}]),
        dict(measures=[{"kind": "share"}]),
        dict(measures=[{"kind": "sum", "field": "x; DROP TABLE luna_session"}]),
        dict(dimensions=[{"kind": "node"}], measures=[{"kind": "avg", "field": "duration"}]),
        dict(since_ms=SINCE + 8 * DAY),
        dict(time_zone="Mars/Olympus"),
        dict(dimensions=[{"kind": "time"}, {"kind": "time", "granularity": "day"}]),
    ):
        with pytest.raises(ValidationError):
            query(**bad)


def test_the_planner_uses_the_coarsest_rollup_grain_that_nests():
    day = [{"kind": "time", "granularity": "day"}]
    assert plan(query(dimensions=day), DIMS).grain == "d"
    assert plan(query(dimensions=day, time_zone="Asia/Shanghai"), DIMS).grain == "h"
    assert plan(query(dimensions=[{"kind": "time", "granularity": "hour"}], time_zone="Asia/Kolkata"), DIMS).grain == "m"
    assert plan(query(since_ms=SINCE + 3_600_000), DIMS).grain == "h"
    assert plan(query(since_ms=SINCE + 1), DIMS).source == "facts"


def test_the_planner_reads_the_fact_tables_for_what_the_rollups_lack_and_says_so():
    for kwargs, why in (
        (dict(dimensions=[{"kind": "field", "field": "device"}]), "'device' is not a dimension the rollups hold"),
        (dict(dimensions=[{"kind": "node"}]), "node"),
        (dict(measures=[{"kind": "distinct", "field": "user_id"}]), "distinct_user_id"),
        (dict(measures=[{"kind": "percentile", "field": "amount_value", "p": 95}]), "p95_amount_value"),
    ):
        chosen = plan(query(**kwargs), DIMS)
        assert chosen.source == "facts" and why in chosen.reason
    with pytest.raises(PlanError):
        plan(query(source="rollups", dimensions=[{"kind": "node"}]), DIMS)


def test_day_buckets_follow_daylight_saving_time():
    # 2024-03-31: Berlin moves from +01:00 to +02:00; the day buckets are local midnights.
    start = 1711753200000  # 2024-03-30T00:00+01:00
    buckets = bucketing("day", "Europe/Berlin", start, start + 3 * DAY)
    assert buckets.size_ms is None
    assert buckets.boundaries == (start, start + DAY, start + 2 * DAY - 3_600_000, start + 3 * DAY - 3_600_000)
    assert bucketing("hour", "Europe/Berlin", start, start + 3 * DAY).size_ms == 3_600_000


def test_facts_answer_sessions_share_and_percentiles_per_conclusion(demo_sessions, analytics_db):
    result = macro.run(query(source="facts", dimensions=[{"kind": "conclusion"}], measures=[
        {"kind": "sessions"}, {"kind": "percentile", "field": "duration", "p": 50}, {"kind": "share", "conclusion": "abandoned"},
        {"kind": "completeness"}]))
    assert result.source == "facts"
    rows = {row[0]: row[1:] for row in result.rows}
    assert rows["abandoned"][0] == 3 and rows["abandoned"][2] == 1.0
    assert rows["lost_order"] == [1, 32_500, 0.0, 0.5]
    assert result.provisional["open_sessions"] == 1


def test_facts_break_down_by_a_field_with_a_field_filter_and_by_node(demo_sessions, analytics_db):
    result = macro.run(query(dimensions=[{"kind": "field", "field": "channel"}, {"kind": "status"}],
                             filters=[{"kind": "field", "field": "region", "values": ["eu", "cn"]}],
                             measures=[{"kind": "sessions"}, {"kind": "avg", "field": "amount_value"}], source="facts"))
    assert result.rows == [["alipay", "closed", 1, 6.5], ["alipay", "complete", 1, 6.0], ["wechat", "complete", 1, 30.0]]
    funnel = macro.run(query(dimensions=[{"kind": "node"}]))
    assert dict((r[0], r[1]) for r in funnel.rows)["order"] == 6
    assert dict((r[0], r[1]) for r in funnel.rows)["delivery"] == 2


def test_an_unknown_template_is_a_query_error(demo_template, analytics_db):
    with pytest.raises(macro.QueryError):
        macro.run(query(template="nope"))

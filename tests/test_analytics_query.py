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


def test_the_day_rows_without_status_answer_what_neither_groups_nor_filters_by_status_or_severity():
    hour, day = [{"kind": "time", "granularity": "hour"}], [{"kind": "time", "granularity": "day"}]

    def flags(chosen):
        return chosen.grain, chosen.day_rows, chosen.hours

    assert flags(plan(query(dimensions=[*day, {"kind": "conclusion"}]), DIMS)) == ("d", True, False)
    assert flags(plan(query(dimensions=hour), DIMS)) == ("h", True, True)
    assert flags(plan(query(dimensions=hour, time_zone="Asia/Shanghai"), DIMS)) == ("h", True, True)  # whole hours
    assert flags(plan(query(dimensions=[*hour, {"kind": "status"}]), DIMS)) == ("h", False, False)
    assert flags(plan(query(dimensions=day, filters=[{"kind": "severity", "values": ["high"]}]), DIMS)) == ("d", False, False)
    share = [{"kind": "sessions"}, {"kind": "share", "conclusion": "lost_order"}]
    assert flags(plan(query(dimensions=hour, measures=share), DIMS)) == ("h", False, False)  # hourly counts only
    assert flags(plan(query(dimensions=day, measures=share), DIMS)) == ("d", True, False)


def test_the_planner_reads_the_key_value_rows_only_for_what_the_fact_table_lacks_and_says_so():
    for kwargs, why in (
        (dict(dimensions=[{"kind": "field", "field": "device"}]), "'device' is not a dimension the fact table holds"),
        (dict(dimensions=[{"kind": "node"}]), "node is not in the fact table"),
        (dict(measures=[{"kind": "distinct", "field": "user_id"}]), "distinct_user_id"),
        (dict(measures=[{"kind": "percentile", "field": "amount_value", "p": 95}]), "p95_amount_value"),
    ):
        chosen = plan(query(**kwargs), DIMS)
        assert chosen.source == "fields" and why in chosen.reason and chosen.reason.startswith("key-value field rows")
    with pytest.raises(PlanError):
        plan(query(source="rollups", dimensions=[{"kind": "node"}]), DIMS)


def test_the_fact_table_answers_what_the_rollups_cannot_align_or_hold():
    six = ["a", "b", "c", "d", "e", "f", "g"]
    for kwargs, why in (
        (dict(since_ms=SINCE + 1), "do not align"),
        (dict(dimensions=[{"kind": "field", "field": "e"}]), "'e' is not a dimension the rollups hold"),
        (dict(filters=[{"kind": "node", "values": ["delivery"]}]), "node is not in the rollups"),
    ):
        chosen = plan(query(**kwargs), six)
        assert chosen.source == "facts" and why in chosen.reason and chosen.slots == tuple(six[:6])
    assert plan(query(dimensions=[{"kind": "field", "field": "g"}]), six).source == "fields"  # the seventh by name
    assert plan(query(source="facts"), DIMS).reason == "session fact table: asked for the fact tables"
    assert plan(query(source="fields"), DIMS).source == "fields"
    assert plan(query(dimensions=[{"kind": "node"}]), DIMS, nodes=("order", "pay")).nodes == ("order", "pay")


def test_day_buckets_follow_daylight_saving_time():
    # 2024-03-31: Berlin moves from +01:00 to +02:00; the day buckets are local midnights.
    start = 1711753200000  # 2024-03-30T00:00+01:00
    buckets = bucketing("day", "Europe/Berlin", start, start + 3 * DAY)
    assert buckets.size_ms is None
    assert buckets.boundaries == (start, start + DAY, start + 2 * DAY - 3_600_000, start + 3 * DAY - 3_600_000)
    assert bucketing("hour", "Europe/Berlin", start, start + 3 * DAY).size_ms == 3_600_000


@pytest.mark.parametrize("source", ["facts", "fields"])
def test_facts_answer_sessions_share_and_percentiles_per_conclusion(demo_sessions, analytics_db, source):
    result = macro.run(query(source=source, dimensions=[{"kind": "conclusion"}], measures=[
        {"kind": "sessions"}, {"kind": "percentile", "field": "duration", "p": 50}, {"kind": "share", "conclusion": "abandoned"},
        {"kind": "completeness"}]))
    assert result.source == source
    rows = {row[0]: row[1:] for row in result.points()}
    assert rows["abandoned"][0] == 3 and rows["abandoned"][2] == 1.0
    count, p50, share, completeness = rows["lost_order"]
    assert (count, share, completeness) == (1, 0.0, 0.5)
    # the key-value rows give the exact value; the fact table the histogram's bucket middle (±16 %, as the rollups)
    assert p50 == 32_500 if source == "fields" else abs(p50 - 32_500) / 32_500 <= 0.16
    assert result.provisional["open_sessions"] == 1


def test_the_fact_table_filters_by_node_reached_as_the_key_value_rows_do(demo_sessions, analytics_db):
    reached = macro.run(query(filters=[{"kind": "node", "values": ["delivery"]}], dimensions=[{"kind": "conclusion"}]))
    by_rows = macro.run(query(filters=[{"kind": "node", "values": ["delivery"]}], dimensions=[{"kind": "conclusion"}], source="fields"))
    assert reached.source == "facts" and by_rows.source == "fields"
    assert reached.points() == by_rows.points() and sum(r[1] for r in reached.points()) == 2


def test_facts_break_down_by_a_field_with_a_field_filter_and_by_node(demo_sessions, analytics_db):
    result = macro.run(query(dimensions=[{"kind": "field", "field": "channel"}, {"kind": "status"}],
                             filters=[{"kind": "field", "field": "region", "values": ["eu", "cn"]}],
                             measures=[{"kind": "sessions"}, {"kind": "avg", "field": "amount_value"}], source="facts"))
    assert result.points() == [["alipay", "closed", 1, 6.5], ["alipay", "complete", 1, 6.0], ["wechat", "complete", 1, 30.0]]
    funnel = macro.run(query(dimensions=[{"kind": "node"}]))
    assert funnel.source == "facts"
    for dimensions in ([{"kind": "node"}], [{"kind": "time", "granularity": "day"}, {"kind": "node"}, {"kind": "status"}]):
        assert macro.run(query(dimensions=dimensions, source="facts")).points() == macro.run(query(dimensions=dimensions, source="fields")).points()
    assert dict((r[0], r[1]) for r in funnel.points())["order"] == 6
    assert dict((r[0], r[1]) for r in funnel.points())["delivery"] == 2


def test_an_unknown_template_is_a_query_error(demo_template, analytics_db):
    with pytest.raises(macro.QueryError):
        macro.run(query(template="nope"))


def test_rollup_rows_of_an_older_dimension_layout_still_count_without_a_field_dimension(demo_document, demo_template, analytics_db):
    from analytics.models import Rollup, RollupDays, RollupHours
    from sessions.services.templates import save_template_version

    for dimensions in (["channel"], ["channel", "region"]):  # the template's dimensions changed in between
        save_template_version(dict(demo_document, dimensions=dimensions))
    for names, sessions in (("channel,region", 3), ("channel", 2)):
        Rollup.objects.create(template=demo_template, grain="d", bucket_ms=SINCE, status="closed", conclusion="abandoned",
                              dim_names=names, d1="card", sessions=sessions)
        RollupHours.objects.create(template=demo_template, day_ms=SINCE, conclusion="abandoned", dim_names=names, d1="card",
                                   sessions=sessions)
        RollupDays.objects.create(template=demo_template, day_ms=SINCE, dim_names=names, d1="card", sessions=sessions)
    for by_status in ([], [{"kind": "status"}]):  # the day rows with and without status
        result = macro.run(query(source="rollups", dimensions=[{"kind": "conclusion"}, *by_status]))
        assert result.points() == [["abandoned", *(["closed"] if by_status else []), 5]]
        assert result.params[-2:] == ["channel", "channel,region"]
    by_channel = macro.run(query(source="rollups", dimensions=[{"kind": "field", "field": "channel"}]))
    assert by_channel.points() == [["card", 3]]  # a field dimension reads the current layout only


def test_the_open_sessions_of_an_answer_are_counted_from_its_own_rows_in_the_same_query(demo_template, analytics_db):
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    from analytics.models import Rollup, RollupHours

    hour = 3_600_000
    for grain, bucket in (("h", SINCE + hour), ("d", SINCE)):
        for status, sessions in (("open", 2), ("closed", 3)):
            Rollup.objects.create(template=demo_template, grain=grain, bucket_ms=bucket, status=status, conclusion="abandoned",
                                  dim_names="channel,region", d1="card", sessions=sessions)
    RollupHours.objects.create(template=demo_template, day_ms=SINCE, conclusion="abandoned", dim_names="channel,region", d1="card",
                               sessions=5, s01=5, open_sessions=2)
    by_hour = dict(dimensions=[{"kind": "time", "granularity": "hour"}, {"kind": "conclusion"}],
                   measures=[{"kind": "sessions"}, {"kind": "share", "conclusion": "abandoned"}])  # hour rows (a share)
    sessions_by_hour = dict(dimensions=[{"kind": "time", "granularity": "hour"}, {"kind": "conclusion"}])  # day rows by hour
    for spec, reason in ((by_hour, "hour rows"), (sessions_by_hour, "by start hour"), ({"dimensions": [{"kind": "conclusion"}]}, "day rows")):
        with CaptureQueriesContext(connections["analytics"]) as captured:
            result = macro.run(query(source="rollups", **spec))
        assert reason in result.reason and result.points() and result.provisional["open_sessions"] == 2
        assert len([q for q in captured.captured_queries if "analytics_rollup" in q["sql"]]) == 1  # the answer's own read
    only_delivered = macro.run(query(source="rollups", filters=[{"kind": "conclusion", "values": ["delivered"]}], **by_hour))
    assert only_delivered.points() == [] and only_delivered.provisional["open_sessions"] == 0  # the answer's rows only
    for spec in (by_hour, sessions_by_hour):  # part of a day: the hour rows of the range, counted apart
        within_a_day = macro.run(query(source="rollups", since_ms=SINCE + hour, until_ms=SINCE + 2 * hour, **spec))
        assert within_a_day.points()[0][-1] in (5, 1.0) and within_a_day.provisional["open_sessions"] == 2


def test_a_percentile_from_the_rollups_sums_only_the_buckets_of_the_templates_span(demo_template, analytics_db):
    from analytics.models import RollupDays, RollupSpan

    for day, buckets in ((SINCE, {"h30": 5, "h31": 14}), (SINCE + DAY, {"h33": 20})):  # read without conclusion
        RollupDays.objects.create(template=demo_template, day_ms=day, dim_names="channel,region", d1="card",
                                  sessions=sum(buckets.values()), **buckets)
    spec = dict(source="rollups", dimensions=[{"kind": "time", "granularity": "day"}],
                measures=[{"kind": "sessions"}, {"kind": "percentile", "field": "duration", "p": 95}])
    everything = macro.run(query(**spec))
    assert "`h00`" in everything.sql or '"h00"' in everything.sql  # no span stored: all 64 buckets
    RollupSpan.objects.create(template=demo_template, low=30, high=33)
    spanned = macro.run(query(**spec))
    assert spanned.points() == everything.points() and [row[1] for row in spanned.points()] == [19, 20]
    assert "h29" not in spanned.sql and "h30" in spanned.sql and "h33" in spanned.sql and "h34" not in spanned.sql


@pytest.mark.django_db(transaction=True, databases=["default", "analytics"])
def test_every_statement_on_the_analytics_alias_reads_only_tables_with_a_tiflash_replica(demo_sessions, settings):
    """On TiDB the alias may read TiFlash only: a table without a replica there has no access path (query error).
    The columnar replica's day tables are never read there (tests/test_analytics_replica.py), so it is off here."""
    import re

    settings.LUNA_FACT_REPLICA = False

    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    from analytics.db import ALIAS, TIFLASH_TABLES

    with CaptureQueriesContext(connections[ALIAS]) as captured:
        for source in ("rollups", "facts", "fields"):
            macro.run(query(source=source, dimensions=[{"kind": "conclusion"}],
                            measures=[{"kind": "sessions"}, {"kind": "percentile", "field": "duration", "p": 95}]))
    tables = {name for statement in captured.captured_queries
              for name in re.findall(r"\b(?:FROM|JOIN)\s+[`\"]?(\w+)", statement["sql"], re.IGNORECASE)}
    assert tables and tables <= set(TIFLASH_TABLES), tables - set(TIFLASH_TABLES)

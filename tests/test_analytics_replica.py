"""The fact table's columnar replica: (replica days + row-store days) answer exactly what the row store alone does,
with some days stale, never built, moved or emptied; bad files are detected; TiDB never uses it."""
import shutil

import pytest
from django.db import connection, transaction
from django.test import Client, override_settings
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from analytics.facts.upkeep import FactUpkeep, delete_facts
from analytics.models import FactDay, ReplicaDay, SessionFact
from analytics.query.printers import dialect_of
from analytics.query.spec import MacroQuery
from analytics.replica import build, files
from analytics.replica.read import enabled
from analytics.rollups.dimensions import TemplateDimensions
from analytics.services import macro
from tests.analytics_backends import analytics_db, offline_connections  # noqa: F401 (fixture)
from tests.factories import DAY, HOUR, T0

SINCE = T0 - T0 % DAY  # 2024-05-01T00:00Z
DAYS = 5
CONCLUSIONS = [("delivered", "info"), ("lost_order", "high"), ("abandoned", "low")]
NODES = ["order", "pay_page", "verified", "delivery"]
ZONES = ["UTC", "Europe/Berlin", "Asia/Kolkata", "America/New_York"]


@pytest.fixture
def replica(analytics_db, demo_template, tmp_path, settings):  # noqa: F811
    """The demo template (dimensions channel, region) with a replica directory of its own."""
    settings.LUNA_FACT_REPLICA, settings.LUNA_FACT_REPLICA_DIR = True, str(tmp_path / "replica")
    dimensions = TemplateDimensions(demo_template.pk, "")
    dimensions.pin(["channel", "region"])
    return demo_template, FactUpkeep(demo_template.pk, dialect_of(connection), dimensions, enabled=True)


def document(uid: int, start: int, conclusion: int, status: str, channel: str, region: str, duration: int, nodes: list[str]) -> dict:
    name, severity = CONCLUSIONS[conclusion]
    return {"uid": uid, "session_key": f"o-{uid}", "start_ms": start, "end_ms": start + duration, "duration_ms": duration,
            "status": status, "completeness": 0.5 if status != "complete" else 1.0, "primary_conclusion": name,
            "conclusions": [{"name": name, "severity": severity}], "fields": {"channel": channel, "region": region}, "nodes": nodes}


sessions = st.builds(document, st.integers(1, 40), st.integers(SINCE, SINCE + DAYS * DAY - 1), st.integers(0, 2),
                     st.sampled_from(["open", "closed", "complete"]), st.sampled_from(["alipay", "card", ""]),
                     st.sampled_from(["eu", "cn"]), st.integers(0, 5_000_000), st.lists(st.sampled_from(NODES), max_size=3))
dimension = st.one_of(
    st.builds(lambda g: {"kind": "time", "granularity": g}, st.sampled_from(["hour", "day", "week", "month"])),
    st.sampled_from([{"kind": "conclusion"}, {"kind": "status"}, {"kind": "severity"}, {"kind": "field", "field": "channel"},
                     {"kind": "field", "field": "region"}, {"kind": "node"}]))
measure = st.sampled_from([{"kind": "share", "conclusion": "lost_order"}, {"kind": "completeness"}, {"kind": "avg", "field": "duration"},
                           {"kind": "sum", "field": "duration"}, {"kind": "percentile", "field": "duration", "p": 95}])
filters = st.sampled_from([{"kind": "conclusion", "values": ["lost_order", "abandoned"]}, {"kind": "field", "field": "region", "values": ["eu"]},
                           {"kind": "node", "values": ["verified", "delivery"]}, {"kind": "status", "values": ["open"]}])


@st.composite
def queries(draw) -> MacroQuery:
    dims = draw(st.lists(dimension, max_size=3, unique_by=lambda d: d.get("field") or d["kind"]))
    node = any(d["kind"] == "node" for d in dims)
    measures = [{"kind": "sessions"}, *([] if node else draw(st.lists(measure, max_size=3, unique_by=str)))]
    since = SINCE + draw(st.integers(-DAY, DAYS * DAY)) // HOUR * HOUR + draw(st.sampled_from([0, 0, 1, 1_800_000]))
    until = since + draw(st.integers(1, DAYS * DAY + 2 * DAY))
    return MacroQuery(template="mobile-pay", source="facts", since_ms=since, until_ms=until, time_zone=draw(st.sampled_from(ZONES)),
                      dimensions=dims, measures=measures, filters=draw(st.lists(filters, max_size=2, unique_by=str)))


def answer(query: MacroQuery, settings, replica_on: bool):
    with override_settings(LUNA_FACT_REPLICA=replica_on):  # not the fixture: hypothesis would nest one per example
        result = macro.run(query)
    return result.points(), result.provisional["open_sessions"], result.reason


def same_answers(query: MacroQuery, settings) -> str:
    points, open_sessions, reason = answer(query, settings, True)
    assert (points, open_sessions) == answer(query, settings, False)[:2], reason
    if currently_in_test_context():
        event("replica and row store" if "columnar replica" in reason and "row store: nothing" not in reason
              else "replica only" if "columnar replica" in reason else "row store only")
    return reason


def reset(template) -> None:
    for model in (SessionFact, FactDay, ReplicaDay):
        model.objects.filter(template=template).delete()
    shutil.rmtree(files.root(), ignore_errors=True)


@given(first=st.lists(sessions, min_size=1, max_size=30), built=st.sets(st.integers(0, DAYS - 1)),
       later=st.lists(sessions, max_size=12), removed=st.sets(st.integers(1, 40), max_size=6), asked=st.lists(queries(), min_size=1, max_size=4))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_replica_and_row_store_days_answer_what_the_row_store_alone_does(replica, settings, first, built, later, removed, asked):
    template, upkeep = replica
    with transaction.atomic():  # a failing example rolls back alone (hypothesis then shrinks it)
        differential(template, upkeep, settings, first, built, later, removed, asked)


def differential(template, upkeep, settings, first, built, later, removed, asked) -> None:
    reset(template)
    with connection.cursor() as cur:
        upkeep.write(cur, first, [])
    for day in built:  # some days built, the others never
        build.build_day(template.pk, SINCE + day * DAY)
    with connection.cursor() as cur:  # revisions move sessions across days; removals empty some: those days go stale
        upkeep.write(cur, later, removed)
    for query in asked:
        same_answers(query, settings)
    build.refresh()
    assert not build.stale_days(template.pk).exists()
    for query in asked:
        same_answers(query, settings)


def test_stale_days_are_read_from_the_row_store_until_the_refresh(replica, settings):
    template, upkeep = replica
    with connection.cursor() as cur:
        upkeep.write(cur, [document(1, SINCE + HOUR, 0, "closed", "card", "eu", 900, ["order"]),
                           document(2, SINCE + DAY + HOUR, 1, "open", "alipay", "cn", 90_000, ["order", "verified"])], [])
    assert [day.day_ms for day in build.refresh()] == [SINCE + DAY, SINCE]  # newest first
    query = MacroQuery(template="mobile-pay", source="facts", since_ms=SINCE, until_ms=SINCE + 2 * DAY,
                       dimensions=[{"kind": "conclusion"}], measures=[{"kind": "sessions"}])
    assert "columnar replica: 2 days; row store: nothing" in same_answers(query, settings)
    with connection.cursor() as cur:
        upkeep.write(cur, [document(3, SINCE + DAY + 2 * HOUR, 1, "closed", "card", "eu", 5, [])], [])
    reason = same_answers(query, settings)
    assert "columnar replica: 1 day; row store: 2024-05-02" in reason
    assert answer(query, settings, True)[0] == [["delivered", 1], ["lost_order", 2]]
    assert list(build.stale_days(template.pk)) == [(template.pk, SINCE + DAY)]
    build.refresh()
    assert "row store: nothing" in same_answers(query, settings)


@pytest.mark.parametrize("damage", ["missing", "garbage", "truncated"])
def test_a_missing_or_corrupt_file_is_read_from_the_row_store_and_rebuilt(replica, settings, damage):
    template, upkeep = replica
    with connection.cursor() as cur:
        upkeep.write(cur, [document(i, SINCE + i * HOUR, i % 3, "closed", "card", "eu", 1000 * i, []) for i in range(1, 30)], [])
    build.refresh()
    path = files.path_of(template.pk, SINCE, 1)
    if damage == "missing":
        path.unlink()
    elif damage == "garbage":
        path.write_bytes(b"PAR1 not a parquet file PAR1")
    else:
        path.write_bytes(path.read_bytes()[:200])
    query = MacroQuery(template="mobile-pay", source="facts", since_ms=SINCE, until_ms=SINCE + 2 * DAY,
                       dimensions=[{"kind": "time", "granularity": "hour"}], measures=[{"kind": "sessions"}])
    reason = same_answers(query, settings)
    assert "replica file unreadable: 2024-05-01" in reason and "row store: 2024-05-01" in reason
    assert list(build.stale_days(template.pk)) == [(template.pk, SINCE)]  # its record dropped: the next refresh rebuilds it
    build.refresh()
    assert "row store: nothing" in same_answers(query, settings)


def test_retention_and_orphan_deletes_bump_their_days(replica):
    template, upkeep = replica
    with connection.cursor() as cur:
        upkeep.write(cur, [document(1, SINCE + HOUR, 0, "closed", "card", "eu", 900, []),
                           document(2, SINCE + DAY + HOUR, 0, "closed", "card", "eu", 900, [])], [])
        assert delete_facts(cur, dialect_of(connection), [2]) == 1
    assert dict(FactDay.objects.filter(template=template).values_list("day_ms", "version")) == {SINCE: 1, SINCE + DAY: 2}


def test_tidb_keeps_the_tiflash_sql_and_never_uses_the_replica(replica):
    tidb = offline_connections()["tidb"]
    assert not enabled(tidb)
    query = MacroQuery(template="mobile-pay", source="facts", since_ms=SINCE, until_ms=SINCE + DAY,
                       dimensions=[{"kind": "field", "field": "channel"}], measures=[{"kind": "sessions"}])
    sql = macro.prepare(query, tidb)[2].sql
    assert "READ_FROM_STORAGE(TIFLASH[analytics_session_fact])" in sql and "analytics_fact_days" not in sql

    class Recording:
        statements: list = []

        def execute(self, sql, params=None):
            self.statements.append(sql)

        def executemany(self, sql, rows):
            self.statements.append(sql)

    template, upkeep = replica
    on_tidb = FactUpkeep(template.pk, "tidb", upkeep.dimensions, enabled=True)
    on_tidb.write(Recording(), [document(1, SINCE, 0, "closed", "card", "eu", 900, [])], [2])
    assert not any("analytics_fact_days" in s for s in Recording.statements) and on_tidb.days_bumped == 0


def test_the_status_endpoint_says_what_the_replica_holds(replica):
    from tests.factories import logged_in, make_user

    template, upkeep = replica
    viewer = logged_in(make_user("replica-viewer", "viewer"))
    with connection.cursor() as cur:
        upkeep.write(cur, [document(1, SINCE + HOUR, 0, "closed", "card", "eu", 900, []),
                           document(2, SINCE + DAY + HOUR, 0, "closed", "card", "eu", 900, [])], [])
    build.build_day(template.pk, SINCE)
    assert Client().get("/api/analytics/replica/", {"template": "mobile-pay"}).status_code in (401, 403)
    body = viewer.get("/api/analytics/replica/", {"template": "mobile-pay"}).json()
    assert (body["days"], body["current_days"], body["stale_days"], body["stale"], body["rows"]) == (2, 1, 1, [SINCE + DAY], 1)
    assert viewer.get("/api/analytics/replica/", {"template": "nope"}).status_code == 400


def test_the_command_and_the_beat_task_rebuild_stale_days_within_their_bounds(replica, settings):
    from django.core.management import CommandError, call_command

    from analytics.tasks import refresh_fact_replica

    template, upkeep = replica
    with connection.cursor() as cur:
        upkeep.write(cur, [document(i, SINCE + i * DAY + HOUR, 0, "closed", "card", "eu", 900, []) for i in range(4)], [])
    with pytest.raises(CommandError):
        call_command("refresh_replica")
    with pytest.raises(CommandError):
        call_command("refresh_replica", "--template", "nope")
    call_command("refresh_replica", "--template", "mobile-pay", "--limit", "1")
    assert list(build.stale_days(template.pk)) == [(template.pk, SINCE + 2 * DAY), (template.pk, SINCE + DAY), (template.pk, SINCE)]
    settings.LUNA_FACT_REPLICA_DAYS_PER_RUN = 2
    assert refresh_fact_replica() == 2
    call_command("refresh_replica", "--all")
    assert not build.stale_days(template.pk).exists()
    settings.LUNA_FACT_REPLICA = False
    with connection.cursor() as cur:
        upkeep.write(cur, [document(9, SINCE + HOUR, 0, "closed", "card", "eu", 900, [])], [])
    assert refresh_fact_replica() == 0  # off: nothing built

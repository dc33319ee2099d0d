"""SQL snapshots of the macro compiler per dialect (mysql, tidb, sqlite): a change of SQL is a visible diff.

Run with LUNA_UPDATE_SNAPSHOTS=1 to rewrite them after an intended change.
"""
import json
import os
from pathlib import Path

import pytest

from analytics.db import MYSQL_SESSION, TIDB_SESSION, analytics_database, tiflash_statements
from analytics.query.compiler import compile_query
from analytics.query.planner import plan
from analytics.query.printers import PRINTERS, dialect_of
from analytics.query.spec import MacroQuery
from tests.analytics_backends import offline_connections

SNAPSHOTS = Path(__file__).parent / "snapshots" / "analytics"
DAY = 86_400_000
SINCE = 1714521600000  # 2024-05-01T00:00:00Z
QUERIES = {
    "day_conclusion_rollups": dict(measures=[{"kind": "sessions"}], dimensions=[{"kind": "time", "granularity": "day"},
                                                                                  {"kind": "conclusion"}]),
    "hour_conclusion_channel_shanghai": dict(time_zone="Asia/Shanghai", measures=[{"kind": "sessions"}, {"kind": "share", "conclusion": "lost_order"}],
                                             dimensions=[{"kind": "time", "granularity": "hour"}, {"kind": "conclusion"},
                                                         {"kind": "field", "field": "channel"}]),
    "hour_conclusion_channel_hours": dict(time_zone="Asia/Shanghai", measures=[{"kind": "sessions"}],
                                          dimensions=[{"kind": "time", "granularity": "hour"}, {"kind": "conclusion"},
                                                      {"kind": "field", "field": "channel"}],
                                          filters=[{"kind": "field", "field": "region", "values": ["eu"]}]),
    "p95_duration_day_channel_rollups": dict(measures=[{"kind": "percentile", "field": "duration", "p": 95}],
                                             dimensions=[{"kind": "time", "granularity": "day"}, {"kind": "field", "field": "channel"}]),
    "p95_duration_day_channel_facts": dict(source="facts", measures=[{"kind": "sessions"}, {"kind": "percentile", "field": "duration", "p": 95}],
                                           dimensions=[{"kind": "time", "granularity": "day"}, {"kind": "field", "field": "channel"}]),
    "two_dimensions_field_filter": dict(measures=[{"kind": "sessions"}, {"kind": "avg", "field": "amount_value"}, {"kind": "completeness"}],
                                        dimensions=[{"kind": "field", "field": "channel"}, {"kind": "severity"}],
                                        filters=[{"kind": "field", "field": "region", "values": ["eu", "cn"]}]),
    "month_berlin_funnel": dict(time_zone="Europe/Berlin", measures=[{"kind": "sessions"}],
                                dimensions=[{"kind": "time", "granularity": "month"}, {"kind": "node"}],
                                filters=[{"kind": "status", "values": ["complete", "closed"]}]),
    "p95_duration_day_channel_fields": dict(source="fields", measures=[{"kind": "sessions"}, {"kind": "percentile", "field": "duration", "p": 95}],
                                            dimensions=[{"kind": "time", "granularity": "day"}, {"kind": "field", "field": "channel"}]),
    "funnel_eu_facts": dict(source="facts", measures=[{"kind": "sessions"}], dimensions=[{"kind": "node"}],
                            filters=[{"kind": "field", "field": "region", "values": ["eu"]}, {"kind": "node", "values": ["delivery"]}]),
    "distinct_users_total": dict(measures=[{"kind": "distinct", "field": "user_id"}, {"kind": "percentile", "field": "amount_value", "p": 50}]),
}


@pytest.fixture(scope="module")
def backends():
    return offline_connections()


def snapshot(dialect: str, name: str, text: str) -> None:
    path = SNAPSHOTS / dialect / f"{name}.sql"
    if os.environ.get("LUNA_UPDATE_SNAPSHOTS"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no snapshot {path}: run with LUNA_UPDATE_SNAPSHOTS=1"
    assert text == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("dialect", sorted(PRINTERS))
@pytest.mark.parametrize("name", sorted(QUERIES))
def test_sql_matches_the_snapshot(backends, dialect, name):
    connection = backends[dialect]
    assert dialect_of(connection) == dialect
    query = MacroQuery(template="mobile-pay", since_ms=SINCE, until_ms=SINCE + 90 * DAY, **QUERIES[name])
    chosen = plan(query, ["channel", "region"], ("", "channel,region"), ("order", "pay_page", "delivery"))
    compiled = compile_query(query, chosen, 7, connection, PRINTERS[dialect]())
    text = f"-- {chosen.source}: {chosen.reason}\n{compiled.sql}\n-- params: {json.dumps(compiled.params)}\n"
    snapshot(dialect, name, text)
    assert "lost_order" not in compiled.sql and "'eu'" not in compiled.sql, "values are bound, never printed"
    if dialect == "tidb":
        assert "READ_FROM_STORAGE(TIFLASH[" in compiled.sql
    else:
        assert "READ_FROM_STORAGE" not in compiled.sql


def test_tiflash_replicas_are_added_on_tidb_only(backends):
    assert tiflash_statements(backends["tidb"], replicas=2) == [
        f"ALTER TABLE {t} SET TIFLASH REPLICA 2"
        for t in ("luna_session", "luna_session_field", "luna_session_conclusion", "luna_session_node", "analytics_rollup",
                  "analytics_session_fact", "analytics_rollup_hours", "analytics_rollup_days")
    ]
    assert tiflash_statements(backends["mysql"]) == []
    assert tiflash_statements(backends["sqlite"]) == []


def test_the_analytics_alias_reads_tiflash_on_tidb_and_mirrors_the_default_database():
    tidb = analytics_database({"ENGINE": "django_tidb", "NAME": "luna", "OPTIONS": {"charset": "utf8mb4"}})
    assert tidb["OPTIONS"] == {"charset": "utf8mb4", "init_command": TIDB_SESSION}
    assert "tidb_isolation_read_engines = 'tiflash,tidb'" in TIDB_SESSION and "tidb_allow_mpp = ON" in TIDB_SESSION
    assert tidb["TEST"] == {"MIRROR": "default"}
    mariadb = analytics_database({"ENGINE": "django.db.backends.mysql", "NAME": "luna"})
    assert mariadb["OPTIONS"] == {"init_command": MYSQL_SESSION}  # in-memory GROUP BY temporary tables, this session only
    assert "init_command" not in analytics_database({"ENGINE": "django.db.backends.sqlite3", "NAME": "x"})["OPTIONS"]


@pytest.mark.parametrize("table", ["analytics_session_fact", "analytics_rollup_hours", "analytics_rollup_days"])
def test_later_migrations_add_their_table_s_tiflash_replica_on_tidb_only(backends, monkeypatch, table):
    from types import SimpleNamespace

    from analytics.db import add_days_tiflash_replica, add_fact_tiflash_replica, add_hours_tiflash_replica

    add = {"analytics_session_fact": add_fact_tiflash_replica, "analytics_rollup_hours": add_hours_tiflash_replica,
           "analytics_rollup_days": add_days_tiflash_replica}[table]
    monkeypatch.setenv("LUNA_TIFLASH_REPLICAS", "2")
    for dialect, expected in (("tidb", [f"ALTER TABLE {table} SET TIFLASH REPLICA 2"]), ("mysql", []), ("sqlite", [])):
        executed = []
        add(None, SimpleNamespace(connection=backends[dialect], execute=executed.append))
        assert executed == expected, dialect

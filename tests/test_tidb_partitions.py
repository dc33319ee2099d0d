"""TiDB time partitions: the DDL is asserted on recorded statements (TiDB cannot run here), and retention elsewhere
keeps its batched deletes."""
from types import SimpleNamespace

import pytest

from sessions.services.retention import drop_expired_partitions, retention_horizon
from sessions.tidb_partitions import (DAY_MS, FUTURE_DAYS, PAST_DAYS, TIME_PARTITIONED, day_name, expired, extend_ddl,
                                      partition_by_time, partitioned_ddl)

NOW = 1_780_000_000_000  # 2026-05-28T20:26:40Z
SESSION_DDL = ("CREATE TABLE `luna_session` (\n  `id` bigint(20) NOT NULL,\n  `start_ms` bigint(20) NOT NULL,\n"
               "  PRIMARY KEY (`id`) /*T![clustered_index] CLUSTERED */,\n  KEY `luna_session_start_idx` (`template_id`,`start_ms`)\n"
               ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin")
CHILD_DDL = ("CREATE TABLE `{}` (\n  `id` bigint(20) NOT NULL /*T![auto_rand] AUTO_RANDOM(5) */,\n  `start_ms` bigint(20) NOT NULL,\n"
             "  PRIMARY KEY (`id`) /*T![clustered_index] CLUSTERED */\n) ENGINE=InnoDB /*T![auto_rand_base] AUTO_RANDOM_BASE=1 */")


class FakeCursor:
    def __init__(self, editor):
        self.editor = editor

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def execute(self, sql, params=None):
        self.table = sql.split("`")[1]

    def fetchone(self):
        return (self.table, SESSION_DDL if self.table == "luna_session" else CHILD_DDL.format(self.table))


class RecordingEditor:
    def __init__(self, engine: str):
        self.connection = SimpleNamespace(settings_dict={"ENGINE": engine}, vendor="mysql", cursor=lambda: FakeCursor(self))
        self.executed: list[str] = []

    def execute(self, sql: str) -> None:
        self.executed.append(sql)


def test_on_tidb_the_start_carrying_tables_are_rebuilt_by_day_with_the_start_in_the_clustered_key():
    tidb = RecordingEditor("django_tidb")
    partition_by_time(None, tidb, now_ms=NOW)
    assert len(tidb.executed) == 4 * len(TIME_PARTITIONED)
    create, copy, swap, drop = tidb.executed[:4]
    assert create.startswith("CREATE TABLE `luna_session__parted`")
    assert "PRIMARY KEY (`id`, `start_ms`) /*T![clustered_index] CLUSTERED */" in create
    assert "PARTITION BY RANGE (`start_ms`) (PARTITION p_old VALUES LESS THAN (" in create
    assert create.endswith("PARTITION p_future VALUES LESS THAN (MAXVALUE))")
    assert create.count("VALUES LESS THAN") == PAST_DAYS + FUTURE_DAYS + 3  # p_old, the days, p_future
    assert f"PARTITION {day_name(NOW)} VALUES LESS THAN ({NOW - NOW % DAY_MS + DAY_MS})" in create
    assert (copy, swap, drop) == ("INSERT INTO `luna_session__parted` SELECT * FROM `luna_session`",
                                  "RENAME TABLE `luna_session` TO `luna_session__unparted`, `luna_session__parted` TO `luna_session`",
                                  "DROP TABLE `luna_session__unparted`")
    conclusion = tidb.executed[4]
    assert "AUTO_RANDOM(5)" in conclusion and "PRIMARY KEY (`id`, `start_ms`)" in conclusion


@pytest.mark.parametrize("engine", ["django.db.backends.mysql", "django.db.backends.sqlite3"])
def test_elsewhere_the_migration_emits_nothing(engine):
    other = RecordingEditor(engine)
    partition_by_time(None, other, now_ms=NOW)
    assert other.executed == []


def test_a_table_without_a_plain_id_key_is_refused_not_mangled():
    with pytest.raises(ValueError, match="primary key"):
        partitioned_ddl("luna_session", "CREATE TABLE `luna_session` (`id` bigint, PRIMARY KEY (`id`,`x`))", NOW)


def test_only_days_wholly_before_the_horizon_are_dropped():
    partitions = [("p_old", "100"), ("p20260101", "200"), ("p20260102", "300"), ("p_future", "MAXVALUE")]
    assert expired(partitions, 299) == ["p_old", "p20260101"]
    assert expired(partitions, 300) == ["p_old", "p20260101", "p20260102"]
    assert expired(partitions, 50) == []


def test_day_partitions_are_kept_ready_ahead_by_splitting_the_catch_all():
    today = NOW - NOW % DAY_MS
    ready = [("p_old", "1"), (day_name(today), str(today + DAY_MS)), ("p_future", "MAXVALUE")]
    statement = extend_ddl("luna_session", ready, NOW)
    assert statement.startswith("ALTER TABLE `luna_session` REORGANIZE PARTITION p_future INTO (PARTITION ")
    assert statement.count("VALUES LESS THAN (") == FUTURE_DAYS + 1 and statement.endswith("VALUES LESS THAN (MAXVALUE))")
    assert f"VALUES LESS THAN ({today + (FUTURE_DAYS + 1) * DAY_MS})" in statement
    far = [("p_old", "1"), ("pfar", str(today + 90 * DAY_MS)), ("p_future", "MAXVALUE")]
    assert extend_ddl("luna_session", far, NOW) is None


def test_the_horizon_is_the_shortest_reach_of_all_templates_and_none_when_one_keeps_forever(demo_template, db):
    from sessions.services.templates import save_template_version
    from tests.flows import mutated

    assert retention_horizon(NOW) is None  # the demo template has no retention
    demo_template.delete()
    save_template_version(mutated(lambda d: d.update(name="short", retention="30d")))
    save_template_version(mutated(lambda d: d.update(name="long", retention="90d")))
    assert retention_horizon(NOW) == NOW - 90 * DAY_MS


def test_off_tidb_no_partition_is_dropped(demo_template):
    assert drop_expired_partitions(now_ms=NOW) == []

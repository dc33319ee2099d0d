"""TiDB time partitions for retention (SPEC §5, issue 12): one RANGE partition per UTC day of the session start.

On TiDB, the tables that carry the session's start time — luna_session, luna_session_conclusion,
luna_session_rule_error — are rebuilt partitioned by `start_ms`, with the start in their clustered primary key
(a partitioned table's keys must hold the partition column; a clustered key cannot be altered in place, hence the
rebuild; a session's id already hashes its start, so (id, start_ms) is exactly as unique). Retention then drops whole days there instead of deleting row by row. `p_old` holds everything before
the first day, `p_future` (MAXVALUE) catches anything past the last, and the retention task keeps FUTURE_DAYS of day
partitions ready by splitting `p_future`. The field and node rows carry no start time (the sink would have to copy
it), so they are still deleted in batches, by session, before their sessions' partitions go.
Nothing here runs on MariaDB, MySQL or SQLite: retention keeps its batched deletes there.
"""
import re
from datetime import datetime, timezone
from typing import Any

from .tidb import is_tidb

DAY_MS = 86_400_000
PAST_DAYS, FUTURE_DAYS = 400, 30
# Table → whether its id is AUTO_RANDOM (see tidb.py); all three carry `start_ms`.
TIME_PARTITIONED = {"luna_session": False, "luna_session_conclusion": True, "luna_session_rule_error": True}
_PRIMARY_KEY = re.compile(r"PRIMARY KEY \(`id`\)")


def day_name(day_ms: int) -> str:
    return "p" + datetime.fromtimestamp(day_ms / 1000, tz=timezone.utc).strftime("%Y%m%d")


def day_floor(moment_ms: int) -> int:
    return moment_ms - moment_ms % DAY_MS


def day_partitions(first_ms: int, last_ms: int) -> list[str]:
    """`PARTITION pYYYYMMDD VALUES LESS THAN (next midnight)` for each day from first_ms's to last_ms's."""
    days = range(day_floor(first_ms), day_floor(last_ms) + 1, DAY_MS)
    return [f"PARTITION {day_name(day)} VALUES LESS THAN ({day + DAY_MS})" for day in days]


def partition_clause(now_ms: int) -> str:
    first = day_floor(now_ms) - PAST_DAYS * DAY_MS
    parts = [f"PARTITION p_old VALUES LESS THAN ({first})", *day_partitions(first, now_ms + FUTURE_DAYS * DAY_MS),
             "PARTITION p_future VALUES LESS THAN (MAXVALUE)"]
    return f"PARTITION BY RANGE (`start_ms`) ({', '.join(parts)})"


def partitioned_ddl(table: str, create_table: str, now_ms: int) -> list[str]:
    """The statements that rebuild `table` (its SHOW CREATE TABLE text) partitioned by day, keeping its rows."""
    if not _PRIMARY_KEY.search(create_table):
        raise ValueError(f"{table}: expected a primary key on `id` alone to extend with `start_ms`")
    rebuilt = _PRIMARY_KEY.sub("PRIMARY KEY (`id`, `start_ms`)", create_table, count=1)
    rebuilt = rebuilt.replace(f"CREATE TABLE `{table}`", f"CREATE TABLE `{table}__parted`", 1)
    return [
        f"{rebuilt} {partition_clause(now_ms)}",
        f"INSERT INTO `{table}__parted` SELECT * FROM `{table}`",
        f"RENAME TABLE `{table}` TO `{table}__unparted`, `{table}__parted` TO `{table}`",
        f"DROP TABLE `{table}__unparted`",
    ]


def partition_by_time(apps: Any, schema_editor: Any, now_ms: int | None = None) -> None:
    """Migration step: the rebuild above on TiDB; nothing elsewhere."""
    if not is_tidb(schema_editor.connection):
        return
    now_ms = int(datetime.now(timezone.utc).timestamp() * 1000) if now_ms is None else now_ms
    for table in TIME_PARTITIONED:
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(f"SHOW CREATE TABLE `{table}`")
            create_table = cursor.fetchone()[1]
        for statement in partitioned_ddl(table, create_table, now_ms):
            schema_editor.execute(statement)


def expired(partitions: list[tuple[str, str]], horizon_ms: int) -> list[str]:
    """Partitions (name, LESS THAN bound) holding only starts before `horizon_ms`: droppable whole."""
    return [name for name, bound in partitions if bound.isdigit() and int(bound) <= horizon_ms]


def extend_ddl(table: str, partitions: list[tuple[str, str]], now_ms: int) -> str | None:
    """Split p_future so day partitions reach FUTURE_DAYS ahead (None when they already do)."""
    bounds = [int(bound) for _, bound in partitions if bound.isdigit()]
    last = max(bounds) if bounds else day_floor(now_ms)
    wanted = day_floor(now_ms + FUTURE_DAYS * DAY_MS) + DAY_MS
    if last >= wanted:
        return None
    days = day_partitions(last, wanted - DAY_MS)
    return (f"ALTER TABLE `{table}` REORGANIZE PARTITION p_future INTO "
            f"({', '.join(days)}, PARTITION p_future VALUES LESS THAN (MAXVALUE))")


def partitions_of(connection: Any, table: str) -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT partition_name, partition_description FROM information_schema.partitions "
                       "WHERE table_schema = DATABASE() AND table_name = %s AND partition_name IS NOT NULL "
                       "ORDER BY partition_ordinal_position", [table])
        return [(name, str(bound)) for name, bound in cursor.fetchall()]

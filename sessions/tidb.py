"""TiDB-only DDL (SPEC §5: keys chosen to avoid write hotspots), emitted by migrations only when the server is TiDB.

`luna_session` needs nothing: its primary key is a 63-bit hash of (template, key, first event) — spread by
construction — and a single BIGINT primary key is clustered on TiDB by default. The child tables (fields, nodes,
conclusions, rule errors, revisions) and the dead-letter / late queues take an auto-increment id on every insert:
consecutive ids put every new row on one TiKV region, so on TiDB they become AUTO_RANDOM (random high bits, still
unique and BIGINT). Time partitioning by session start (for retention) is in tidb_partitions.py."""
from typing import Any

HOT_AUTO_INCREMENT_TABLES = (
    "luna_session_field", "luna_session_node", "luna_session_conclusion", "luna_session_rule_error",
    "luna_session_revision", "luna_dead_letter", "luna_late_event",
)


def is_tidb(connection: Any) -> bool:
    """Detected from the server's engine (django-tidb), never assumed from a URL alone."""
    return connection.settings_dict.get("ENGINE") == "django_tidb" or getattr(connection, "vendor", "") == "tidb"


def write_spread_ddl() -> list[str]:
    return [f"ALTER TABLE {table} MODIFY COLUMN id BIGINT NOT NULL AUTO_RANDOM(5)" for table in HOT_AUTO_INCREMENT_TABLES]


def spread_writes(apps: Any, schema_editor: Any) -> None:
    """Migration step: AUTO_RANDOM ids on TiDB; nothing on MariaDB/MySQL/SQLite."""
    if is_tidb(schema_editor.connection):
        for statement in write_spread_ddl():
            schema_editor.execute(statement)

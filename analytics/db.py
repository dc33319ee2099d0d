"""The `analytics` database alias: the same database by default; on TiDB it reads the TiFlash replica.

TiDB is detected from the connection's engine (django-tidb reports vendor "mysql"), so the same code path runs
everywhere and tests only give a connection that engine.
"""
import math
import os
from typing import Any

TIDB_SESSION = "SET SESSION tidb_isolation_read_engines = 'tiflash,tidb', SESSION tidb_allow_mpp = ON"
# MariaDB: a dashboard's GROUP BY over the fact table (50k groups of wide VARCHAR keys) stays in memory; the server's
# 16 MB default spills it to an on-disk temporary table (measured at 1 M sessions: 21.6 s → see docs/BENCHMARKS.md).
MYSQL_SESSION = "SET SESSION tmp_table_size = 268435456, SESSION max_heap_table_size = 268435456"
TIFLASH_TABLES = ("luna_session", "luna_session_field", "luna_session_conclusion", "luna_session_node", "analytics_rollup",
                  "analytics_session_fact", "analytics_rollup_hours", "analytics_rollup_days")
FIRST_TIFLASH_TABLES = TIFLASH_TABLES[:5]  # migration 0001's; 0002 adds the fact table
ALIAS = "analytics"


def analytics_database(default: dict[str, Any], url_config: dict[str, Any] | None = None) -> dict[str, Any]:
    """Settings of the `analytics` alias: `url_config` (LUNA_ANALYTICS_DATABASE_URL) or the default database.

    Tests mirror it onto the default test database. TiDB connections prefer TiFlash and allow MPP.
    """
    config = dict(url_config or default)
    config["OPTIONS"] = dict(config.get("OPTIONS") or {})
    if config.get("ENGINE") == "django_tidb":
        config["OPTIONS"]["init_command"] = TIDB_SESSION
    elif config.get("ENGINE") == "django.db.backends.mysql":
        config["OPTIONS"]["init_command"] = MYSQL_SESSION
    config["TEST"] = {"MIRROR": "default"} if url_config is None else dict(config.get("TEST") or {})
    return config


def is_tidb(connection: Any) -> bool:
    """django-tidb's engine (it reports vendor "mysql"): decided from the settings, no query needed."""
    return connection.settings_dict.get("ENGINE") == "django_tidb"


def tiflash_statements(connection: Any, replicas: int | None = None, tables: tuple[str, ...] = TIFLASH_TABLES) -> list[str]:
    """`ALTER TABLE … SET TIFLASH REPLICA n` for the analytic tables, only when the server is TiDB."""
    if not is_tidb(connection):
        return []
    count = int(os.environ.get("LUNA_TIFLASH_REPLICAS", 1)) if replicas is None else replicas
    return [f"ALTER TABLE {table} SET TIFLASH REPLICA {int(count)}" for table in tables]


def add_tiflash_replicas(apps, schema_editor) -> None:
    """Migration 0001: the analytic tables get a columnar replica on TiDB; nothing elsewhere."""
    for statement in tiflash_statements(schema_editor.connection, tables=FIRST_TIFLASH_TABLES):
        schema_editor.execute(statement)


def add_fact_tiflash_replica(apps, schema_editor) -> None:
    """Migration 0002: the session fact table's columnar replica (TiDB only)."""
    for statement in tiflash_statements(schema_editor.connection, tables=("analytics_session_fact",)):
        schema_editor.execute(statement)


def add_hours_tiflash_replica(apps, schema_editor) -> None:
    """Migration 0004: the columnar replica of the day rows without status/severity (TiDB only)."""
    for statement in tiflash_statements(schema_editor.connection, tables=("analytics_rollup_hours",)):
        schema_editor.execute(statement)


def add_days_tiflash_replica(apps, schema_editor) -> None:
    """Migration 0006: the columnar replica of the day rows without conclusion (TiDB only)."""
    for statement in tiflash_statements(schema_editor.connection, tables=("analytics_rollup_days",)):
        schema_editor.execute(statement)


def fill_rollup_days(apps, schema_editor) -> None:
    """Migration 0006: day rows without conclusion for what the rollups held before the tier, from the day rows with it."""
    from .query.printers import dialect_of
    from .rollups.sql import RollupSQL

    with schema_editor.connection.cursor() as cursor:
        cursor.execute(RollupSQL(dialect_of(schema_editor.connection)).days_from_hours_rows())


def fill_rollup_hours(apps, schema_editor) -> None:
    """Migration 0004: day rows without status/severity for what the rollups held before the tier, from their hour rows."""
    from .query.printers import dialect_of
    from .rollups.sql import RollupSQL

    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute(RollupSQL(dialect_of(connection)).hours_from_hour_rows(open_sessions=False), ["h"])


def fill_open_and_span(apps, schema_editor) -> None:
    """Migration 0005: the open sessions of the day rows without status (from the day rollups), and each template's
    histogram span (from those rows), for what the rollups held before."""
    from .query.printers import dialect_of
    from .rollups import span
    from .rollups.sql import RollupSQL

    sql = RollupSQL(dialect_of(schema_editor.connection))
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(sql.open_from_day_rows())
        span.fill(cursor, sql)


class AnalyticsRouter:
    """The alias points at an existing database: it is never migrated on its own."""

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        return False if db == ALIAS else None


class _Percentile:
    """SQLite aggregate LUNA_PERCENTILE(value, p): nearest rank, p in 0..100 (the other backends have one)."""

    def __init__(self) -> None:
        self.values: list[float] = []
        self.p = 50.0

    def step(self, value: float | None, p: float) -> None:
        if value is not None:
            self.values.append(value)
        self.p = p

    def finalize(self) -> float | None:
        if not self.values:
            return None
        self.values.sort()
        return self.values[max(0, math.ceil(self.p / 100 * len(self.values)) - 1)]


def _on_connection(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate("LUNA_PERCENTILE", 2, _Percentile)


def register_sqlite_functions() -> None:
    from django.db.backends.signals import connection_created

    connection_created.connect(_on_connection, dispatch_uid="analytics-sqlite-functions")

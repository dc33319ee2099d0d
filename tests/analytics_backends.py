"""Offline connections of each backend for SQL snapshots: they compile SQL and never connect.

TiDB cannot run here, so its connection is django-tidb's real wrapper with the server's answers filled in
(the detection and printing code paths are the real ones).
"""
import pytest
from django.db.utils import ConnectionHandler

SERVER = {"sql_mode": "", "default_storage_engine": "InnoDB", "sql_auto_is_null": False,
          "lower_case_table_names": False, "has_zoneinfo_database": True}


def offline_connections() -> dict:
    handler = ConnectionHandler({
        "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
        "mysql": {"ENGINE": "django.db.backends.mysql", "NAME": "luna"},
        "tidb": {"ENGINE": "django_tidb", "NAME": "luna"},
    })
    mysql, tidb = handler["mysql"], handler["tidb"]
    mysql.__dict__["mysql_server_data"] = {"version": "10.11.19-MariaDB", **SERVER}
    tidb.__dict__["tidb_server_data"] = {"version": "8.0.11-TiDB-v8.5.0", **SERVER}
    tidb.__dict__["mysql_server_data"] = {"version": "8.0.11-TiDB-v8.5.0", **SERVER}
    return {"sqlite": handler["default"], "mysql": mysql, "tidb": tidb}


@pytest.fixture
def analytics_db(db):
    """The `analytics` alias mirrors the default database; inside a test transaction it must also share its
    connection to see the test's rows (Django mirrors share settings, not connections)."""
    from django.db import connections

    previous = getattr(connections._connections, "analytics", None)
    connections._connections.analytics = connections["default"]
    yield
    if previous is None:
        del connections._connections.analytics
    else:
        connections._connections.analytics = previous

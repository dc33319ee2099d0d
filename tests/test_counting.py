"""Bounded counts (sessions/services/counting.py): stop at the cap, stop at the time limit, say which."""
from types import SimpleNamespace

import pytest
from django.db import DatabaseError, connection

from sessions.models import Session
from sessions.services.counting import AT_LEAST, EXACT, MORE_THAN, Count, bounded_count, time_limit_printer

SQL = "SELECT COUNT(*) FROM (SELECT `id` FROM luna_session LIMIT 10001) bounded"


@pytest.mark.parametrize(("vendor", "engine", "mariadb", "expected"), [
    ("mysql", "django.db.backends.mysql", True, f"SET STATEMENT max_statement_time=0.040 FOR {SQL}"),
    ("mysql", "django.db.backends.mysql", False, SQL.replace("SELECT", "SELECT /*+ MAX_EXECUTION_TIME(40) */", 1)),
    ("mysql", "django_tidb", False, SQL.replace("SELECT", "SELECT /*+ MAX_EXECUTION_TIME(40) */", 1)),
    ("sqlite", "django.db.backends.sqlite3", False, SQL),
])
def test_each_backend_prints_its_own_statement_time_limit(vendor, engine, mariadb, expected):
    backend = SimpleNamespace(vendor=vendor, settings_dict={"ENGINE": engine}, mysql_is_mariadb=mariadb)
    assert time_limit_printer(backend)(SQL, 40) == expected


@pytest.fixture
def five_sessions(demo_template):
    return Session.objects.bulk_create(
        Session(id=i, template=demo_template, session_key=f"C-{i}", start_ms=i, end_ms=i, duration_ms=0, status="complete",
                revision=1, completeness=1.0, updated_ms=0) for i in range(1, 6))


def test_counts_are_exact_up_to_the_cap_then_more_than_it(five_sessions):
    assert bounded_count(Session.objects.all(), cap=10) == Count(5, EXACT)
    assert bounded_count(Session.objects.all(), cap=5) == Count(5, EXACT)
    assert bounded_count(Session.objects.all(), cap=4) == Count(4, MORE_THAN)
    assert bounded_count(Session.objects.none()) == Count(0, EXACT)


@pytest.mark.skipif(connection.vendor != "mysql", reason="a server-side statement time limit (MariaDB/MySQL/TiDB)")
def test_a_count_the_time_limit_stops_says_at_least_what_was_seen_and_the_request_goes_on(five_sessions):
    slow = Session.objects.extra(where=["SLEEP(0.05) = 0"])  # 50 ms a row: five rows take 250 ms
    assert bounded_count(slow, seen=3, time_ms=20) == Count(3, AT_LEAST)
    assert Session.objects.count() == 5  # the surrounding transaction is still usable


def test_other_database_errors_are_not_taken_for_a_time_limit(five_sessions):
    with pytest.raises(DatabaseError):
        bounded_count(Session.objects.extra(where=["no_such_column = 1"]))


@pytest.fixture
def remembering(settings):
    from django.core.cache import cache

    settings.LUNA_COUNT_CACHE_S = 60
    cache.clear()
    yield
    cache.clear()


def test_a_count_past_the_cap_is_remembered_an_exact_one_is_not(five_sessions, remembering, settings):
    from django.test.utils import CaptureQueriesContext

    from sessions.services import paging

    settings.LUNA_COUNT_CAP = 3
    queryset = Session.objects.order_by("-start_ms", "-id")
    assert paging.window(queryset, size=2).count == Count(3, MORE_THAN)
    with CaptureQueriesContext(connection) as queries:
        assert paging.window(queryset, size=2).count == Count(3, MORE_THAN)
    assert not any("COUNT(" in query["sql"] for query in queries.captured_queries)  # only the page's own reads
    settings.LUNA_COUNT_CAP = 10
    assert paging.window(queryset, size=2).count == Count(5, EXACT)
    Session.objects.filter(pk=5).delete()
    assert paging.window(queryset, size=2).count == Count(4, EXACT)  # exact counts are counted every time


def test_a_conditions_selectivity_is_remembered_per_query(five_sessions, remembering):
    from django.test.utils import CaptureQueriesContext

    from sessions.services.counting import bounded_size

    assert bounded_size(Session.objects.filter(status="complete"), 2) == 3
    with CaptureQueriesContext(connection) as queries:
        assert bounded_size(Session.objects.filter(status="complete"), 2) == 3
        assert bounded_size(Session.objects.filter(status="closed"), 2) == 0
    assert len(queries.captured_queries) == 1  # the other status is another query

"""Keyset pages (sessions/services/paging.py): every row once, in order, both ways; deep pages read a range; bad
cursors are a 400 with a clear message."""
import base64
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings, strategies as st

from sessions.models import Session
from sessions.services import paging

ORDERS = ["-start_ms", "start_ms", "status", "-status", "-duration_ms", "session_key"]


@pytest.fixture
def tied_sessions(demo_template) -> list[Session]:
    """23 sessions whose sort values tie in threes (start, duration) or more (status): ties must not lose rows."""
    rows = [Session(id=100 + i, template=demo_template, session_key=f"T-{i % 7}-{i:02d}", start_ms=1000 + i // 3,
                    end_ms=2000, duration_ms=(i // 3) * 10, status=["complete", "timeout", "open"][i % 3], revision=1,
                    completeness=1.0, updated_ms=0) for i in range(23)]
    return Session.objects.bulk_create(rows)


def walk(queryset, size: int, backwards_from: str | None = None) -> list[list[int]]:
    pages, token = [], backwards_from
    while True:
        page = paging.window(queryset, token, size)
        pages.append([row.pk for row in page.rows])
        cursor = page.previous if backwards_from else page.next
        if cursor is None:
            return pages
        token = cursor.encode()


@pytest.mark.parametrize("order", ORDERS)
def test_walking_forward_then_back_visits_every_row_once_in_order(tied_sessions, order):
    queryset = Session.objects.order_by(order)
    direction = "-" if order.startswith("-") else ""
    expected = list(Session.objects.order_by(order, f"{direction}id").values_list("pk", flat=True))
    forward = walk(queryset, 5)
    assert [pk for page in forward for pk in page] == expected and [len(p) for p in forward] == [5, 5, 5, 5, 3]
    last = paging.window(queryset, None, 5)
    while last.next is not None:
        last = paging.window(queryset, last.next.encode(), 5)
    assert (last.position, last.first_row, last.last_row) == (20, 21, 23)
    assert last.previous is not None
    backward = walk(queryset, 5, backwards_from=last.previous.encode())
    assert [pk for page in reversed(backward) for pk in page] == expected[:20]


def test_a_deep_page_reads_a_range_after_its_cursor_not_an_offset(tied_sessions):
    queryset = Session.objects.order_by("-start_ms", "-id")
    cursor = paging.Cursor("-start_ms", 1003, 110, position=1000)
    with CaptureQueriesContext(connection) as queries:
        page = paging.window(queryset, cursor.encode(), 5)
    sql = queries.captured_queries[0]["sql"]
    assert "OFFSET" not in sql.upper() and "`start_ms` <= 1003" in sql.replace('"', "`")
    assert [row.pk for row in page.rows] == [109, 108, 107, 106, 105] and page.position == 1000


def test_a_first_page_that_holds_every_match_is_counted_from_its_rows(tied_sessions):
    with CaptureQueriesContext(connection) as queries:
        page = paging.window(Session.objects.order_by("-start_ms"), None, 50)
    assert (page.count.value, page.count.kind, len(queries)) == (23, "exact", 2)  # the ids, then their rows
    assert not any("COUNT(" in query["sql"] for query in queries.captured_queries)


def encoded(data) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode()


@pytest.mark.parametrize("text", [
    "not-base64!", encoded([1, 2]), encoded({"o": "-start_ms", "v": "soon", "i": 1}), encoded({"o": "-start_ms", "v": 5}),
    encoded({"o": "-nope", "v": 5, "i": 1}), encoded({"o": "-start_ms", "v": 5, "i": True}),
    encoded({"o": "-start_ms", "v": [5], "i": 1}), encoded({"o": "-start_ms", "v": 5, "i": 1, "p": -3}),
    encoded({"o": "-start_ms", "v": 5, "i": 2**70}),
])
def test_cursors_the_search_did_not_make_are_refused(text):
    with pytest.raises(paging.BadCursor):
        paging.Cursor.decode(text, Session)


@given(st.text(max_size=80) | st.builds(encoded, st.dictionaries(st.sampled_from("ovipb"), st.none() | st.integers() |
                                                                     st.floats() | st.text(max_size=5), max_size=5)))
@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_cursor_text_decodes_or_is_refused_never_crashes(text):
    try:
        cursor = paging.Cursor.decode(text, Session)
    except paging.BadCursor:
        return
    assert cursor.order.lstrip("-") in {f.name for f in Session._meta.fields}


def test_a_bad_or_foreign_cursor_is_a_400_on_the_api_and_the_page(tied_sessions, viewer_client):
    foreign = paging.Cursor("duration_ms", 10, 105).encode()
    response = viewer_client.get("/api/sessions/", {"cursor": foreign})
    assert response.status_code == 400 and "sort order 'duration_ms'" in response.json()["cursor"][0]
    assert viewer_client.get("/api/sessions/", {"cursor": "%%%"}).status_code == 400
    assert viewer_client.get("/", {"cursor": foreign}).status_code == 400
    assert viewer_client.get("/api/sessions/", {"cursor": foreign, "ordering": "duration"}).status_code == 200


def test_the_page_links_pages_by_cursor_and_says_which_rows_it_shows(tied_sessions, viewer_client, monkeypatch):
    from sessions.views import SessionSearchView

    monkeypatch.setattr(SessionSearchView, "paginate_by", 10)
    first = viewer_client.get("/")
    assert "Sessions 1–10" in first.content.decode() and first.context["page_obj"].next is not None
    second = viewer_client.get("/", {"cursor": first.context["page_obj"].next_token})
    body = second.content.decode()
    assert "Sessions 11–20" in body and 'rel="prev"' in body
    assert [s.pk for s in second.context["object_list"]] == [s.pk for s in Session.objects.order_by("-start_ms", "-id")[10:20]]


def test_the_schema_documents_the_cursor_and_the_count_kind(viewer_client):
    schema = viewer_client.get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/sessions/"]["get"]
    assert any(p["name"] == "cursor" and "keyset" in p["description"] for p in operation["parameters"])
    assert not any(p["name"] == "page" for p in operation["parameters"])
    kind = schema["components"]["schemas"]["PaginatedSessionListList"]["properties"]["count_kind"]
    assert schema["components"]["schemas"]["CountKindEnum"]["enum"] == ["exact", "more_than", "at_least", "estimate"]
    assert "LUNA_COUNT_TIME_MS" in kind["description"]


def test_the_first_pages_count_travels_in_the_cursor_so_later_pages_do_not_count_again(tied_sessions):
    queryset = Session.objects.order_by("-start_ms")
    first = paging.window(queryset, None, 5)
    assert first.count.value == 23 and first.next.count == first.count
    with CaptureQueriesContext(connection) as queries:
        second = paging.window(queryset, first.next.encode(), 5)
    assert second.count == first.count and not any("COUNT(" in query["sql"] for query in queries.captured_queries)
    stopped = paging.Cursor("-start_ms", 1003, 110, position=40, count=paging.Count(6, "at_least"))
    assert paging.window(queryset, stopped.encode(), 5).count == paging.Count(46, "at_least")  # never below what exists


def test_a_count_stopped_by_its_time_limit_is_estimated_from_the_newest_pages_density(demo_template, monkeypatch):
    """Evenly spread matches: 50 of them cover 1/20 of the span, so about 1,000 match; the page and the API say so."""
    Session.objects.bulk_create(Session(id=i, template=demo_template, session_key=f"E-{i}", start_ms=i * 1000, end_ms=0,
                                        duration_ms=0, status="complete", revision=1, completeness=1.0, updated_ms=0)
                                for i in range(1, 1001))
    monkeypatch.setattr(paging, "bounded_count", lambda queryset, seen: paging.Count(seen, "at_least"))
    page = paging.window(Session.objects.order_by("-start_ms"), None, 50)
    assert page.count.kind == "estimate" and 950 <= page.count.value <= 1050 and page.next.count == page.count
    later = paging.window(Session.objects.order_by("-start_ms"), page.next.encode(), 50)
    assert later.count == page.count
    monkeypatch.setattr(paging, "limited_rows", lambda *args: None)  # the oldest match out of time too
    assert paging.window(Session.objects.order_by("-start_ms"), None, 50).count == paging.Count(51, "at_least")

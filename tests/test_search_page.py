"""The search page as a user meets it: offered names, explained mistakes, sortable columns, CSV export, saved searches."""
import csv
import io

import pytest
from django.urls import reverse

from sessions.models import SavedSearch
from tests.factories import logged_in, make_user

pytestmark = pytest.mark.django_db


def page(client, **params) -> str:
    response = client.get(reverse("sessions:search"), params)
    assert response.status_code == 200
    return response.content.decode()


def test_the_readme_try_step_finds_the_lost_order_by_its_label(demo_sessions, viewer_client):
    body = page(viewer_client, conclusion="Paid but not delivered")
    assert ">ORD-1003</a>" in body and "1 session<" in body


def test_conclusions_are_offered_by_label_and_sent_by_code(demo_sessions, viewer_client):
    body = page(viewer_client)
    assert '<option value="lost_order">Paid but not delivered</option>' in body
    assert '<option value="critical">Critical</option>' in body, "a severity filter sits beside it"
    assert '<datalist id="luna-field-names">' in body and '<option value="amount_value">' in body


def test_an_unknown_field_is_named_on_the_page(demo_sessions, viewer_client):
    body = page(viewer_client, field="chanel", value="alipay")
    assert "Unknown field &#x27;chanel&#x27;" in body and "No session matches" in body


def test_column_headers_sort_and_reverse(demo_sessions, viewer_client):
    body = page(viewer_client, ordering="key")
    assert 'href="?ordering=-key"' in body and 'aria-sort="ascending"' in body
    assert 'href="?ordering=duration"' in body


def test_csv_export_streams_the_result_set_with_the_same_filters(demo_sessions, viewer_client):
    response = viewer_client.get(reverse("sessions:export"), {"where": "amount_value >= 6", "ordering": "key"})
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["id", "start", "session_key"]
    assert [row[2] for row in rows[1:]] == ["ORD-1001", "ORD-1002", "ORD-1003", "ORD-1004"]
    assert rows[3][5:7] == ["lost_order", "callback_missing;lost_order"]


def test_csv_export_is_bounded_and_says_so(demo_sessions, viewer_client, settings):
    settings.LUNA_EXPORT_MAX_ROWS = 2
    body = b"".join(viewer_client.get(reverse("sessions:export")).streaming_content).decode()
    lines = body.strip().splitlines()
    assert len(lines) == 4 and "truncated at 2 rows" in lines[-1]


def test_csv_export_refuses_a_bad_search(demo_sessions, viewer_client):
    response = viewer_client.get(reverse("sessions:export"), {"where": "amount_value > lots"})
    assert response.status_code == 400 and b"needs a number" in response.content


def test_a_saved_search_is_listed_replayed_and_forgotten_by_its_owner_only(demo_sessions, viewer_client, users):
    response = viewer_client.post(reverse("sessions:saved_search_create"), {"name": "Lost", "query": "conclusion=lost_order"})
    assert response.status_code == 302 and response["Location"].endswith("?conclusion=lost_order")
    saved = SavedSearch.objects.get(owner=users["viewer"])
    assert f'href="/?conclusion=lost_order">Lost</a>' in page(viewer_client)
    other = logged_in(make_user("other", "viewer"))
    assert ">Lost</a>" not in page(other)
    assert other.post(reverse("sessions:saved_search_delete", args=[saved.pk])).status_code == 404
    assert viewer_client.post(reverse("sessions:saved_search_delete", args=[saved.pk])).status_code == 302
    assert not SavedSearch.objects.exists()


def test_a_saved_search_needs_a_name(demo_sessions, viewer_client):
    response = viewer_client.post(reverse("sessions:saved_search_create"), {"name": "", "query": "q=x"}, follow=True)
    assert "This field is required" in response.content.decode() and not SavedSearch.objects.exists()

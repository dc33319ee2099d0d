"""Error pages keep the user oriented (role badge, menu); 4xx are logged as one line, not a traceback."""
import io
import logging

import pytest
from django.urls import reverse

from luna.errors import ClientErrorsOneLine

pytestmark = pytest.mark.django_db


def test_a_404_keeps_the_role_badge_and_the_jobs_link(demo_template, admin_client_luna):
    body = admin_client_luna.get("/no/such/page/").content.decode()
    assert '<span class="role">admin</span>' in body and 'href="/jobs/"' in body


def test_a_403_keeps_the_role_badge(viewer_client):
    response = viewer_client.get(reverse("operations:jobs"))
    body = response.content.decode()
    assert response.status_code == 403
    assert '<span class="role">viewer</span>' in body and "needs the admin role" in body


def test_a_404_other_than_a_session_does_not_talk_about_merged_sessions(demo_sessions, viewer_client):
    response = viewer_client.get(reverse("sessions:template", args=["no-such-template"]))
    assert response.status_code == 404
    assert "merged" not in response.content.decode() and '<span class="role">viewer</span>' in response.content.decode()


def test_a_search_page_with_a_cursor_it_did_not_make_says_so_in_a_400(demo_sessions, viewer_client):
    response = viewer_client.get(reverse("sessions:search"), {"cursor": "garbage"})
    assert response.status_code == 400 and "start again from the first page" in response.content.decode()


def test_a_missing_session_mentions_merging(demo_sessions, viewer_client):
    response = viewer_client.get(reverse("sessions:detail", args=[424242]))
    assert response.status_code == 404 and "merged" in response.content.decode()


def test_a_403_is_logged_as_one_line(viewer_client):
    handler = next(h for h in logging.getLogger().handlers if any(isinstance(f, ClientErrorsOneLine) for f in h.filters))
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        viewer_client.get(reverse("operations:jobs"))
    finally:
        handler.setStream(previous)
    assert "Forbidden (Permission denied): /jobs/" in stream.getvalue()
    assert "Traceback" not in stream.getvalue()


def test_a_csrf_failure_keeps_the_console_page(users):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(users["editor"])
    response = client.post(reverse("sessions:template_import"), {"document": "{}"})
    body = response.content.decode()
    assert response.status_code == 403 and "CSRF check failed" in body and '<span class="role">editor</span>' in body

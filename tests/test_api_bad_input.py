"""Bad input to the API and the import form gets a 4xx with a clear message, never a 500 (issue 8 items 8, 9)."""
import json

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from sessions.models import CorrelationReport

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor_api(users) -> APIClient:
    client = APIClient()
    client.force_authenticate(users["editor"])
    return client


@pytest.mark.parametrize("window", [
    {"until_ms": 11637418300536274944}, {"since_ms": 0, "until_ms": 1_000_000_000_000_000}, {"since_ms": -1},
    {"since_ms": 5, "until_ms": 5}, {"since_ms": "soon"},
])
def test_report_windows_that_cannot_be_shown_are_refused_and_not_stored(demo_template, editor_api, window):
    response = editor_api.post(reverse("template-report", args=["mobile-pay"]), window, format="json")
    assert response.status_code == 400, response.content
    assert not CorrelationReport.objects.exists()


def test_a_stored_out_of_range_report_breaks_no_page(demo_template, editor_api, viewer_client):
    CorrelationReport.objects.create(template=demo_template, since_ms=0, until_ms=10**15)
    assert viewer_client.get(reverse("sessions:template", args=["mobile-pay"])).status_code == 200
    body = editor_api.get(reverse("template-report", args=["mobile-pay"])).json()
    assert body["until"] == str(10**15)

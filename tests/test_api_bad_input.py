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


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


def with_description(demo_document, description) -> dict:
    return {**demo_document, "description": description}


@pytest.mark.parametrize("body, fragment", [
    ('{"name": "x", "description": "\\ud800"}', "lone surrogate"),
    ('{"name": "x", "extra": ' + deep(100_000) + "}", "nested deeper"),
    ('{"name": "x", "extra": ' + deep(990) + "}", "nested deeper"),
    ('{"name": "x", "amount": NaN}', "NaN is not valid JSON"),
    ('{"name": "x", "amount": -Infinity}', "-Infinity is not valid JSON"),
])
def test_malformed_documents_get_a_400_from_the_api(demo_template, editor_api, body, fragment):
    response = editor_api.generic("POST", reverse("template-list"), body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert fragment in json.dumps(response.json())


@pytest.mark.parametrize("text, fragment", [
    ('{"name": "x", "description": "\\ud800"}', "lone surrogate"),
    ('{"extra": ' + deep(100_000) + "}", "nested deeper"),
    ('{"extra": ' + deep(990) + "}", "nested deeper"),
    ('{"name": "x", "amount": NaN}', "NaN is not valid JSON"),
])
def test_malformed_documents_are_explained_by_the_import_form(demo_template, editor_client, text, fragment):
    from django.core.files.uploadedfile import SimpleUploadedFile

    pasted = editor_client.post(reverse("sessions:template_import"), {"document": text})
    uploaded = editor_client.post(reverse("sessions:template_import"), {"file": SimpleUploadedFile("t.json", text.encode())})
    for response in (pasted, uploaded):
        assert response.status_code == 200 and fragment in response.content.decode()


def test_the_service_refuses_values_json_cannot_store(demo_document):
    from django.core.exceptions import ValidationError
    from sessions.services.templates import save_template

    for bad in (with_description(demo_document, "\udc80 oops"), {**demo_document, "x": float("nan")}):
        with pytest.raises(ValidationError):
            save_template(bad)


def test_an_oversized_body_gets_json_naming_the_limit(demo_template, editor_api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = editor_api.generic("POST", reverse("template-list"), json.dumps({"name": "x" * 2000}), content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json" and "1000 bytes" in response.json()["detail"]


def test_an_oversized_form_gets_the_console_page(demo_template, editor_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = editor_client.post(reverse("sessions:template_import"), {"document": "x" * 2000})
    assert response.status_code == 400 and "1000 bytes" in response.content.decode()
    assert '<span class="role">editor</span>' in response.content.decode()


@pytest.mark.parametrize("params", [{"conclusion": "z*%gCB"}, {"field": "50%d", "value": "x"}, {"missing": "%s"},
                                    {"where": "a%(x)s = 1"}, {"where": "%"}])
def test_a_percent_sign_in_a_refused_name_is_a_400_quoting_it(params, viewer_client):
    response = viewer_client.get("/api/sessions/", params)
    assert response.status_code == 400
    text = next(iter(params.values()))
    assert text.split()[0] in str(response.json())

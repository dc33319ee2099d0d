"""REST API: authentication and roles, session search and detail shape, templates, dead letters, schema."""
import copy

import pytest
import yaml
from django.urls import reverse
from drf_spectacular.validation import validate_schema
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from sessions.models import TemplateVersion

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    ("session-list", {}),
    ("session-detail", {"pk": 1001}),
    ("template-list", {}),
    ("template-detail", {"name": "mobile-pay"}),
    ("template-export", {"name": "mobile-pay"}),
    ("dead-letter-list", {}),
    ("api-schema", {}),
    ("api-docs", {}),
]


def api(user=None, token: bool = False) -> APIClient:
    client = APIClient()
    if user is not None and token:
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    elif user is not None:
        client.force_authenticate(user)
    return client


@pytest.mark.parametrize("name, kwargs", ENDPOINTS)
def test_every_endpoint_rejects_anonymous_callers(demo_sessions, name, kwargs):
    assert api().get(reverse(name, kwargs=kwargs)).status_code in (401, 403)


def test_a_user_without_role_is_forbidden(demo_sessions, users):
    assert api(users["norole"]).get(reverse("session-list")).status_code == 403


def test_token_authentication_works(demo_sessions, users):
    response = api(users["viewer"], token=True).get(reverse("session-list"))
    assert response.status_code == 200 and response.json()["count"] == 6
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert bad.get(reverse("session-list")).status_code in (401, 403)  # 403: SessionAuthentication comes first


def test_session_list_uses_the_search_filters(demo_sessions, users):
    client = api(users["viewer"])
    url = reverse("session-list")
    assert [r["session_key"] for r in client.get(url, {"field": "amount_value", "value": "6"}).json()["results"]] == ["ORD-1001"]
    assert [r["session_key"] for r in client.get(url, {"q": "TX-9002"}).json()["results"]] == ["ORD-1002"]
    assert client.get(url, {"conclusion": "callback_missing"}).json()["count"] == 1
    assert client.get(url, {"since": "2024-05-02", "template": "mobile-pay"}).json()["count"] == 3
    row = client.get(url, {"key": "ORD-1003"}).json()["results"][0]
    assert row["template"] == "mobile-pay" and row["primary_conclusion"] == "lost_order"
    assert row["start"] == "2024-05-01T10:00:00.000Z" and row["status"] == "closed"
    assert {c["name"] for c in row["conclusions"]} == {"lost_order", "callback_missing"}


def test_session_list_rejects_bad_filters_with_400(demo_sessions, users):
    response = api(users["viewer"]).get(reverse("session-list"), {"since": "tomorrow-ish"})
    assert response.status_code == 400 and "since" in response.json()


def test_session_list_is_paginated(demo_template, users):
    from tests.factories import SessionSpec, make_session, payment_events

    for i in range(55):
        make_session(demo_template, SessionSpec(f"P-{i}", i, payment_events(f"P-{i}", ""), {}, []), 3000 + i)
    client = api(users["viewer"])
    body = client.get(reverse("session-list")).json()
    assert body["count"] == 55 and len(body["results"]) == 50 and "cursor=" in body["next"] and body["previous"] is None
    second = client.get(body["next"]).json()
    assert [row["session_key"] for row in second["results"]] == [f"P-{i}" for i in range(4, -1, -1)]
    assert (second["position"], second["next"], second["count"]) == (50, None, 55)
    back = client.get(second["previous"]).json()  # the page before the second is the first: a plain link
    assert "cursor" not in second["previous"] and back["results"] == body["results"]


def test_session_detail_shape(demo_sessions, users):
    session = demo_sessions["duplicate"]
    body = api(users["viewer"]).get(reverse("session-detail", args=[session.pk])).json()
    assert {"id", "template", "session_key", "start_ms", "end_ms", "duration_ms", "status", "revision", "completeness",
            "primary_conclusion", "conclusions", "split", "prev_id", "next_id", "nodes", "fields"} <= set(body)
    assert (body["id"], body["revision"], body["status"]) == (session.pk, 4, "complete")
    assert body["conclusions"] == [{"name": "duplicate_delivery", "label": "Delivered more than once", "severity": "critical"}]
    assert body["fields"]["trans_id"] == "TX-9002" and body["fields"]["amount_value"] == 30.0
    deliveries = [n for n in body["nodes"] if n["node"] == "delivery"]
    assert [(d["seq"], d["supplement"], d["source"]) for d in deliveries] == [(0, True, "gamesvr"), (1, True, "gamesvr")]
    assert deliveries[1]["raw"] == {"trans_id": "TX-9002", "item": {"sku": "gems-60"}, "delivery_no": 2}  # parsed JSON
    assert deliveries[0]["event_ms"] == session.start_ms + 40_000
    assert deliveries[0]["event_time"] == "2024-05-01T09:00:40.000Z"
    assert [n["event_ms"] for n in body["nodes"]] == sorted(n["event_ms"] for n in body["nodes"])


def test_session_detail_links_split_parts(demo_sessions, users):
    body = api(users["viewer"]).get(reverse("session-detail", args=[demo_sessions["split_b"].pk])).json()
    assert body["split"] is True and body["prev_id"] == demo_sessions["split_a"].pk and body["next_id"] is None


def test_template_list_and_detail(demo_sessions, users):
    client = api(users["viewer"])
    row = client.get(reverse("template-list")).json()["results"][0]
    assert (row["name"], row["current_version"], row["version_count"], row["session_count"]) == ("mobile-pay", 1, 1, 6)
    body = client.get(reverse("template-detail", args=["mobile-pay"])).json()
    assert body["document"]["name"] == "mobile-pay" and body["document"]["session"]["key"] == "order_id"
    assert [v["number"] for v in body["versions"]] == [1]
    assert client.get(reverse("template-detail", args=["nope"])).status_code == 404


def test_a_viewer_cannot_post_templates(demo_template, demo_document, users):
    client = api(users["viewer"])
    assert client.post(reverse("template-list"), dict(demo_document, description="x"), format="json").status_code == 403
    assert TemplateVersion.objects.count() == 1


def test_an_editors_import_is_a_draft_and_reimport_is_a_no_op(demo_template, demo_document, users):
    from studio.models import Draft

    client = api(users["editor"])
    changed = dict(demo_document, description="second")
    response = client.post(reverse("template-list"), changed, format="json")
    draft = Draft.objects.get()
    assert response.status_code == 202
    assert response.json() == {"name": "mobile-pay", "outcome": "draft", "version": None, "created": False, "fingerprint": None,
                               "draft": draft.pk, "wizard_url": f"/studio/drafts/{draft.pk}/?step=review", "job": "", "rollout": []}
    again = client.post(reverse("template-list"), demo_document, format="json")
    assert again.status_code == 200 and again.json()["outcome"] == "unchanged" and again.json()["version"] == 1
    assert client.post(reverse("template-list") + "?activate=true", changed, format="json").status_code == 403
    assert client.post(reverse("template-list") + "?activate=maybe", changed, format="json").status_code == 400
    assert TemplateVersion.objects.count() == 1


def test_the_single_admin_activates_on_import(demo_template, demo_document, users, settings):
    client = api(users["admin"])
    changed = dict(demo_document, description="second")
    assert client.post(reverse("template-list") + "?activate=true", changed, format="json").status_code == 403
    settings.LUNA_STUDIO_SINGLE_ADMIN = True
    response = client.post(reverse("template-list") + "?activate=true", changed, format="json")
    assert response.status_code == 201
    assert response.json() | {"fingerprint": None} == {"name": "mobile-pay", "outcome": "activated", "version": 2, "created": True,
                                                        "fingerprint": None, "draft": None, "wizard_url": "",
                                                        "job": "no running job", "rollout": []}
    assert TemplateVersion.objects.get(number=2).created_by == users["admin"]


def test_a_bad_document_returns_400_with_every_error(demo_template, demo_document, users):
    doc = copy.deepcopy(demo_document)
    doc["nodes"][4]["join"]["on"] = "nothing"
    doc["conclusions"][1]["severity"] = "apocalyptic"
    doc["dimensions"].append("zodiac")
    response = api(users["editor"]).post(reverse("template-list"), doc, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert any("conclusions.1.severity" in e for e in errors)  # schema errors come first, all of them
    doc["conclusions"][1]["severity"] = "high"
    errors = api(users["editor"]).post(reverse("template-list"), doc, format="json").json()["errors"]
    assert any("nodes.callback.join.on" in e for e in errors) and any("zodiac" in e for e in errors)
    assert TemplateVersion.objects.count() == 1


def test_non_json_posts_are_refused(demo_template, users):
    client = api(users["editor"])
    assert client.post(reverse("template-list"), {"name": "x"}).status_code == 415  # multipart
    assert client.post(reverse("template-list"), [1, 2], format="json").json() == {"errors": ["The template document must be a JSON object."]}


def test_export_returns_the_document_exactly(demo_template, demo_document, users):
    client = api(users["editor"])
    response = client.get(reverse("template-export", args=["mobile-pay"]))
    assert response.status_code == 200 and response.json() == demo_document
    assert "mobile-pay-v1.json" in response["Content-Disposition"]
    assert client.get(reverse("template-export", args=["mobile-pay"]), {"version": 3}).status_code == 404
    assert client.post(reverse("template-list"), response.json(), format="json").status_code == 200


def test_dead_letters_filter(dead_letters, users):
    client = api(users["viewer"])
    url = reverse("dead-letter-list")
    assert client.get(url, {"template": "mobile-pay"}).json()["count"] == 4
    rows = client.get(url, {"source": "billing"}).json()["results"]
    assert len(rows) == 2 and rows[0]["raw"] == "{also bad" and rows[0]["origin"].endswith(":9")
    assert client.get(url, {"reason": "unparseable time"}).json()["count"] == 1


def test_schema_is_served_and_valid(users):
    client = api(users["viewer"])
    response = client.get(reverse("api-schema"), {"format": "json"})
    assert response.status_code == 200
    schema = response.json() if response["Content-Type"].startswith("application/json") else yaml.safe_load(response.content)
    validate_schema(schema)
    assert {"/api/sessions/", "/api/sessions/{id}/", "/api/templates/", "/api/templates/{name}/",
            "/api/templates/{name}/export/", "/api/dead-letters/"} <= set(schema["paths"])
    params = {p["name"] for p in schema["paths"]["/api/sessions/"]["get"]["parameters"]}
    assert {"q", "key", "field", "value", "conclusion", "status", "since", "until", "min_duration", "template"} <= params
    assert client.get(reverse("api-docs")).status_code == 200


def test_session_list_query_count_does_not_grow_with_rows(demo_template, users, django_assert_max_num_queries):
    from tests.factories import SessionSpec, make_session, payment_events

    for i in range(40):
        make_session(demo_template, SessionSpec(f"Q-{i}", i, payment_events(f"Q-{i}", ""), {}, ["abandoned"]), 4000 + i)
    client = api(users["viewer"])
    # role, template ids, count, rows, templates, conclusions
    with django_assert_max_num_queries(6):
        assert len(client.get(reverse("session-list")).json()["results"]) == 40


def test_the_fast_list_rows_equal_what_the_generic_serializer_would_write(demo_sessions):
    """SessionListSerializer writes rows without DRF's per-field machinery; the result must not differ from it."""
    from rest_framework.serializers import ModelSerializer

    from sessions.api.serializers import SessionListSerializer
    from sessions.services.search import search_queryset

    rows = list(search_queryset())
    serializer = SessionListSerializer(rows, many=True)
    generic = [ModelSerializer.to_representation(serializer.child, row) for row in rows]
    assert serializer.data == generic and len(generic) == len(demo_sessions)

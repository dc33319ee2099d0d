"""Studio API: the check endpoint, samples, live tree, drafts and dry run; bad input is a 4xx, never a 500."""
import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from studio.models import Draft
from tests.studio_support import demo_logs  # noqa: F401 — fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(demo_logs, demo_document) -> Draft:
    return Draft.objects.create(name="mobile-pay", document=demo_document)


def test_check_returns_errors_with_their_column(editor_client, draft):
    r = editor_client.post("/api/studio/check/", {"expr": "has(delivery) && delivery.cont > 1", "kind": "conclusion",
                                                  "draft": draft.pk}, content_type="application/json")
    assert r.status_code == 200
    body = r.json()
    assert body["ok"] is False and body["errors"][0]["column"] == 27


def test_check_returns_the_value_on_the_sample_sessions(editor_client, draft):
    r = editor_client.post("/api/studio/check/", {"expr": "session.duration", "kind": "field", "draft": draft.pk},
                           content_type="application/json")
    body = r.json()
    assert body["ok"] and body["values"] and all(isinstance(v["value"], int) for v in body["values"])


def test_check_uses_the_document_the_page_sends(editor_client, draft, demo_document):
    doc = dict(demo_document, fields=[])
    r = editor_client.post("/api/studio/check/", {"expr": "pay_ms > 0", "kind": "conclusion", "draft": draft.pk, "document": doc},
                           content_type="application/json")
    assert "unknown name 'pay_ms' at column 1" in r.json()["errors"][0]["message"]


def test_samples_endpoint(editor_client, draft):
    r = editor_client.get("/api/studio/samples/", {"location": "mobile-pay/client", "time_path": "ts"})
    body = r.json()
    assert r.status_code == 200 and body["suggested_format"] == "epoch_ms" and "txn.id" in body["paths"]
    assert all(t["iso"] and not t["error"] for t in body["times"])
    failing = editor_client.get("/api/studio/samples/", {"location": "mobile-pay/client", "time_path": "ts", "time_format": "iso8601"}).json()
    assert all(t["error"] for t in failing["times"])
    assert editor_client.get("/api/studio/samples/", {"location": "/etc"}).status_code == 400


def test_tree_endpoint_draws_with_the_session_page_template(editor_client, draft, demo_document):
    r = editor_client.post("/api/studio/tree/", {"nodes": demo_document["nodes"]}, content_type="application/json")
    assert r.status_code == 200 and 'id="node-callback"' in r.json()["html"] and "supplement" in r.json()["html"]


def test_drafts_and_dry_run(editor_client, draft, demo_document):
    created = editor_client.post("/api/studio/drafts/", {"name": "other", "document": demo_document}, content_type="application/json")
    assert created.status_code == 201 and created.json()["document"]["name"] == "other"
    run = editor_client.post(f"/api/studio/drafts/{draft.pk}/dry-run/")
    body = run.json()
    assert run.status_code == 200 and len(body["sessions"]) >= 40 and sum(body["conclusions"].values()) > 0
    broken = Draft.objects.create(name="broken", document={"name": "broken"})
    assert editor_client.post(f"/api/studio/drafts/{broken.pk}/dry-run/").status_code == 400


def test_the_schema_documents_every_studio_operation(viewer_client):
    schema = viewer_client.get("/api/schema/").content.decode()
    for path in ("/api/studio/check/", "/api/studio/samples/", "/api/studio/tree/", "/api/studio/drafts/{id}/dry-run/"):
        assert path in schema


@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.dictionaries(st.sampled_from(["expr", "kind", "draft", "node", "document"]),
                            st.one_of(st.text(max_size=40), st.integers(), st.none(), st.lists(st.integers(), max_size=3))))
def test_bad_check_requests_are_4xx(editor_client, draft, body):
    r = editor_client.post("/api/studio/check/", body, content_type="application/json")
    assert r.status_code in (200, 400, 404)


def test_a_draft_keeps_its_template_name(editor_client, draft, demo_document):
    r = editor_client.put(f"/api/studio/drafts/{draft.pk}/", {"document": dict(demo_document, name="elsewhere")},
                          content_type="application/json")
    assert r.status_code == 200 and r.json()["document"]["name"] == "mobile-pay" and r.json()["name"] == "mobile-pay"
    deep = editor_client.put(f"/api/studio/drafts/{draft.pk}/", '{"document": ' + "[" * 40 + "]" * 40 + "}",
                             content_type="application/json")
    assert deep.status_code == 400


@hsettings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(source=st.dictionaries(st.sampled_from(["name", "time", "fields", "location"]),
                              st.one_of(st.text(max_size=10), st.integers(), st.none(), st.just({"format": 1}),
                                        st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2))))
def test_a_malformed_page_document_is_never_a_500(editor_client, draft, source):
    document = {"name": "x", "sources": [dict(source, name="s")], "nodes": [{"name": "n", "source": "s"}]}
    for kind in ("when", "field"):
        r = editor_client.post("/api/studio/check/", {"expr": "a == 1", "kind": kind, "draft": draft.pk, "node": "n",
                                                      "document": document}, content_type="application/json")
        assert r.status_code == 200

"""The wizard through the test client: every step checks its own part, the draft resumes, review saves."""
import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from sessions.models import AnalysisTemplate
from studio.models import Draft, Proposal
from tests.studio_support import demo_logs, node_rows, source_rows, step_data  # noqa: F401 — fixture

pytestmark = pytest.mark.django_db


def _url(draft) -> str:
    return f"/studio/drafts/{draft.pk}/"


def _post(client, draft, step, rows):
    return client.post(_url(draft), step_data(f"studio_draft_{draft.pk}", step, rows))


def _new_draft(client, name="mobile-pay") -> Draft:
    response = client.post("/studio/", {"name": name})
    assert response.status_code == 302
    return Draft.objects.get(pk=int(response.url.rstrip("/").split("/")[-1]))


def test_the_wizard_builds_the_demo_template_step_by_step(editor_client, demo_logs, demo_document):
    draft = _new_draft(editor_client)
    assert editor_client.get(_url(draft)).status_code == 200
    r = _post(editor_client, draft, "sources", source_rows(demo_document))
    assert r.status_code == 200 and r.context["wizard"]["steps"].current == "tree", r.content.decode()[:3000]
    r = _post(editor_client, draft, "tree", node_rows(demo_document))
    assert r.context["wizard"]["steps"].current == "session"
    assert b'class="tree"' in r.content and b"node-delivery" in r.content, "the tree is drawn as on the session page"
    session = dict(demo_document["session"], complete_when=demo_document["session"]["complete_when"])
    r = _post(editor_client, draft, "session", session)
    assert r.context["wizard"]["steps"].current == "fields"
    r = _post(editor_client, draft, "fields", demo_document["fields"])
    r = _post(editor_client, draft, "conclusions", demo_document["conclusions"])
    r = _post(editor_client, draft, "dimensions", {"description": demo_document["description"], "dimensions": ["channel", "region"]})
    assert r.context["wizard"]["steps"].current == "review"
    draft.refresh_from_db()
    assert draft.step == "review"
    assert {k: draft.document[k] for k in ("sources", "nodes", "session", "fields", "conclusions", "dimensions")} == \
        {k: demo_document[k] for k in ("sources", "nodes", "session", "fields", "conclusions", "dimensions")}
    fragment = editor_client.get(f"{_url(draft)}dry-run/")
    assert fragment.status_code == 200 and b"dry-run-conclusions" in fragment.content and b"class=\"tree\"" in fragment.content
    r = _post(editor_client, draft, "review", {})
    proposal = Proposal.objects.get()
    assert r.status_code == 302 and r.url == f"/studio/proposals/{proposal.pk}/"
    assert proposal.document == draft.document and proposal.status == "proposed"
    assert not AnalysisTemplate.objects.filter(name="mobile-pay").exists(), "nothing is active before an admin activates it"
    assert not Draft.objects.filter(pk=draft.pk).exists()


def test_a_draft_resumes_at_its_step_with_its_values(editor_client, demo_logs, demo_document):
    draft = _new_draft(editor_client)
    rows = source_rows(demo_document)
    rows[0]["topic"] = "billing-events"
    _post(editor_client, draft, "sources", rows)
    draft.refresh_from_db()
    assert draft.document["sources"][0]["topic"] == "billing-events" and "topic" not in draft.document["sources"][1]
    page = editor_client.get(_url(draft))
    assert page.context["wizard"]["steps"].current == "tree"
    back = editor_client.get(_url(draft) + "?step=sources")
    assert b"mobile-pay/billing" in back.content and b"order_id = order.id" in back.content and b"billing-events" in back.content


def test_a_step_refuses_a_time_format_that_fails_on_the_samples(editor_client, demo_logs, demo_document):
    draft = _new_draft(editor_client)
    rows = source_rows(demo_document)
    rows[1]["time_format"] = "iso8601"
    r = _post(editor_client, draft, "sources", rows)
    assert r.context["wizard"]["steps"].current == "sources"
    text = r.content.decode()
    assert "samples fail to parse" in text and "The samples suggest &#x27;epoch_ms&#x27;" in text


def test_the_tree_step_explains_a_cycle(editor_client, demo_logs, demo_document):
    draft = _new_draft(editor_client)
    _post(editor_client, draft, "sources", source_rows(demo_document))
    rows = node_rows(demo_document)
    rows[0]["parent"] = "verified"
    r = _post(editor_client, draft, "tree", rows)
    assert r.context["wizard"]["steps"].current == "tree"
    assert "the tree has a cycle" in r.content.decode() and "another parent" in r.content.decode()


def test_an_imported_document_opens_in_the_wizard(editor_client, demo_logs, demo_document, tmp_path):
    upload = tmp_path / "doc.json"
    upload.write_text(json.dumps(demo_document))
    with upload.open("rb") as handle:
        response = editor_client.post("/studio/", {"upload": handle})
    draft = Draft.objects.get()
    assert response.url == _url(draft) and draft.document["nodes"] == demo_document["nodes"]


def test_a_bad_import_is_a_400_with_the_reason(editor_client, tmp_path):
    upload = tmp_path / "doc.json"
    upload.write_text('{"name": NaN}')
    with upload.open("rb") as handle:
        response = editor_client.post("/studio/", {"upload": handle})
    assert response.status_code == 400 and b"not a usable JSON document" in response.content


def test_the_studio_needs_the_editor_role(viewer_client, users):
    assert viewer_client.get("/studio/").status_code == 403
    draft = Draft.objects.create(name="x", document={})
    assert viewer_client.get(_url(draft)).status_code == 403
    assert viewer_client.post("/api/studio/check/", {"expr": "1", "kind": "field", "draft": draft.pk}).status_code == 403


def test_the_review_diff_is_against_the_active_version(editor_client, demo_logs, demo_template, demo_document):
    draft = _new_draft(editor_client)  # an existing template: its current document
    changed = copy.deepcopy(draft.document)
    changed["conclusions"][0]["severity"] = "high"
    draft.document = changed
    draft.step = "review"
    draft.save()
    page = editor_client.get(_url(draft))
    diff = page.context["diff"]
    assert '-      "severity": "low",' in diff and '+      "severity": "high",' in diff


@hsettings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(step=st.sampled_from(["sources", "tree", "session", "fields", "conclusions", "dimensions", "review"]),
       values=st.dictionaries(st.sampled_from(["0-name", "0-location", "0-time_format", "0-field_paths", "0-parent", "0-when",
                                               "0-expr", "key", "gap", "complete_when", "TOTAL_FORMS", "dimensions"]),
                              st.text(max_size=30)))
def test_any_step_input_is_a_page_or_a_4xx_never_a_500(editor_client, step, values):
    draft = Draft.objects.create(name="fuzz", document={"name": "fuzz"})
    data = {f"studio_draft_{draft.pk}-current_step": step, f"{step}-INITIAL_FORMS": "0", f"{step}-TOTAL_FORMS": "1"}
    data.update({f"{step}-{k}": v for k, v in values.items()})
    assert editor_client.post(_url(draft), data).status_code in (200, 302, 400)


def test_the_review_step_offers_a_backtest_only_against_an_active_version(editor_client, demo_logs, demo_document):
    draft = Draft.objects.create(name="mobile-pay", document=demo_document, step="review")
    assert b"start-backtest" not in editor_client.get(_url(draft)).content
    from sessions.services.templates import save_template_version

    save_template_version(demo_document)
    assert b"start-backtest" in editor_client.get(_url(draft)).content

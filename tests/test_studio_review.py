"""Versions with review: maker/checker rules, audit rows, activation outcome, rollback, restart on confirmation."""
import copy

import pytest
from django.core.exceptions import PermissionDenied

from sessions.models import AnalysisTemplate
from studio.models import AuditEntry, Draft, Proposal
from studio.services import review
from tests.factories import logged_in, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def proposal(users, demo_document) -> Proposal:
    draft = Draft.objects.create(name=demo_document["name"], document=demo_document, owner=users["editor"])
    return review.propose(draft, users["editor"])


def test_an_editor_proposes_and_another_admin_approves_and_activates(proposal, users):
    review.approve(proposal, users["admin"], "looks right")
    activation = review.activate(proposal, users["admin"])
    assert activation.version.number == 1 and activation.outcome == "no running job"
    assert activation.version.created_by == users["admin"]
    proposal.refresh_from_db()
    assert proposal.status == "activated" and proposal.version == 1
    rows = list(AuditEntry.objects.order_by("pk").values_list("action", "actor__username", "version"))
    assert rows == [("proposed", "editor", None), ("approved", "admin", None), ("activated", "admin", 1)]


def test_an_admin_cannot_approve_their_own_proposal(users, demo_document):
    draft = Draft.objects.create(name="mobile-pay", document=demo_document)
    own = review.propose(draft, users["admin"])
    with pytest.raises(PermissionDenied, match="own proposal"):
        review.approve(own, users["admin"])
    assert AuditEntry.objects.filter(action="approved").count() == 0


def test_the_single_admin_setting_allows_self_approval_and_says_so(users, demo_document, settings):
    settings.LUNA_STUDIO_SINGLE_ADMIN = True
    own = review.propose(Draft.objects.create(name="mobile-pay", document=demo_document), users["admin"])
    review.approve(own, users["admin"])
    assert "single-admin setting" in AuditEntry.objects.get(action="approved").detail


def test_an_editor_cannot_approve_and_nothing_unapproved_activates(proposal, users):
    with pytest.raises(PermissionDenied):
        review.approve(proposal, users["editor"])
    with pytest.raises(review.ReviewError, match="proposed"):
        review.activate(proposal, users["admin"])
    assert not AnalysisTemplate.objects.exists()


def test_a_rejected_proposal_cannot_be_approved(proposal, users):
    review.reject(proposal, users["admin"], "wrong key")
    with pytest.raises(review.ReviewError, match="rejected"):
        review.approve(proposal, users["admin"])


def test_a_proposal_must_compile(users):
    with pytest.raises(Exception, match="sources"):
        review.propose(Draft.objects.create(name="x", document={"name": "x"}), users["editor"])
    assert not Proposal.objects.exists()


def test_rollback_makes_an_earlier_document_current_and_is_audited(proposal, users, demo_document):
    review.approve(proposal, users["admin"])
    review.activate(proposal, users["admin"])
    changed = copy.deepcopy(demo_document)
    changed["conclusions"][0]["severity"] = "high"
    second = review.propose(Draft.objects.create(name="mobile-pay", document=changed), users["editor"])
    review.approve(second, users["admin"])
    assert review.activate(second, users["admin"]).version.number == 2
    activation = review.rollback("mobile-pay", 1, users["admin"])
    assert activation.version.number == 3 and activation.version.document == demo_document
    assert AuditEntry.objects.filter(action="rolled_back", version=3, detail__contains="v1").exists()
    diffs = review.version_diffs("mobile-pay")
    assert [v.number for v, _ in diffs] == [3, 2, 1] and '+      "severity": "high",' in diffs[1][1]


def test_restart_on_confirmation_stops_then_starts_the_new_version(proposal, users, monkeypatch):
    review.approve(proposal, users["admin"])
    review.activate(proposal, users["admin"])
    calls = []

    class Run:
        pk = 7
        version = AnalysisTemplate.objects.get().current_version

    monkeypatch.setattr(review.job_control, "active_run", lambda template_id: object())
    monkeypatch.setattr(review.job_control, "stop", lambda template_id: calls.append("stop") or Run())
    monkeypatch.setattr(review.job_control, "start", lambda template_id: calls.append("start") or Run())
    message = review.restart("mobile-pay", users["admin"])
    assert calls == ["stop", "start"] and message == "stopped run 7 with a savepoint; started v1 as run 7"
    assert AuditEntry.objects.get(action="restarted").detail == message


def test_pages_and_api_enforce_the_same_rules(proposal, users, editor_client, admin_client_luna):
    assert editor_client.post(f"/studio/proposals/{proposal.pk}/approve/").status_code == 403
    assert editor_client.post(f"/api/studio/proposals/{proposal.pk}/approve/").status_code == 403
    other = make_user("admin2", "admin")
    r = logged_in(other).post(f"/api/studio/proposals/{proposal.pk}/approve/", {"comment": "ok"}, content_type="application/json")
    assert r.status_code == 200 and r.json()["status"] == "approved"
    r = admin_client_luna.post(f"/api/studio/proposals/{proposal.pk}/activate/")
    assert r.status_code == 200 and r.json() == {"version": 1, "outcome": "no running job", "messages": []}
    again = admin_client_luna.post(f"/api/studio/proposals/{proposal.pk}/activate/")
    assert again.status_code == 400 and "activated" in again.json()["detail"]
    audit = editor_client.get("/api/studio/audit/", {"template": "mobile-pay"}).json()
    assert [row["action"] for row in audit["results"]] == ["activated", "approved", "proposed"]
    page = editor_client.get("/studio/audit/")
    assert page.status_code == 200 and b"audit-activated" in page.content
    assert editor_client.get("/studio/templates/mobile-pay/versions/").status_code == 200
    assert admin_client_luna.post("/api/studio/rollback/", {"template": "mobile-pay", "version": 9},
                                  content_type="application/json").status_code == 400


def test_self_approval_through_the_page_is_refused_with_a_message(users, admin_client_luna, demo_document):
    own = review.propose(Draft.objects.create(name="mobile-pay", document=demo_document), users["admin"])
    r = admin_client_luna.post(f"/studio/proposals/{own.pk}/approve/")
    assert r.status_code == 403
    r = admin_client_luna.post(f"/api/studio/proposals/{own.pk}/approve/")
    assert r.status_code == 403 and "own proposal" in r.json()["detail"]


def test_restart_is_queued_only_for_an_activated_proposal(proposal, users, admin_client_luna, monkeypatch):
    from studio import tasks

    queued = []
    monkeypatch.setattr(tasks.restart_template_job, "delay", lambda name, user_id: queued.append((name, user_id)) or
                        type("Result", (), {"id": "task-1"})())
    assert admin_client_luna.post(f"/api/studio/proposals/{proposal.pk}/restart/").status_code == 400
    review.approve(proposal, users["admin"])
    review.activate(proposal, users["admin"])
    r = admin_client_luna.post(f"/api/studio/proposals/{proposal.pk}/restart/")
    assert r.status_code == 202 and r.json() == {"task_id": "task-1"}
    page = admin_client_luna.post(f"/studio/proposals/{proposal.pk}/restart/", follow=True)
    assert b"Restart queued (task task-1)" in page.content
    assert queued == [("mobile-pay", users["admin"].pk)] * 2


def test_versions_api_gives_each_version_with_its_diff(proposal, users, editor_client):
    review.approve(proposal, users["admin"])
    review.activate(proposal, users["admin"])
    rows = editor_client.get("/api/studio/versions/", {"template": "mobile-pay"}).json()
    assert [r["number"] for r in rows] == [1] and rows[0]["author"] == "admin" and '+  "name": "mobile-pay",' in rows[0]["diff"]
    assert editor_client.get("/api/studio/versions/", {"template": "nope"}).status_code == 404

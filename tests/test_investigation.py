"""Investigation: case work and verdicts (precision per rule), compare, merge or keep a split pair — through the
services, the console actions and the API, with sessions written by the job's own engine and sink."""
import pytest

from investigation.models import Case, CaseEvent, SplitDecision, Verdict
from investigation.services import precision
from sessions.models import Session, SessionRevision
from sessions.services.waterfall import waterfall
from sessions.services.tree import TreeEvent
from tests.factories import logged_in
from tests.flows import MINUTE, T0, in_time_order, payment_flow
from tests.storing import store

pytestmark = pytest.mark.django_db(transaction=True)


def split_pair(template) -> tuple[Session, Session]:
    """O-S: order and pay page, then (crash, resume 30 min later, beyond the 20 min gap) voucher to delivery."""
    flow = payment_flow("O-S", T0, delays={"voucher": 30 * MINUTE, "verified": 31 * MINUTE, "callback": 32 * MINUTE,
                                           "delivery": 33 * MINUTE})
    store(template, in_time_order(flow))
    first, second = Session.objects.filter(session_key="O-S").order_by("start_ms")
    assert first.split and second.split and first.next_id == second.pk
    return first, second


def test_an_editor_merges_a_split_pair_into_one_recomputed_session(demo_template, users):
    first, second = split_pair(demo_template)
    editor = logged_in(users["editor"])
    response = editor.post(f"/sessions/{second.pk}/case/merge/", {"other": first.pk})
    merged = Session.objects.get(session_key="O-S")
    assert response.status_code == 302 and response["Location"].endswith(f"/sessions/{merged.pk}/")
    assert merged.pk == first.pk and not merged.split and merged.revision > max(first.revision, second.revision)
    assert merged.primary_conclusion == "delivered"
    assert sorted(merged.nodes.values_list("node", flat=True)) == sorted(["order", "pay_page", "voucher", "verified", "callback", "delivery"])
    assert SessionRevision.objects.filter(session_id=merged.pk, cause="merge").exists()
    decision = SplitDecision.objects.get()
    assert (decision.decision, decision.author, decision.merged_id) == ("merge", users["editor"], merged.pk)
    assert [h["id"] for h in decision.halves] == [first.pk, second.pk]
    page = editor.get(f"/sessions/{merged.pk}/").content.decode()
    assert "Merged from sessions" in page


def test_a_viewer_cannot_merge_and_an_open_or_unlinked_pair_is_refused(demo_template, users):
    first, second = split_pair(demo_template)
    viewer = logged_in(users["viewer"])
    viewer.post(f"/sessions/{first.pk}/case/merge/", {"other": second.pk})
    assert Session.objects.filter(session_key="O-S").count() == 2
    api = logged_in(users["viewer"])
    assert api.post("/api/splits/merge/", {"first": first.pk, "second": second.pk}, content_type="application/json").status_code == 403
    editor = logged_in(users["editor"])
    store(demo_template, in_time_order(payment_flow("O-X", T0)))
    other = Session.objects.get(session_key="O-X")
    refused = editor.post("/api/splits/keep/", {"first": first.pk, "second": other.pk}, content_type="application/json")
    assert refused.status_code == 400 and "not halves of one split" in refused.json()["detail"]
    kept = editor.post("/api/splits/keep/", {"first": first.pk, "second": second.pk}, content_type="application/json")
    assert kept.status_code == 200 and SplitDecision.objects.get().decision == "keep"
    assert editor.get("/api/splits/").json()["results"][0]["decision"] == "keep"


def test_case_work_assign_status_comment_and_verdicts_give_rule_precision(demo_template, users):
    store(demo_template, [*in_time_order(payment_flow("C-1", T0)), *in_time_order(payment_flow("C-2", T0 + 60 * MINUTE))])
    one, two = Session.objects.filter(session_key__in=["C-1", "C-2"]).order_by("session_key")
    viewer = logged_in(users["viewer"])
    viewer.post(f"/sessions/{one.pk}/case/assign/", {"assignee": "viewer"})
    viewer.post(f"/sessions/{one.pk}/case/status/", {"status": "investigating"})
    viewer.post(f"/sessions/{one.pk}/case/comment/", {"text": "callback arrived late, checking the channel"})
    viewer.post(f"/sessions/{one.pk}/case/verdict/", {"conclusion": "delivered", "verdict": "confirmed"})
    api = logged_in(users["viewer"])
    assert api.post(f"/api/cases/{two.pk}/verdict/", {"conclusion": "delivered", "verdict": "false_positive"},
                    content_type="application/json").status_code == 200
    bad = api.post(f"/api/cases/{two.pk}/verdict/", {"conclusion": "lost_order", "verdict": "confirmed"}, content_type="application/json")
    assert bad.status_code == 400 and "does not carry" in bad.json()["detail"]

    case = Case.objects.get(session_id=one.pk)
    assert (case.assignee, case.status) == (users["viewer"], "investigating")
    assert list(CaseEvent.objects.filter(case=case).values_list("kind", flat=True)) == ["assign", "status", "comment", "verdict"]
    [row] = precision.rule_precision(demo_template.pk)
    assert (row.conclusion, row.confirmed, row.false_positive, row.precision) == ("delivered", 1, 1, 0.5)
    assert Verdict.objects.get(session_id=one.pk).template_version == demo_template.current_version.number
    queue = viewer.get("/cases/", {"mine": "1"}).content.decode()
    assert "C-1" in queue and "C-2" not in queue
    assert api.get("/api/cases/", {"mine": "1"}).json()["results"][0]["session_key"] == "C-1"
    template_page = logged_in(users["viewer"]).get(f"/templates/{demo_template.name}/").content.decode()
    assert "Rule precision" in template_page and "0.50" in template_page
    assert api.get("/api/insights/precision/", {"template": demo_template.name}).json()[0]["precision"] == 0.5


def test_two_sessions_compared_side_by_side(demo_template, users):
    store(demo_template, [*in_time_order(payment_flow("D-1", T0)),
                          *in_time_order(payment_flow("D-2", T0 + 60 * MINUTE, steps=("order", "pay_page", "voucher", "verified", "callback")))])
    one, two = (Session.objects.get(session_key=k) for k in ("D-1", "D-2"))
    page = logged_in(users["viewer"]).get("/sessions/compare/", {"a": one.pk, "b": two.pk})
    assert page.status_code == 200 and "D-1" in page.content.decode() and "D-2" in page.content.decode()
    body = logged_in(users["viewer"]).get("/api/insights/compare/", {"a": one.pk, "b": two.pk}).json()
    assert body["conclusions_only_left"] == ["delivered"] and "lost_order" in body["conclusions_only_right"]
    assert any(f["name"] == "order_id" and f["differs"] for f in body["fields"])
    assert logged_in(users["viewer"]).get("/sessions/compare/", {"a": "x"}).status_code == 404
    ticked = logged_in(users["viewer"]).get("/sessions/compare/", {"s": [one.pk, two.pk]})  # from the search results
    assert ticked.status_code == 200 and "D-2" in ticked.content.decode()
    assert logged_in(users["viewer"]).get("/sessions/compare/", {"s": [one.pk]}).status_code == 404
    results = logged_in(users["viewer"]).get("/").content.decode()
    assert 'name="s"' in results and "Compare selected" in results


def test_the_waterfall_marks_the_critical_path_and_its_slowest_step():
    nodes = [{"name": "order", "parent": None}, {"name": "pay_page", "parent": "order"}, {"name": "voucher", "parent": "pay_page"},
             {"name": "verified", "parent": "voucher"}, {"name": "delivery", "parent": "verified"}, {"name": "side", "parent": "order"}]
    events = [TreeEvent(name, 0, "s", T0 + at, at, False, "{}") for name, at in
              [("order", 0), ("pay_page", 5_000), ("side", 6_000), ("voucher", 65_000), ("verified", 70_000), ("delivery", 90_000)]]
    steps = {s.node: s for s in waterfall(events, nodes)}
    assert steps["voucher"].wait_ms == 60_000 and steps["voucher"].waited_on == "pay_page" and steps["voucher"].slowest
    assert [n for n, s in steps.items() if s.critical] == ["order", "pay_page", "voucher", "verified", "delivery"]
    assert not steps["side"].critical and steps["delivery"].left_pct == pytest.approx(77.78, abs=0.01)

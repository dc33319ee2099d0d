"""Nothing in the input or a template stops a job or loses a session (SPEC §7), end to end on the real database:
the pure engine (the job's own code) → the real sink writer → the API and the session page, then the late replay.
Each poison line becomes a dead letter or a rule error; every valid session is stored and shown."""
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobs.sessionize.logic.engine import Correlator
from jobs.sessionize.logic.records import line_uid, storable_text
from sessions.models import DeadLetter, LateEvent, Session, SessionField, SessionRuleError
from sessions.services.late_replay import replay_late_events
from sessions.services.reports import build_report
from sessions.services.templates import save_template_version
from tests.factories import logged_in
from tests.storing import store
from tests.strategies import input_lines, rule_expressions
from tests.flows import HOUR, T0, client_line, demo_document, in_time_order, order_line, payment_flow

pytestmark = pytest.mark.django_db(transaction=True)


def poison_template():
    """The demo template plus rules that fail on some data: a zero divisor and a comparison with a text value."""
    document = demo_document()
    document["fields"].append({"name": "per_unit", "expr": "100 / int(order.amount)", "type": "number"})
    document["conclusions"].append({"name": "big", "when": "has(order) && order.amount > 100.0", "severity": "low"})
    return save_template_version(document).template


def billing(record: dict) -> tuple[str, str]:
    return "billing", json.dumps({"time": "2024-05-01 10:00:00.000000", "type": "order_created", **record})


POISON = [
    billing({"order": {"id": "P-missing"}}),                                  # no order.amount
    billing({"order": {"id": "P-zero", "amount": {"value": 0}}}),             # 100 / 0
    ("billing", billing({"order": {"id": "P-nan"}})[1][:-1] + ', "channel": NaN, "order": {"id": "P-nan", "amount": {"value": NaN}}}'),
    ("billing", billing({"order": {"id": "P-surrogate"}})[1][:-1] + ', "user": {"id": "\\udc80"}}'),  # lone surrogate escape
    ("billing", "\udcff\udcfe{not even text"),                                # undecodable bytes (surrogateescape)
    ("client", '{"ts": 1714528800000, "oid": "P-deep", "event": ' + "[" * 5000 + "]" * 5000 + "}"),
]


def test_poison_lines_between_valid_orders_lose_nothing_and_break_no_page(users):
    template = poison_template()
    valid = [*in_time_order(payment_flow("V-1", T0)), *in_time_order(payment_flow("V-2", T0 + HOUR))]
    store(template, [valid[0], *POISON, *valid[1:]])

    keys = set(Session.objects.values_list("session_key", flat=True))
    assert {"V-1", "V-2", "P-missing", "P-zero", "P-nan"} <= keys
    errors = {(e.session.session_key, e.rule): e.message for e in SessionRuleError.objects.select_related("session")}
    assert errors[("P-missing", "fields.amount_value.expr")] == "no such field: amount"
    assert "division by zero" in errors[("P-zero", "fields.per_unit.expr")]
    assert "not a finite number" in errors[("P-nan", "fields.amount_value.expr")]
    assert ("P-nan", "conclusions.big.when") in errors  # 'NaN' (text) > 100.0
    assert not any(key.startswith("V-") for key, _ in errors)
    assert SessionField.objects.get(session__session_key="P-nan", name="channel").str_value == "NaN"
    reasons = list(DeadLetter.objects.values_list("reason", flat=True))
    assert any("lone surrogate" in r for r in reasons) and any("not valid UTF-8" in r for r in reasons)
    assert any("nested too deeply" in r for r in reasons) and len(reasons) == 3

    client = logged_in(users["viewer"])
    for session in Session.objects.all():
        detail = client.get(f"/api/sessions/{session.pk}/")
        assert detail.status_code == 200, detail.content[:300]
        assert client.get(f"/sessions/{session.pk}/").status_code == 200
    p_nan = client.get(f"/api/sessions/{Session.objects.get(session_key='P-nan').pk}/").json()
    assert {"rule": "fields.amount_value.expr", "message": "the value nan is not a finite number"} in p_nan["rule_errors"]
    assert p_nan["nodes"][0]["raw"]["order"]["amount"]["value"] == "NaN"
    page = client.get(f"/sessions/{Session.objects.get(session_key='P-zero').pk}/").content.decode()
    assert "Rule errors" in page and "fields.per_unit.expr" in page
    assert client.get("/api/dead-letters/").status_code == 200

    report = build_report(template)
    assert report.rule_errors["fields.amount_value.expr"] == 2 and report.rule_errors["fields.per_unit.expr"] >= 2
    page = logged_in(users["editor"]).get(f"/templates/{template.name}/").content.decode()
    assert "fields.per_unit.expr · " in page


def test_a_node_rule_failing_on_a_record_is_a_dead_letter_counted_per_rule(users):
    document = demo_document()
    document["nodes"][1]["when"] = "event == 'pay_page_open' && 100 / size(order_id) > 1"  # fails when oid is empty
    template = save_template_version(document).template
    store(template, [client_line(T0, "", "pay_page_open"), *in_time_order(payment_flow("W-1", T0))])
    letter = DeadLetter.objects.get(reason__startswith="rule nodes.pay_page.when failed")
    assert "division by zero" in letter.reason
    assert build_report(template).rule_errors == {"nodes.pay_page.when": 1}


def test_every_value_of_a_field_is_searchable_and_shown_with_its_node(users):
    template = poison_template()
    store(template, in_time_order(payment_flow("M-1", T0)))
    rows = set(SessionField.objects.filter(name="event").values_list("str_value", "node"))
    assert rows == {("pay_page_open", "pay_page"), ("voucher_upload", "voucher")}
    client = logged_in(users["viewer"])
    found = client.get("/api/sessions/", {"field": "event", "value": "voucher_upload"}).json()
    assert [s["session_key"] for s in found["results"]] == ["M-1"]
    detail = client.get(f"/api/sessions/{found['results'][0]['id']}/").json()
    assert {"name": "event", "value": "voucher_upload", "node": "voucher"} in detail["values"]


def test_the_late_replay_goes_through_a_poison_event(users):
    template = poison_template()
    store(template, [*in_time_order(payment_flow("L-1", T0)), order_line(T0 + 6 * HOUR, "L-later")])
    LateEvent.objects.create(template=template, source="billing", node="order", session_key="L-2", event_ms=T0,
                             reason="event later than allowed_lateness", raw=billing({"order": {"id": "L-2"}})[1],
                             line_uid="late-poison", created_ms=T0)
    result = replay_late_events(template)
    assert result.replayed == 1
    assert SessionRuleError.objects.filter(session__session_key="L-2", rule="fields.amount_value.expr").exists()


# -- property: arbitrary lines never raise and every rejected line lands in the dead letters ------------------
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(lines=st.lists(st.tuples(st.sampled_from(["billing", "client", "channel", "gamesvr"]), input_lines()), min_size=1, max_size=12))
def test_arbitrary_lines_never_raise_and_every_rejection_is_a_dead_letter(demo_template, users, lines):
    DeadLetter.objects.all().delete()
    Session.objects.all().delete()
    correlator = store(demo_template, lines)
    assert sum(correlator.counts.values()) == len(lines)  # every line is accounted for
    uids = {line_uid(r.source, r.raw.strip()) for r in correlator.rejected}
    assert all(r.reason for r in correlator.rejected)
    assert set(DeadLetter.objects.values_list("line_uid", flat=True)) == uids
    client = logged_in(users["viewer"])
    for pk in Session.objects.values_list("pk", flat=True):
        assert client.get(f"/api/sessions/{pk}/").status_code == 200
    # the same lines queued as late events: the replay neither raises nor leaves any of them pending
    LateEvent.objects.all().delete()
    for source, raw in {(s, r) for s, r in lines}:
        LateEvent.objects.create(template=demo_template, source=source, node="order", event_ms=T0, reason="late",
                                 raw=storable_text(raw), line_uid=line_uid(source, raw), created_ms=T0)
    replay_late_events(demo_template)
    assert not LateEvent.objects.filter(replayed_ms__isnull=True).exists()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(field_rule=rule_expressions(), conclusion_rule=rule_expressions())
def test_any_rule_is_imported_or_refused_with_a_message_and_an_imported_one_never_breaks_correlation(demo_template, users, field_rule, conclusion_rule):
    document = demo_document()
    document["fields"].append({"name": "x", "expr": field_rule.replace("qty", "amount_value").replace("event", "pay_page.event"), "type": "number"})
    document["conclusions"].append({"name": "y", "when": conclusion_rule.replace("qty", "x")})
    response = logged_in(users["editor"]).post("/api/templates/", document, content_type="application/json")
    assert response.status_code in (202, 400), response.content[:300]  # an import is a draft for review
    if response.status_code == 400:
        assert response.json()["errors"]
        return
    from jobs.sessionize.logic.template import compile_template
    from studio.models import Draft

    correlator = Correlator(compile_template(Draft.objects.get(pk=response.json()["draft"]).document))
    correlator.feed_lines(in_time_order(payment_flow("R-1", T0)))
    correlator.finish()
    assert len(correlator.store) == 1

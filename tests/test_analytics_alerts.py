"""Alerts on macro series (threshold, ratio, silence, resolve; e-mail and webhook) and trend snapshots."""
import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core import mail

from analytics.models import AlertFiring, AlertRule, TrendSnapshot
from analytics.services import alerts, trends
from analytics.services.rollups import rebuild
from tests.analytics_backends import analytics_db  # noqa: F401 (fixture)
from tests.factories import MINUTE, SessionSpec, make_session, payment_events

NOW = dt.datetime(2026, 11, 29, 12, 0, 30, tzinfo=dt.timezone.utc)
NOW_MS = int(NOW.timestamp() * 1000)
LOST = [{"kind": "conclusion", "values": ["lost_order"]}]


@pytest.fixture
def recent(demo_template, analytics_db):
    """Three lost orders and one delivered order in the last ten minutes, counted into the rollups."""
    for i in range(3):
        make_session(demo_template, SessionSpec(f"L-{i}", NOW_MS - (i + 2) * MINUTE, payment_events(f"L-{i}", f"T-{i}", deliveries=0),
                                                {"channel": "alipay"}, ["lost_order"], status="closed"), 9000 + i)
    make_session(demo_template, SessionSpec("D-1", NOW_MS - 4 * MINUTE, payment_events("D-1", "T-D"), {"channel": "card"}, ["delivered"]), 9100)
    rebuild(demo_template)
    return demo_template


@pytest.fixture
def webhook():
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()


def test_a_threshold_rule_fires_once_notifies_and_resolves_when_it_clears(recent, webhook):
    url, received = webhook
    rule = AlertRule.objects.create(name="Lost orders", template=recent, numerator=LOST, threshold=2, emails="ops@example.com",
                                    webhook_url=url)
    assert alerts.evaluate(NOW) == {"fired": 1, "resolved": 0}
    firing = AlertFiring.objects.get(rule=rule)
    assert (firing.value, firing.numerator, firing.resolved_at) == (3.0, 3, None)
    assert firing.notified == {"email": "sent", "webhook": "HTTP 204"}
    assert "Lost orders" in mail.outbox[0].subject and "3 sessions" in mail.outbox[0].body
    assert received[0]["value"] == 3.0 and received[0]["rule"] == "Lost orders"
    assert alerts.evaluate(NOW) == {"fired": 0, "resolved": 0}, "an open firing is not repeated"
    assert alerts.evaluate(NOW + dt.timedelta(minutes=30)) == {"fired": 0, "resolved": 1}
    firing.refresh_from_db()
    assert firing.resolved_by == "condition cleared"


def test_a_ratio_rule_compares_with_its_base(recent):
    AlertRule.objects.create(name="Lost share", template=recent, numerator=LOST, denominator=[{"kind": "node", "values": ["verified"]}],
                             threshold=50)
    alerts.evaluate(NOW)
    firing = AlertFiring.objects.get()
    assert (firing.numerator, firing.denominator, firing.value) == (3, 4, 75.0)


def test_a_silenced_rule_records_its_firing_without_notifying(recent):
    rule = AlertRule.objects.create(name="Quiet", template=recent, numerator=LOST, threshold=1, emails="ops@example.com")
    rule.silenced_until = NOW + dt.timedelta(hours=1)
    rule.save()
    alerts.evaluate(NOW)
    assert "silenced" in AlertFiring.objects.get().notified and mail.outbox == []


def test_editors_manage_rules_and_resolve_firings_viewers_read(recent, viewer_client, editor_client):
    body = {"name": "Lost", "template": "mobile-pay", "numerator": LOST, "threshold": 2}
    assert viewer_client.post("/api/analytics/alert-rules/", body, content_type="application/json").status_code == 403
    created = editor_client.post("/api/analytics/alert-rules/", body, content_type="application/json")
    assert created.status_code == 201, created.content
    bad = editor_client.post("/api/analytics/alert-rules/", {**body, "name": "x", "numerator": [{"kind": "nope"}]}, content_type="application/json")
    assert bad.status_code == 400
    rule_id = created.json()["id"]
    assert editor_client.post(f"/api/analytics/alert-rules/{rule_id}/silence/", {"minutes": 30}, content_type="application/json").json()["silenced_until"]
    alerts.evaluate(NOW)
    firing = viewer_client.get("/api/analytics/alert-firings/").json()["results"][0]
    assert viewer_client.post(f"/api/analytics/alert-firings/{firing['id']}/resolve/").status_code == 403
    resolved = editor_client.post(f"/api/analytics/alert-firings/{firing['id']}/resolve/").json()
    assert resolved["resolved_by"] == "editor"
    page = viewer_client.get("/analytics/alerts/")
    assert page.status_code == 200 and b"Lost" in page.content and b"(editor)" in page.content


def test_a_trend_snapshot_counts_open_sessions_by_the_furthest_node_reached(demo_sessions):
    assert trends.take(now_ms=NOW_MS) == 1
    snapshot = TrendSnapshot.objects.get()
    assert snapshot.open_sessions == 1 and snapshot.waiting_at == {"pay_page": 1}

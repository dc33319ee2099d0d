"""Issue 8 items 2 and 3 in a real browser: a session is drawn with the template version that produced it (not
today's), linked to it, and its revision history says when, why and what changed — for a viewer and an admin."""
import json

import pytest

from sessions.models import LateEvent, Session
from sessions.services.late_replay import replay_late_events
from sessions.services.templates import save_template_version
from tests.browser import login
from tests.factories import PASSWORD
from tests.flows import MINUTE, T0, delivery_line, in_time_order, payment_flow
from tests.storing import store

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("username", ["viewer", "admin"])
def test_an_older_session_keeps_its_version_and_shows_its_revisions(page, live_server, demo_template, demo_document, users, username):
    # v1: a lost order; its delivery arrives too late for the job and is replayed: revision 2 flips the conclusion
    lost = payment_flow("H-1", T0, steps=("order", "pay_page", "voucher", "verified", "callback"))
    store(demo_template, in_time_order(lost))
    source, raw = delivery_line(T0 + MINUTE, "T-H-1")
    LateEvent.objects.create(template=demo_template, source=source, node="delivery", join_key="T-H-1", event_ms=T0 + MINUTE,
                             reason="supplement later than allowed_lateness", raw=raw, line_uid="late-h1", created_ms=T0)
    assert replay_late_events(demo_template).sessions_written == 1
    relabelled = json.loads(json.dumps(demo_document))
    next(c for c in relabelled["conclusions"] if c["name"] == "delivered")["label"] = "Delivered (v2 label)"
    assert save_template_version(relabelled).number == 2
    session = Session.objects.get(session_key="H-1")
    assert session.template_version == 1

    login(page, live_server, username, PASSWORD)
    page.goto(f"{live_server.url}/sessions/{session.pk}/")
    facts = page.inner_text("dl.facts")
    assert "v1" in facts and "not the current version" in facts
    assert page.get_attribute("a[title='the version that produced this revision']", "href").endswith("#v1")
    history = page.inner_text("#revisions")
    assert "Revision history" in history and "v1" in history
    rows = page.locator("#revisions tbody tr")
    assert rows.count() == 2
    newest, first = rows.nth(0).inner_text(), rows.nth(1).inner_text()
    assert "late replay" in newest and "nodes added: delivery" in newest and "conclusions added: delivered" in newest
    assert "conclusions removed: lost_order" in newest
    assert "closed (gap passed)" in first and "conclusions added: lost_order" in first
    assert "Delivered (v2 label)" not in page.inner_text("body"), "drawn with v1, not today's version"

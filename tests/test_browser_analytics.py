"""Dashboards in a real browser: Plotly draws the panels from the rollups, a click on a point opens the search,
an alert on the lost orders fires and is shown."""
from datetime import datetime, timezone

import pytest

from analytics.models import AlertRule
from analytics.services import alerts
from analytics.services.rollups import rebuild
from tests.factories import HOUR, PASSWORD, T0
from tests.browser import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, databases=["default", "analytics"])]
RANGE = "template=mobile-pay&since=2024-05-01&until=2024-05-04&granularity=day&tz=UTC"


def test_the_dashboard_draws_its_charts_and_a_click_opens_the_matching_sessions(page, live_server, demo_sessions, users):  # noqa: F811
    rebuild(demo_sessions["lost"].template)
    login(page, live_server, "viewer", PASSWORD)
    page.goto(f"{live_server.url}/analytics/?{RANGE}")
    page.wait_for_selector("#panel-0 .main-svg", timeout=30_000)
    assert "From the rollups" in page.inner_text("#panel-0 .panel-meta")
    traces = page.evaluate("document.querySelector('#panel-0 .panel-chart').data.map(t => [t.name, t.y])")
    assert ["lost_order", [1]] in traces, traces
    page.wait_for_selector("#panel-5 .main-svg", timeout=30_000)  # the funnel (the session fact table)
    assert "From the session fact table" in page.inner_text("#panel-5 .panel-meta")
    assert page.evaluate("document.querySelector('#panel-5 .panel-chart').data[0].x") == [6, 6, 3, 3, 2, 2]

    index = [name for name, _ in traces].index("lost_order")
    bar = page.locator("#panel-0 g.trace.bars").nth(index).locator("g.point path").first
    box = bar.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    with page.expect_navigation():
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    assert "conclusion=lost_order" in page.url and "template=mobile-pay" in page.url
    rows = page.locator("table tbody tr")
    assert rows.count() == 1
    assert "ORD-1003" in rows.first.inner_text()


def test_an_alert_fires_on_the_lost_orders_and_is_shown(page, live_server, demo_sessions, users):  # noqa: F811
    template = demo_sessions["lost"].template
    rebuild(template)
    AlertRule.objects.create(name="Lost orders", template=template, numerator=[{"kind": "conclusion", "values": ["lost_order"]}],
                             window_minutes=180, threshold=0)
    assert alerts.evaluate(datetime.fromtimestamp((T0 + 3 * HOUR) / 1000, timezone.utc)) == {"fired": 1, "resolved": 0}
    login(page, live_server, "editor", PASSWORD)
    page.goto(f"{live_server.url}/analytics/alerts/")
    row = page.locator("#alert-firings tbody tr.firing")
    assert row.count() == 1 and "Lost orders" in row.inner_text()
    with page.expect_navigation():
        row.locator("button", has_text="Resolve").click()
    assert "(editor)" in page.inner_text("#alert-firings")

"""Analytics API and page: roles, validation (4xx, never 500), dashboards, panel figures, OpenAPI, plotly.js."""
import json
import re

import pytest
from django.contrib.staticfiles import finders
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.models import Dashboard
from analytics.services.rollups import rebuild
from tests.analytics_backends import analytics_db  # noqa: F401 (fixture)
from tests.factories import DAY, T0

SINCE = T0 - T0 % DAY
RANGE = {"template": "mobile-pay", "since": "2024-05-01", "until": "2024-05-04", "granularity": "day"}
QUERY = {"template": "mobile-pay", "since_ms": SINCE, "until_ms": SINCE + 3 * DAY, "measures": [{"kind": "sessions"}],
         "dimensions": [{"kind": "conclusion"}]}
PANEL = {"title": "Lost orders", "chart": "bar", "measures": [{"kind": "sessions"}], "dimensions": [{"kind": "time"}],
         "filters": [{"kind": "conclusion", "values": ["lost_order"]}]}


@pytest.fixture
def rollups(demo_sessions, analytics_db):
    rebuild(demo_sessions["lost"].template)


def post_query(client, body):
    return client.post("/api/analytics/query/", json.dumps(body), content_type="application/json")


def test_a_viewer_runs_a_macro_query_answered_from_the_rollups(viewer_client, rollups):
    response = post_query(viewer_client, QUERY)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["source"] == "rollups" and body["grain"] == "d"
    assert (body["x"], body["key"]) == ("conclusion", []) and len(body["series"]) == 1  # columnar: one series, no key
    series = body["series"][0]
    assert dict(zip(series["x"], series["values"][0])) == {"abandoned": 3, "delivered": 1, "duplicate_delivery": 1, "lost_order": 1}
    facts = post_query(viewer_client, {**QUERY, "source": "facts"}).json()
    assert facts["source"] == "facts" and facts["series"] == body["series"]


def test_rollups_and_facts_agree_on_a_field_breakdown_with_a_field_filter(viewer_client, rollups):
    body = {**QUERY, "dimensions": [{"kind": "field", "field": "channel"}, {"kind": "conclusion"}],
            "filters": [{"kind": "field", "field": "region", "values": ["eu", "us"]}]}
    from_rollups, from_facts = post_query(viewer_client, body).json(), post_query(viewer_client, {**body, "source": "facts"}).json()
    assert from_rollups["source"] == "rollups"
    assert from_rollups["key"] == ["conclusion"] and from_rollups["x"] == "channel"
    assert from_rollups["series"] == from_facts["series"] == [{"key": ["abandoned"], "x": ["card"], "values": [[1]]},
                                                              {"key": ["delivered"], "x": ["alipay"], "values": [[1]]},
                                                              {"key": ["lost_order"], "x": ["alipay"], "values": [[1]]}]


def test_bad_queries_get_a_400_with_the_reason(viewer_client, demo_template, analytics_db):
    response = post_query(viewer_client, {**QUERY, "measures": [{"kind": "percentile", "field": "duration"}]})
    assert response.status_code == 400 and "p" in json.dumps(response.json()["errors"])
    response = post_query(viewer_client, {**QUERY, "template": "unknown"})
    assert response.status_code == 400 and "no template named" in response.json()["errors"][0]


@given(st.recursive(st.one_of(st.none(), st.integers(), st.text(max_size=8)),
                    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(list(QUERY) + ["x"]), inner, max_size=4)),
                    max_leaves=8))
@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], deadline=None)
def test_any_json_gets_an_answer_or_a_400_never_a_500(viewer_client, demo_template, analytics_db, body):
    assert post_query(viewer_client, body).status_code in (200, 400)


def test_without_a_role_nothing_is_readable(norole_client, client, demo_template):
    assert post_query(norole_client, QUERY).status_code == 403
    assert post_query(client, QUERY).status_code in (401, 403)
    assert norole_client.get("/analytics/").status_code == 403


def test_viewers_read_dashboards_editors_change_them(viewer_client, editor_client, demo_template):
    body = {"title": "Ops", "template": "mobile-pay", "panels": [PANEL]}
    assert viewer_client.post("/api/analytics/dashboards/", body, content_type="application/json").status_code == 403
    created = editor_client.post("/api/analytics/dashboards/", body, content_type="application/json")
    assert created.status_code == 201, created.content
    assert created.json()["owner"] == "editor"
    assert [d["title"] for d in viewer_client.get("/api/analytics/dashboards/").json()["results"]] == ["Ops"]
    pk = created.json()["id"]
    assert viewer_client.delete(f"/api/analytics/dashboards/{pk}/").status_code == 403
    bad = editor_client.patch(f"/api/analytics/dashboards/{pk}/", {"panels": [{"title": "x", "measures": []}]}, content_type="application/json")
    assert bad.status_code == 400 and "measures" in json.dumps(bad.json())
    assert editor_client.delete(f"/api/analytics/dashboards/{pk}/").status_code == 204


def test_private_dashboards_stay_with_their_owner(viewer_client, users, demo_template):
    Dashboard.objects.create(title="Mine", template=demo_template, owner=users["editor"], shared=False, panels=[PANEL])
    assert viewer_client.get("/api/analytics/dashboards/").json()["results"] == []


def test_the_default_panels_come_with_figures_sources_and_search_links(viewer_client, rollups):
    response = viewer_client.get("/api/analytics/data/", RANGE)
    assert response.status_code == 200, response.content
    panels = {p["title"]: p for p in response.json()}
    assert panels["Sessions by conclusion"]["source"] == "rollups"
    assert panels["Funnel: sessions reaching each node"]["source"] == "facts"
    assert "error" not in json.dumps(list(panels))
    bars = panels["Sessions by conclusion"]["figure"]["data"]
    lost = next(trace for trace in bars if trace["name"] == "lost_order")
    assert lost["y"] == [1]
    assert lost["customdata"][0] == ("/?template=mobile-pay&since=2024-05-01T00%3A00%3A00Z&until=2024-05-02T00%3A00%3A00Z"
                                     "&conclusion=lost_order")
    by_channel = panels["Sessions by channel and conclusion"]["figure"]["data"]
    assert any("field=channel&value=alipay" in url for trace in by_channel for url in trace["customdata"])


def test_the_data_endpoint_rejects_bad_ranges(viewer_client, demo_template, analytics_db):
    assert viewer_client.get("/api/analytics/data/", {**RANGE, "since": "yesterday"}).status_code == 400
    assert viewer_client.get("/api/analytics/data/", {**RANGE, "tz": "Nowhere/City"}).status_code == 400
    assert viewer_client.get("/api/analytics/data/", {**RANGE, "template": "nope"}).status_code == 400


def test_the_page_and_the_schema(viewer_client, demo_template):
    page = viewer_client.get("/analytics/?template=mobile-pay")
    assert page.status_code == 200
    # nothing loaded from another host (not a bare "cdn" substring: the page's random CSRF token can hold one)
    assert b"plotly/plotly.min.js" in page.content and not re.search(rb'(src|href)="(https?:)?//', page.content)
    assert finders.find("plotly/plotly.min.js").endswith("package_data/plotly.min.js")
    schema = viewer_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert {"/api/analytics/query/", "/api/analytics/data/", "/api/analytics/dashboards/"} <= set(schema["paths"])

"""Correlation report: figures on hand-made data, windows, the console panel and refresh, API, CLI, task."""
import copy
import json
import re
from html import unescape

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient

from jobs.sessionize.logic.records import Rejection, parse_line
from sessions.models import CorrelationReport, DeadLetter, LateEvent
from sessions.services import reports
from operations.services.launch import ingest_stats
from sessions.services.templates import save_template_version
from sessions.tasks import build_correlation_report
from tests.factories import DAY, T0, Event, SessionSpec, logged_in, make_session, payment_events

pytestmark = pytest.mark.django_db

# demo_sessions, per source: billing 9, client 9, channel 2, gamesvr 3 stored events (23);
# durations 5 s ×3 (abandoned, both split halves), 32.5 s (lost), 40 s (delivered), 95 s (duplicate delivery).
ACCEPTED = {"billing": 9, "client": 9, "channel": 2, "gamesvr": 3}
MORE_REJECTIONS = [
    ("billing", "bad JSON: Extra data: line 1 column 5 (char 4)"),
    ("channel", "orphan supplement: no baseline event with trans_id=TX-1 within the join interval"),
    ("gamesvr", "orphan supplement: no baseline event with trans_id=TX-2 within the join interval"),
    ("gamesvr", "orphan supplement: no baseline event with trans_id=TX-3 within the join interval"),
]


def add_dead_letters(template, rows, created_ms: int = T0 + 100) -> None:
    DeadLetter.objects.bulk_create(
        DeadLetter(template=template, source=source, reason=reason, raw="{}", line_uid=f"more{i}-{created_ms}", created_ms=created_ms)
        for i, (source, reason) in enumerate(rows)
    )


def add_late(template, source: str, event_ms: int, replayed: bool = False, uid: str = "") -> None:
    LateEvent.objects.create(
        template=template, source=source, node="delivery", join_key="TX-9", event_ms=event_ms, reason="beyond allowed_lateness",
        raw="{}", line_uid=uid or f"late-{source}-{event_ms}", created_ms=T0 + 5 * DAY, replayed_ms=T0 + 6 * DAY if replayed else None,
    )


@pytest.fixture
def report_data(demo_sessions, dead_letters, demo_template):
    """demo_sessions + the fixture's 4 dead letters + more bad JSON and orphan supplements + 3 late events."""
    add_dead_letters(demo_template, MORE_REJECTIONS)
    add_late(demo_template, "billing", T0 + 10)
    add_late(demo_template, "gamesvr", T0 + 2 * DAY + 10)
    add_late(demo_template, "gamesvr", T0 + 3 * DAY, replayed=True)
    return demo_template


@pytest.fixture
def other_template(demo_document):
    """A second template with its own data, which must never leak into mobile-pay's report."""
    template = save_template_version(dict(demo_document, name="other-pay")).template
    make_session(template, SessionSpec("X-1", T0, payment_events("X-1", "TX-X"), {}, ["delivered"]), 9001)
    add_dead_letters(template, [("billing", "bad JSON: x")])
    add_late(template, "billing", T0)
    return template


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# ---- figures ------------------------------------------------------------------------------------------

def test_figures_on_hand_made_data(report_data, other_template):
    report = reports.build_report(report_data)
    assert CorrelationReport.objects.get() == report  # stored; the other template's data is not counted
    assert (report.sessions, report.complete, report.closed, report.open, report.split) == (6, 2, 3, 1, 2)
    assert report.with_conclusion == {"abandoned": 3, "callback_missing": 1, "delivered": 1, "duplicate_delivery": 1, "lost_order": 1}
    assert report.accepted_by_source == ACCEPTED and report.accepted == 23
    assert report.rejected_by_reason == [
        {"source": "billing", "reason": "bad JSON", "count": 3},
        {"source": "gamesvr", "reason": "orphan supplement", "count": 2},
        {"source": "channel", "reason": "orphan supplement", "count": 1},
        {"source": "channel", "reason": "unparseable time", "count": 1},
        {"source": "client", "reason": "no session key (order_id)", "count": 1},
    ]
    assert report.rejected == 8 and report.orphan_supplements == 3
    assert (report.late_pending, report.late_replayed, report.late) == (2, 1, 3)
    assert (report.duration_p50_ms, report.duration_p95_ms) == (5_000, 95_000)


def test_percentages_are_derived_from_the_counts(report_data):
    report = reports.build_report(report_data)
    assert report.complete_pct == report.split_pct == 33.33
    assert report.late_pct == 12.0  # 3 late of 23 stored + 2 pending (a replayed one is a stored node by now)
    assert report.rejected_pct == round(100 * 8 / (23 + 8), 2)
    assert report.by_source == [
        {"source": "billing", "accepted": 9, "rejected": 3, "rejected_pct": 25.0},
        {"source": "channel", "accepted": 2, "rejected": 2, "rejected_pct": 50.0},
        {"source": "client", "accepted": 9, "rejected": 1, "rejected_pct": 10.0},
        {"source": "gamesvr", "accepted": 3, "rejected": 2, "rejected_pct": 40.0},
    ]
    stored = CorrelationReport.objects.get(pk=report.pk)  # the same from the database, nothing stored twice
    assert (stored.complete_pct, stored.late_pct, stored.by_source) == (report.complete_pct, report.late_pct, report.by_source)


def test_an_empty_template_reports_zeros_and_no_percentages(demo_template):
    report = reports.build_report(demo_template)
    assert (report.sessions, report.accepted, report.rejected, report.late, report.orphan_supplements) == (0, 0, 0, 0, 0)
    assert report.accepted_by_source == {"billing": 0, "channel": 0, "client": 0, "gamesvr": 0}  # silent sources still listed
    assert (report.complete_pct, report.split_pct, report.late_pct, report.rejected_pct) == (None, None, None, None)
    assert (report.duration_p50_ms, report.duration_p95_ms) == (None, None)
    assert all(row["rejected_pct"] is None for row in report.by_source)


def test_percentiles_are_nearest_rank(demo_template):
    for i in range(20):  # durations 1 s .. 20 s, stored in shuffled order
        seconds = (i * 7) % 20 + 1
        events = [Event("order", 0, "billing", {}), Event("pay_page", seconds * 1000, "client", {})]
        make_session(demo_template, SessionSpec(f"P-{i}", T0 + i, events, {}, []), 7000 + i)
    report = reports.build_report(demo_template)
    assert (report.duration_p50_ms, report.duration_p95_ms) == (10_000, 19_000)


def test_the_window_bounds_sessions_by_start_late_events_by_event_time(report_data):
    add_dead_letters(report_data, [("client", "bad JSON: later")], created_ms=T0 + 3 * DAY)
    report = reports.build_report(report_data, since_ms=T0, until_ms=T0 + DAY)  # delivered, duplicate, lost
    assert (report.since_ms, report.until_ms) == (T0, T0 + DAY)
    assert (report.sessions, report.complete, report.closed, report.open, report.split) == (3, 2, 1, 0, 0)
    assert report.with_conclusion == {"callback_missing": 1, "delivered": 1, "duplicate_delivery": 1, "lost_order": 1}
    assert report.accepted_by_source == {"billing": 6, "client": 6, "channel": 2, "gamesvr": 3}
    assert (report.late_pending, report.late_replayed) == (1, 0)
    assert report.rejected == 8  # the dead letter stored on day 3 is outside
    assert (report.duration_p50_ms, report.duration_p95_ms) == (40_000, 95_000)
    later = reports.build_report(report_data, since_ms=T0 + DAY)
    assert (later.sessions, later.split, later.late_pending, later.late_replayed) == (3, 2, 1, 1)


def test_an_inverted_window_is_refused(demo_template):
    with pytest.raises(ValueError):
        reports.build_report(demo_template, since_ms=T0, until_ms=T0)


def test_failing_rules_are_grouped_per_node(demo_template, viewer_client):
    add_dead_letters(demo_template, [
        ("client", "rule nodes.pay_page.when failed: no such overload: string > int"),
        ("client", "rule nodes.pay_page.when failed: no such overload: list > int"),
        ("client", "rule nodes.voucher.when failed: no such overload: map > int"),
        ("client", "rule nodes.voucher failed but not in the rule format"),
    ])
    report = reports.build_report(demo_template)
    assert report.rejected_by_reason == [
        {"source": "client", "reason": "rule nodes.pay_page.when failed", "count": 2},
        {"source": "client", "reason": "rule nodes.voucher failed but not in the rule format", "count": 1},
        {"source": "client", "reason": "rule nodes.voucher.when failed", "count": 1},
    ]
    page = viewer_client.get(reverse("sessions:dead_letters", args=["mobile-pay"]), {"reason": "rule nodes.pay_page.when failed"})
    assert re.search(r'<h2>Lines</h2><span class="count">2</span>', page.content.decode())


def test_reason_kinds_match_what_the_parser_writes(demo_document):
    from jobs.sessionize.logic.template import compile_template

    template = compile_template(demo_document)
    bad_json = parse_line(template, "billing", "{not json")
    bad_time = parse_line(template, "client", '{"ts": "soon", "event": "pay_page_open", "oid": "A"}')
    assert isinstance(bad_json, Rejection) and bad_json.reason.startswith("bad JSON")
    assert isinstance(bad_time, Rejection) and bad_time.reason.startswith("unparseable time")
    failing = copy.deepcopy(demo_document)
    failing["nodes"][1]["when"] = "event > 5"
    bad_rule = parse_line(compile_template(failing), "client", '{"ts": 1795226400000, "event": "pay_page_open", "oid": "o1"}')
    assert isinstance(bad_rule, Rejection) and bad_rule.reason.startswith("rule nodes.pay_page.when failed: ")


def test_build_report_query_count_does_not_grow_with_data(report_data, django_assert_max_num_queries):
    for i in range(30):
        make_session(report_data, SessionSpec(f"Q-{i}", T0 + i, payment_events(f"Q-{i}", f"TQ-{i}"), {}, ["delivered"]), 8000 + i)
    add_dead_letters(report_data, [("gamesvr", f"orphan supplement: trans_id=Q{i}") for i in range(30)], created_ms=T0 + 7)
    # current version, sessions, conclusions, nodes, dead letters, late events, p50, p95, rule errors (2), insert; 2 savepoints in tests
    with django_assert_max_num_queries(13):
        report = reports.build_report(report_data)
    assert report.sessions == 36 and report.orphan_supplements == 33


def test_ingest_stats_stores_a_report_and_keeps_the_job_run_keys(report_data):
    stats = ingest_stats(report_data.pk)
    report = CorrelationReport.objects.get(pk=stats["report_id"])
    assert stats["sessions"] == 6 and stats["accepted_by_source"] == ACCEPTED and stats["late"] == 3
    assert stats["rejected"] == report.rejected_by_reason and stats["orphan_supplements"] == 3
    json.dumps(stats)  # JobRun.stats is a JSONField


def test_the_celery_task_builds_a_report(report_data):
    report_id = build_correlation_report.apply(args=[report_data.pk]).get()
    assert CorrelationReport.objects.get(pk=report_id).sessions == 6


# ---- console --------------------------------------------------------------------------------------------

def test_template_page_without_a_report_says_so(demo_template, viewer_client, editor_client):
    url = reverse("sessions:template", args=["mobile-pay"])
    viewer_page = viewer_client.get(url).content.decode()
    assert "Correlation report" in viewer_page and "No report yet." in viewer_page and "Refresh report" not in viewer_page
    assert "Refresh report" in editor_client.get(url).content.decode()


def test_template_page_shows_the_latest_report(report_data, viewer_client):
    reports.build_report(report_data, since_ms=T0, until_ms=T0 + DAY)
    latest = reports.build_report(report_data)
    page = viewer_client.get(reverse("sessions:template", args=["mobile-pay"])).content.decode()
    text = re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", page)))
    assert f"{latest.created_at:%Y-%m-%d %H:%M:%S} UTC · all time" in text
    for figure in ("Sessions 6", "Complete 2 (33.3%)", "Split 2 (33.3%)", "Closed incomplete / open 3 / 1",
                   "Accepted events 23", "Rejected lines 8 (25.8%)", "Orphan supplements 3",
                   "Late events 3 (12.0%; 2 pending, 1 replayed)", "Duration p50 / p95 5.0 s / 1m 35s", "abandoned · 3"):
        assert figure in text, figure
    table = page[page.index("rejected-lines"):page.index("</table>", page.index("rejected-lines"))]
    dead_letters = reverse("sessions:dead_letters", args=["mobile-pay"])
    assert f'href="{dead_letters}?source=billing&amp;reason=bad%20JSON">bad JSON</a>' in table
    assert f'href="{dead_letters}?source=gamesvr&amp;reason=orphan%20supplement">orphan supplement</a>' in table
    assert re.findall(r'<td class="num">(\d+)</td>', table) == ["3", "2", "1", "1", "1"]
    per_source = page[page.index("source-counts"):page.index("</table>", page.index("source-counts"))]
    assert re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", per_source)).split("Rejected %")[1].split() == [
        "billing", "9", "3", "25.0%", "channel", "2", "2", "50.0%", "client", "9", "1", "10.0%", "gamesvr", "3", "2", "40.0%"]
    history = page[page.index("report-history"):page.index("</table>", page.index("report-history"))]
    assert history.count("<tr>") == 3 and "all time" in history and "2024-05-01 08:00:00.000Z" in history


def test_a_rejected_lines_link_lists_exactly_those_lines(report_data, viewer_client):
    url = reverse("sessions:dead_letters", args=["mobile-pay"])
    page = viewer_client.get(url, {"source": "gamesvr", "reason": "orphan supplement"}).content.decode()
    lines = page[page.index("<h2>Lines</h2>"):]
    assert re.search(r'<span class="count">2</span>', lines) and lines.count("trans_id=TX-") == 2 and "TX-1 " not in lines


def test_the_history_keeps_the_last_ten(demo_template, viewer_client):
    for _ in range(12):
        reports.build_report(demo_template)
    page = viewer_client.get(reverse("sessions:template", args=["mobile-pay"])).content.decode()
    history = page[page.index("report-history"):page.index("</table>", page.index("report-history"))]
    assert history.count("<tr>") == 11  # header + 10


def test_refresh_rebuilds_the_report_for_editors(report_data, editor_client):
    response = editor_client.post(reverse("sessions:template_report", args=["mobile-pay"]))
    assert response.status_code == 302 and response["Location"] == reverse("sessions:template", args=["mobile-pay"]) + "#report"
    assert CorrelationReport.objects.get(template=report_data).sessions == 6
    page = editor_client.get(response["Location"]).content.decode()
    assert "Correlation report rebuilt: 6 sessions, 8 rejected lines." in page


def test_refresh_needs_the_editor_role_and_a_post(report_data, viewer_client, editor_client, norole_client, client):
    url = reverse("sessions:template_report", args=["mobile-pay"])
    assert viewer_client.post(url).status_code == 403
    assert norole_client.post(url).status_code == 403
    assert client.post(url).status_code == 302  # to the login page
    assert editor_client.get(url).status_code == 405
    assert editor_client.post(reverse("sessions:template_report", args=["nope"])).status_code == 404
    assert not CorrelationReport.objects.exists()


def test_refresh_enforces_csrf(report_data, users):
    client = logged_in(users["editor"], enforce_csrf_checks=True)
    url = reverse("sessions:template_report", args=["mobile-pay"])
    assert client.post(url).status_code == 403
    assert not CorrelationReport.objects.exists()
    client.get(reverse("sessions:template", args=["mobile-pay"]))
    assert client.post(url, {"csrfmiddlewaretoken": client.cookies["csrftoken"].value}).status_code == 302
    assert CorrelationReport.objects.count() == 1


def test_template_page_query_count_is_bounded(report_data, viewer_client, django_assert_max_num_queries):
    for _ in range(12):
        reports.build_report(report_data)
    # session, user, role (the stamp of services/stamps.py; the groups once per worker, below), template, current
    # version, versions, reports (latest and history in one), rule precision
    viewer_client.get(reverse("sessions:template", args=["mobile-pay"]))
    with django_assert_max_num_queries(8):
        assert viewer_client.get(reverse("sessions:template", args=["mobile-pay"])).status_code == 200


# ---- command line ---------------------------------------------------------------------------------------

def test_the_command_builds_stores_and_prints(report_data, capsys):
    call_command("correlation_report", "mobile-pay")
    out = capsys.readouterr().out
    assert "mobile-pay: correlation report #" in out and "all time" in out
    assert re.search(r"complete\s+2 \(33\.3%\)", out) and re.search(r"late events\s+3 \(12\.0%\): 2 pending, 1 replayed", out)
    assert re.search(r"billing\s+9\s+3\s+25\.0%", out) and re.search(r"gamesvr\s+2\s+orphan supplement", out)
    assert CorrelationReport.objects.count() == 1


def test_the_command_takes_a_window_and_prints_json(report_data, capsys):
    call_command("correlation_report", "mobile-pay", "--since", "2024-05-01", "--until", "2024-05-02", "--json")
    body = json.loads(capsys.readouterr().out)
    assert body["sessions"] == 3 and body["since"] == "2024-05-01T00:00:00.000Z" and body["until"] == "2024-05-02T00:00:00.000Z"


def test_the_command_reports_bad_input(demo_template):
    with pytest.raises(CommandError, match="no template"):
        call_command("correlation_report", "nope")
    with pytest.raises(CommandError, match="ISO"):
        call_command("correlation_report", "mobile-pay", "--since", "yesterday")
    with pytest.raises(CommandError, match="before"):
        call_command("correlation_report", "mobile-pay", "--since", "2024-05-02", "--until", "2024-05-01")


# ---- API ------------------------------------------------------------------------------------------------

def test_api_report_is_404_until_one_is_built(demo_template, users):
    client = api(users["viewer"])
    assert client.get(reverse("template-report", args=["mobile-pay"])).status_code == 404
    assert client.get(reverse("template-report", args=["nope"])).status_code == 404


def test_api_post_builds_a_report_and_get_returns_the_latest(report_data, users):
    url = reverse("template-report", args=["mobile-pay"])
    created = api(users["editor"]).post(url, format="json")
    assert created.status_code == 201
    body = api(users["viewer"]).get(url).json()
    assert body == created.json()
    assert set(body) == {
        "id", "template", "created_at", "since_ms", "until_ms", "since", "until", "sessions", "complete", "closed", "open", "split",
        "complete_pct", "split_pct", "with_conclusion", "accepted", "accepted_by_source", "rejected", "rejected_pct",
        "rejected_by_reason", "by_source", "orphan_supplements", "rule_errors", "late", "late_pending", "late_replayed", "late_pct",
        "duration_p50_ms", "duration_p95_ms",
    }
    assert body["template"] == "mobile-pay" and body["since"] is None and body["sessions"] == 6
    assert (body["complete_pct"], body["split_pct"], body["late_pct"]) == (33.33, 33.33, 12.0)
    assert body["accepted_by_source"] == ACCEPTED and body["rejected_by_reason"][0] == {"source": "billing", "reason": "bad JSON", "count": 3}
    assert body["by_source"][1] == {"source": "channel", "accepted": 2, "rejected": 2, "rejected_pct": 50.0}
    assert (body["duration_p50_ms"], body["duration_p95_ms"], body["orphan_supplements"]) == (5000, 95000, 3)


def test_api_post_takes_a_window_and_checks_it(report_data, users):
    client, url = api(users["editor"]), reverse("template-report", args=["mobile-pay"])
    body = client.post(url, {"since_ms": T0, "until_ms": T0 + DAY}, format="json").json()
    assert (body["since_ms"], body["until_ms"], body["sessions"], body["since"]) == (T0, T0 + DAY, 3, "2024-05-01T08:00:00.000Z")
    assert client.post(url, {"since_ms": T0, "until_ms": T0}, format="json").status_code == 400
    assert client.post(url, {"since_ms": "soon"}, format="json").status_code == 400


def test_api_post_needs_the_editor_role(report_data, users):
    url = reverse("template-report", args=["mobile-pay"])
    assert api(users["viewer"]).post(url, format="json").status_code == 403
    assert APIClient().get(url).status_code in (401, 403)
    assert not CorrelationReport.objects.exists()


def test_api_post_with_a_session_cookie_needs_csrf(report_data, users):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(users["editor"])
    assert client.post(reverse("template-report", args=["mobile-pay"]), format="json").status_code == 403


def test_schema_documents_the_report(users):
    from drf_spectacular.validation import validate_schema

    schema = api(users["viewer"]).get(reverse("api-schema"), {"format": "json"}).json()
    validate_schema(schema)
    operations = schema["paths"]["/api/templates/{name}/report/"]
    assert set(operations) >= {"get", "post"}
    assert operations["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/CorrelationReport")
    assert "rejected_by_reason" in schema["components"]["schemas"]["CorrelationReport"]["properties"]

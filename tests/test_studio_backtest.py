"""Backtest: a draft that changes one conclusion rule reports exactly the sessions whose conclusion changes."""
import pytest

from jobs.sessionize.logic.template import compile_template
from studio.models import Backtest, Draft
from studio.services import backtest
from tests.studio_support import changed_rule, demo_logs  # noqa: F401 — fixture

pytestmark = pytest.mark.django_db
ALL_TIME = (0, 2**62)


def test_exactly_the_sessions_whose_conclusion_changes(demo_logs, demo_document):
    result = backtest.compare(changed_rule(demo_document), demo_document, *ALL_TIME)
    live = compile_template(demo_document)
    expected = set()  # independently: sessions with exactly one delivery and no callback
    for key, doc in backtest.correlate(live, backtest.input_lines(live, *ALL_TIME, 10**6), lambda n: None).items():
        nodes = [n["node"] for n in doc["nodes"]]
        if nodes.count("delivery") == 1 and "callback" not in nodes:
            expected.add(key)
    assert expected, "the demo logs have sessions missing their callback"
    assert {(c["session_key"], c["start_ms"]) for c in result["changed"]} == expected
    assert all("delivered" in c["after"] and "delivered" not in c["before"] for c in result["changed"])
    assert result["after"]["delivered"] - result["before"].get("delivered", 0) == len(expected)
    assert result["sessions_before"] == result["sessions_after"]


def test_an_unchanged_draft_changes_nothing_and_the_range_bounds_the_input(demo_logs, demo_document):
    result = backtest.compare(demo_document, demo_document, *ALL_TIME)
    assert result["changed"] == [] and result["before"] == result["after"] and result["lines"] > 200
    first = min(d["start_ms"] for d in backtest.correlate(compile_template(demo_document),
                                                           backtest.input_lines(compile_template(demo_document), *ALL_TIME, 10**6),
                                                           lambda n: None).values())
    narrow = backtest.compare(demo_document, demo_document, first, first + 600_000)
    assert 0 < narrow["lines"] < result["lines"]
    with pytest.raises(backtest.BacktestError, match="more than 10 lines"):
        backtest.compare(demo_document, demo_document, *ALL_TIME, max_lines=10)


def test_the_task_runs_a_request_keeps_sessions_out_of_the_live_tables_and_can_be_canceled(demo_logs, demo_template, demo_document, users):
    from sessions.models import Session

    draft = Draft.objects.create(name="mobile-pay", document=changed_rule(demo_document))
    sessions_before = Session.objects.count()
    item = backtest.request(draft, *ALL_TIME, users["editor"])
    assert backtest.run(item.pk) == "done"
    item.refresh_from_db()
    assert item.status == "done" and item.result["changed"] and item.progress > 0
    assert Session.objects.count() == sessions_before, "a backtest never writes live sessions"
    other = backtest.request(draft, *ALL_TIME, users["editor"])
    assert backtest.cancel(other) and backtest.run(other.pk) == "canceled"


def test_old_backtests_are_cleaned_up(demo_logs, demo_template, demo_document, users, settings):
    draft = Draft.objects.create(name="mobile-pay", document=demo_document)
    old = backtest.request(draft, *ALL_TIME, users["editor"])
    settings.LUNA_STUDIO_BACKTEST_KEEP_HOURS = 0
    from django.conf import settings as live_settings
    from studio import tasks

    assert "clean-up-backtests" in live_settings.CELERY_BEAT_SCHEDULE and "monitor-flink-jobs" in live_settings.CELERY_BEAT_SCHEDULE
    assert tasks.clean_up_backtests() == 1 and not Backtest.objects.filter(pk=old.pk).exists()


def test_a_backtest_needs_a_live_version(demo_logs, demo_document, users):
    with pytest.raises(backtest.BacktestError, match="no active version"):
        backtest.request(Draft.objects.create(name="mobile-pay", document=demo_document), *ALL_TIME, users["editor"])


@pytest.fixture
def eager_backtests(monkeypatch):
    from studio import tasks

    monkeypatch.setattr(tasks.run_backtest, "delay", lambda pk: backtest.run(pk))


def test_backtest_page_and_api(demo_logs, demo_template, demo_document, editor_client, viewer_client, eager_backtests):
    draft = Draft.objects.create(name="mobile-pay", document=changed_rule(demo_document))
    r = editor_client.post(f"/studio/drafts/{draft.pk}/backtest/", {"start": "2000-01-01T00:00", "end": "2200-01-01T00:00"})
    item = Backtest.objects.get()
    assert r.status_code == 302 and r.url == f"/studio/backtests/{item.pk}/"
    page = editor_client.get(r.url)
    assert page.status_code == 200 and b"backtest-changed" in page.content
    assert len(page.context["changed"]) == len(item.result["changed"]) > 0
    side = editor_client.get(f"/studio/backtests/{item.pk}/sessions/0/")
    assert side.status_code == 200 and side.content.count(b'class="card side"') == 2 and b"Paid and delivered" in side.content
    assert editor_client.get(f"/studio/backtests/{item.pk}/sessions/9999/").status_code == 404
    api = editor_client.post("/api/studio/backtests/", {"draft": draft.pk, "start_ms": 0, "end_ms": 2**62}, content_type="application/json")
    assert api.status_code == 202
    done = editor_client.get(f"/api/studio/backtests/{api.json()['id']}/").json()
    assert done["status"] == "done" and done["result"]["changed"] == item.result["changed"]
    bad = editor_client.post("/api/studio/backtests/", {"draft": draft.pk, "start_ms": 5, "end_ms": 1}, content_type="application/json")
    assert bad.status_code == 400 and "ends before it starts" in bad.json()["detail"]
    assert editor_client.post(f"/studio/drafts/{draft.pk}/backtest/", {"start": "yesterday", "end": ""}).status_code == 302
    assert viewer_client.get(f"/studio/backtests/{item.pk}/").status_code == 403


def test_the_planner_sends_a_range_beyond_the_limit_to_flink_and_says_so(demo_logs, demo_template, demo_document, users,
                                                                          settings, monkeypatch):
    settings.LUNA_STUDIO_BACKTEST_MAX_LINES = 10
    ran = []
    monkeypatch.setattr(backtest, "sides_flink", lambda *args: ran.append(args[0]) or ({}, {}, 0))
    draft = Draft.objects.create(name="mobile-pay", document=demo_document)
    item = backtest.request(draft, *ALL_TIME, users["editor"])
    assert backtest.run(item.pk) == "done" and ran == [item.pk]
    item.refresh_from_db()
    assert item.engine == "flink" and item.result["plan"] == "bounded Flink job: the range holds more than 10 lines (LUNA_STUDIO_BACKTEST_MAX_LINES)"

    settings.LUNA_STUDIO_BACKTEST_ENGINE = "pure"
    forced = backtest.request(draft, *ALL_TIME, users["editor"])
    assert backtest.run(forced.pk) == "failed" and ran == [item.pk]
    assert "narrow it" in Backtest.objects.get(pk=forced.pk).error

    settings.LUNA_STUDIO_BACKTEST_ENGINE, settings.LUNA_STUDIO_BACKTEST_MAX_LINES = "auto", 10**6
    small = backtest.request(draft, *ALL_TIME, users["editor"])
    assert backtest.run(small.pk) == "done"
    small.refresh_from_db()
    assert small.engine == "pure" and small.result["plan"].startswith(f"pure engine: {small.result['lines']} lines")


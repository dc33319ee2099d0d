"""The bounded Flink backtest (big ranges): the job's own code over the range for both versions, in scratch
databases, gives the same comparison as the pure engine; it shows progress and can be cancelled."""
import threading
import time

import pytest

from sessions.models import Session
from studio.models import Backtest, Draft
from studio.services import backtest, flink_backtest
from tests.studio_support import changed_rule, demo_logs  # noqa: F401 — fixture

pytestmark = [pytest.mark.flink, pytest.mark.django_db(transaction=True)]
ALL_TIME = (0, 2**62)


@pytest.fixture
def changed_draft(demo_document):
    return Draft.objects.create(name="mobile-pay", document=changed_rule(demo_document))


def _comparable(result: dict) -> dict:
    return {**{k: result[k] for k in ("lines", "sessions_before", "sessions_after", "before", "after")},
            "changed": [(c["session_key"], c["start_ms"], c["before"], c["after"]) for c in result["changed"]]}


def test_a_range_forced_onto_flink_gives_the_pure_result(demo_logs, demo_template, demo_document, changed_draft, users, settings, tmp_path):
    settings.LUNA_VAR_DIR = settings.VAR_DIR = tmp_path / "var"
    settings.LUNA_STUDIO_BACKTEST_ENGINE = "flink"
    item = backtest.request(changed_draft, *ALL_TIME, users["editor"])
    assert backtest.run(item.pk) == "done", Backtest.objects.get(pk=item.pk).error
    item.refresh_from_db()
    pure = backtest.compare(changed_draft.document, demo_document, *ALL_TIME)
    assert item.engine == "flink" and "forced by LUNA_STUDIO_BACKTEST_ENGINE=flink" in item.result["plan"]
    assert _comparable(item.result) == _comparable(pure) and pure["changed"]
    assert item.progress == item.total == 2 * pure["lines"]
    side = item.result["changed"][0]["after_doc"]
    assert side["nodes"] and side["conclusions"], "changed sessions keep both documents (side by side)"
    assert Session.objects.count() == 0, "scratch sessions never reach the live tables"
    assert (flink_backtest.scratch_dir(item.pk) / "draft" / "sessions.sqlite3").exists()
    assert not (flink_backtest.scratch_dir(item.pk) / "draft" / "input").exists(), "the copied lines go at once"
    settings.LUNA_STUDIO_BACKTEST_KEEP_HOURS = 0
    assert backtest.cleanup() == 1 and not flink_backtest.scratch_dir(item.pk).exists()


def test_cancelling_kills_the_flink_job_and_removes_the_scratch(demo_logs, demo_template, changed_draft, users, settings, tmp_path):
    settings.LUNA_VAR_DIR = settings.VAR_DIR = tmp_path / "var"
    settings.LUNA_STUDIO_BACKTEST_ENGINE = "flink"
    item = backtest.request(changed_draft, *ALL_TIME, users["editor"])
    outcome: list[str] = []
    worker = threading.Thread(target=lambda: outcome.append(backtest.run(item.pk)))
    worker.start()
    deadline = time.monotonic() + 60
    while "bounded Flink job running" not in Backtest.objects.get(pk=item.pk).phase and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "live: bounded Flink job running" in Backtest.objects.get(pk=item.pk).phase
    started = time.monotonic()
    assert backtest.cancel(item)
    worker.join(30)
    assert outcome == ["canceled"] and time.monotonic() - started < 10
    assert not flink_backtest.scratch_dir(item.pk).exists()

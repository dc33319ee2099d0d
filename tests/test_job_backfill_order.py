"""A bounded backfill does not depend on the order of its lines (real Flink, mini-cluster).

With streaming watermarks, a line more than allowed_lateness behind the newest line read so far is late, and
which lines those are depends on the order Flink reads files and sources in — it does not fix that order, so
repeated backfills of the same files differed slightly before the late replay. A backfill of files holds event
time back until its input ends (LUNA_DETERMINISTIC_BACKFILL_MAX_MB): nothing is late, every run stores the same."""
import pytest

from sessions.models import LateEvent, Session, TemplateVersion
from operations.services.launch import job_config, run_job
from sessions.services.templates import save_template_version
from tests.flows import HOUR, T0, demo_document, in_time_order, payment_flow

pytestmark = [pytest.mark.flink, pytest.mark.django_db(transaction=True)]


def write_files(root, lines) -> None:
    by_source: dict[str, list[str]] = {}
    for source, text in lines:
        by_source.setdefault(source, []).append(text)
    for source, texts in by_source.items():
        folder = root / "mobile-pay" / source
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "part-0.jsonl").write_text("\n".join(texts) + "\n", encoding="utf-8")


def test_lines_far_out_of_order_in_a_backfill_are_not_late(tmp_path, settings):
    settings.LUNA_DATA_DIR = str(tmp_path / "data")
    version = save_template_version(demo_document())
    newest_first = [*in_time_order(payment_flow("N-late", T0 + 8 * HOUR)), *in_time_order(payment_flow("N-early", T0))]
    write_files(tmp_path / "data", newest_first)  # N-early is 8 h behind: beyond gap + allowed lateness (2h20m)
    assert job_config(version, bounded=True).hold_watermark

    run = run_job(version, bounded=True, target="local")

    assert run.state == "finished", run.error
    assert set(Session.objects.values_list("session_key", "primary_conclusion")) == {("N-late", "delivered"), ("N-early", "delivered")}
    assert not LateEvent.objects.exists()


def test_a_backfill_over_the_size_limit_streams_with_watermarks(tmp_path, settings):
    settings.LUNA_DATA_DIR = str(tmp_path / "data")
    settings.LUNA_DETERMINISTIC_BACKFILL_MAX_MB = 0
    write_files(tmp_path / "data", in_time_order(payment_flow("S-1", T0)))
    version = save_template_version(demo_document())
    assert not job_config(version, bounded=True).hold_watermark
    assert not job_config(TemplateVersion.objects.get(pk=version.pk), bounded=False).hold_watermark


def test_backfills_run_at_their_own_parallelism_and_live_runs_at_theirs(tmp_path, settings):
    settings.LUNA_DATA_DIR = str(tmp_path / "data")
    settings.LUNA_FLINK_PARALLELISM, settings.LUNA_FLINK_BACKFILL_PARALLELISM = 1, 2
    version = save_template_version(demo_document())
    assert job_config(version, bounded=True).parallelism == 2
    assert job_config(TemplateVersion.objects.get(pk=version.pk), bounded=False).parallelism == 1

"""The real Flink job over demo logs → sessions in the database → found through the console.

One bounded run on the local mini-cluster (≈20 s) shared by the tests of this module. The pure engine
runs over the same files; the job must store exactly what the engine stores.
"""
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

from jobs.sessionize.logic.engine import Correlator
from jobs.sessionize.logic.records import Event, parse_line
from sessions.models import DeadLetter, LateEvent, Session, TemplateVersion
from sessions.services import demo_data
from operations.services.launch import run_job

pytestmark = [pytest.mark.flink, pytest.mark.django_db(transaction=True)]
ORDERS = 400


def backfill(tmp_path, settings):
    """Demo logs for ORDERS orders, imported template, one bounded run of the real job."""
    settings.LUNA_DATA_DIR = str(tmp_path / "data")
    call_command("demo_data", orders=ORDERS, seed=11, data_dir=tmp_path / "data", days=0.5)
    version = TemplateVersion.objects.get(template__name="mobile-pay")
    run = run_job(version, bounded=True, target="local")
    assert run.state == "finished", run.error
    manifest = [json.loads(line) for line in (tmp_path / "data" / "mobile-pay" / "expected.jsonl").read_text().splitlines()]
    orders = [m for m in manifest if "order_id" in m]
    summary = next(m for m in manifest if m.get("summary"))
    return version, run, orders, summary, tmp_path / "data"


def engine_result(version: TemplateVersion, data_dir: Path) -> Correlator:
    """Feed the same files to the pure engine in event-time order (rejected lines anywhere)."""
    tpl = version.compile()
    items = []
    for source in tpl.sources.values():
        for path in sorted((data_dir / source.location).glob("*.jsonl")):
            for line in path.read_text().splitlines():
                parsed = parse_line(tpl, source.name, line)
                items.append((parsed.ts if isinstance(parsed, Event) else 0, source.name, line))
    correlator = Correlator(tpl)
    for _, source, line in sorted(items, key=lambda item: item[0]):
        correlator.feed(source, line)
    correlator.finish()
    return correlator


def comparable(document: dict) -> tuple:
    return (document["session_key"], document["start_ms"], document["status"], document["primary_conclusion"],
            document["split"], len(document["nodes"]))


def check_the_job_stores_what_the_pure_engine_computes(backfill):
    version, run, orders, summary, data_dir = backfill
    expected = engine_result(version, data_dir)
    stored = {
        (s.session_key, s.start_ms, s.status, s.primary_conclusion, s.split, s.nodes.count())
        for s in Session.objects.filter(template=version.template)
    }
    assert stored == {comparable(s.document) for s in expected.store.values()}
    assert len(stored) == sum(o["sessions"] for o in orders)
    assert LateEvent.objects.count() == len(expected.late) == 0


def check_every_order_gets_the_conclusion_the_demo_planted(backfill):
    version, run, orders, summary, data_dir = backfill
    by_key: dict[str, list[str]] = {}
    for session in Session.objects.filter(template=version.template).order_by("start_ms"):
        by_key.setdefault(session.session_key, []).append(session.primary_conclusion)
    wrong = {o["order_id"]: (o["expected"], by_key.get(o["order_id"])) for o in orders if by_key.get(o["order_id"]) != o["expected"]}
    assert not wrong


def check_malformed_lines_are_in_the_dead_letters_with_reasons(backfill):
    version, run, orders, summary, data_dir = backfill
    letters = DeadLetter.objects.filter(template=version.template)
    rejected = letters.exclude(reason__startswith="orphan supplement")
    assert rejected.count() == sum(summary["malformed"].values()) > 0
    reasons = set(rejected.values_list("reason", flat=True))
    planted = {kind for kinds in summary["malformed_kinds"].values() for kind, n in kinds.items() if n}
    prefixes = {"bad_json": ("bad JSON",), "missing_key": ("missing session key", "missing join field"), "bad_time": ("unparseable time",)}
    for kind in planted:
        assert any(r.startswith(prefixes[kind]) for r in reasons), (kind, reasons)
    assert all(letter.raw and letter.origin.endswith(".jsonl") for letter in rejected)
    assert run.stats["rejected"], "the job run records rejected counts per source and reason"


def check_an_analyst_finds_a_lost_order_and_reads_its_tree(backfill, django_user_model):
    version, run, orders, summary, data_dir = backfill
    lost = next(o for o in orders if o["anomaly"] == demo_data.LOST)
    django_user_model.objects.create_user("ana", password="pw-ana-123")
    call_command("create_luna_user", "ana", password="pw-ana-123", role="viewer")
    client = Client()
    assert client.login(username="ana", password="pw-ana-123")

    listing = client.get("/", {"conclusion": "lost_order"})
    assert listing.status_code == 200
    assert lost["order_id"] in listing.content.decode()

    by_trans_id = client.get("/", {"q": lost["trans_id"]})
    assert lost["order_id"] in by_trans_id.content.decode()

    session = Session.objects.get(template=version.template, session_key=lost["order_id"])
    page = client.get(f"/sessions/{session.pk}/").content.decode()
    assert "Paid but not delivered" in page
    assert "missing" in page.lower()
    assert "Game delivery" in page


@pytest.mark.parametrize("engine", ["python", "jvm"])
def test_a_backfill_with_the_real_job(tmp_path, settings, django_user_model, engine):
    """One job run (the expensive part) per session engine, then every check against what it stored."""
    settings.LUNA_SESSION_ENGINE = engine
    result = backfill(tmp_path, settings)
    check_the_job_stores_what_the_pure_engine_computes(result)
    check_every_order_gets_the_conclusion_the_demo_planted(result)
    check_malformed_lines_are_in_the_dead_letters_with_reasons(result)
    check_an_analyst_finds_a_lost_order_and_reads_its_tree(result, django_user_model)

"""Rollup and fact-table maintenance: the settle task applies stable provisional sessions; rebuild and backfill
recount stored ones; LUNA_ROLLUPS=off turns the sink's upkeep off."""
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from analytics.facts.upkeep import FactUpkeep
from analytics.models import Rollup, SessionContribution, SessionFact
from analytics.query.printers import dialect_of
from analytics.rollups.upkeep import RollupUpkeep
from analytics.services import rollups
from analytics.tasks import settle_rollups
from tests.factories import T0

pytestmark = pytest.mark.django_db


def provisional(uid: int, conclusion: str) -> dict:
    return {"uid": uid, "start_ms": T0, "duration_ms": 5000, "status": "open", "completeness": 0.5, "primary_conclusion": conclusion,
            "conclusions": [{"name": conclusion, "severity": "low"}], "fields": {"channel": "card"}}


def test_the_settle_task_counts_provisional_sessions_once_they_are_stable(demo_template, monkeypatch):
    monkeypatch.setenv("LUNA_ROLLUP_SETTLE_MS", "10000")
    with connection.cursor() as cur:
        upkeep = RollupUpkeep(demo_template.pk, dialect_of(connection), settle_ms=10_000)
        upkeep.write(cur, [provisional(1, "abandoned")], [], now_ms=1_000)
        upkeep.write(cur, [provisional(1, "lost_order")], [], now_ms=5_000)  # changed again: the clock restarts
    assert not Rollup.objects.exists()
    assert rollups.settle(now_ms=14_999) == 0
    assert rollups.settle(now_ms=15_000) == 1
    assert set(Rollup.objects.values_list("grain", "conclusion", "sessions")) == {("m", "lost_order", 1), ("h", "lost_order", 1),
                                                                                  ("d", "lost_order", 1)}
    assert SessionContribution.objects.get().pending is None
    assert settle_rollups.apply().get() == 0


def test_rebuild_recounts_the_stored_sessions(demo_sessions, capsys):
    from analytics.models import RollupHours

    call_command("rebuild_rollups", "mobile-pay")
    call_command("rebuild_rollups", "mobile-pay")  # twice: the second run starts from nothing again
    assert "6 sessions counted" in capsys.readouterr().out
    assert sum(Rollup.objects.filter(grain="d").values_list("sessions", flat=True)) == 6
    assert sum(RollupHours.objects.values_list("sessions", flat=True)) == 6
    assert SessionContribution.objects.count() == 6


def test_backfill_writes_the_fact_rows_of_stored_sessions_and_drops_stale_ones(demo_sessions, capsys):
    SessionFact.objects.all().delete()
    SessionFact.objects.create(session_id=999, template=demo_sessions["lost"].template, start_ms=T0, end_ms=T0, status="closed",
                               duration_ms=0, duration_bucket=0, completeness_e4=0, dim_key="x")
    call_command("backfill_facts", "mobile-pay", "--batch", "4")
    assert "6 sessions written" in capsys.readouterr().out
    facts = {f.session_id: f for f in SessionFact.objects.all()}
    assert set(facts) == {s.pk for s in demo_sessions.values()}
    lost = facts[demo_sessions["lost"].pk]
    assert (lost.conclusion, lost.severity, lost.status, lost.completeness_e4, lost.d1, lost.d2) == (
        "lost_order", "high", "closed", 5000, "alipay", "eu")
    assert ",order," in lost.nodes and ",delivery," not in lost.nodes


def test_backfill_refuses_an_unknown_template(db):
    with pytest.raises(CommandError):
        call_command("backfill_facts", "nope")


def test_luna_rollups_off_turns_the_sinks_upkeep_off(demo_template, monkeypatch):
    monkeypatch.setenv("LUNA_ROLLUPS", "off")
    upkeep = RollupUpkeep(demo_template.pk, dialect_of(connection), settle_ms=0)
    facts = FactUpkeep.beside(upkeep)
    assert not upkeep.enabled and not facts.enabled
    with connection.cursor() as cur:
        upkeep.write(cur, [dict(provisional(1, "abandoned"), status="closed", end_ms=T0 + 5000)], [])
        facts.write(cur, [dict(provisional(1, "abandoned"), end_ms=T0 + 5000)], [])
    assert not Rollup.objects.exists() and not SessionFact.objects.exists() and not SessionContribution.objects.exists()


def test_the_hours_of_day_migration_fills_the_tier_from_the_hour_rollups(demo_template):
    from types import SimpleNamespace

    from analytics.db import fill_rollup_hours
    from analytics.models import RollupHours

    day, hour = T0 - T0 % 86_400_000, 3_600_000
    for bucket, status, sessions in ((day + 3 * hour, "open", 2), (day + 3 * hour, "closed", 5), (day + 23 * hour, "closed", 1),
                                     (day + 86_400_000, "closed", 4)):
        Rollup.objects.create(template=demo_template, grain="h", bucket_ms=bucket, status=status, conclusion="abandoned",
                              dim_names="channel", d1="card", sessions=sessions)
    Rollup.objects.create(template=demo_template, grain="d", bucket_ms=day, status="closed", conclusion="abandoned", sessions=8)
    fill_rollup_hours(None, SimpleNamespace(connection=connection))
    rows = {r.day_ms: (r.sessions, r.s03, r.s23, r.s00) for r in RollupHours.objects.filter(template=demo_template, d1="card")}
    assert rows == {day: (8, 7, 1, 0), day + 86_400_000: (4, 0, 0, 4)}


def test_deleting_a_template_deletes_its_day_rows_too(demo_template):
    from analytics.models import RollupHours

    RollupHours.objects.create(template=demo_template, day_ms=0, conclusion="abandoned", dim_names="channel", d1="card", sessions=1)
    demo_template.delete()  # a composite primary key: the ORM's cascade deletes by every key column
    assert not RollupHours.objects.exists()

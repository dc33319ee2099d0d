"""Rollup maintenance services: the settle task applies stable provisional sessions; rebuild recounts stored ones."""
import pytest
from django.core.management import call_command
from django.db import connection

from analytics.models import Rollup, SessionContribution
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
    call_command("rebuild_rollups", "mobile-pay")
    assert "6 sessions counted" in capsys.readouterr().out
    assert sum(Rollup.objects.filter(grain="d").values_list("sessions", flat=True)) == 6
    assert SessionContribution.objects.count() == 6

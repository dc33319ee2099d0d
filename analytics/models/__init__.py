from .alerts import AlertFiring, AlertRule, TrendSnapshot
from .dashboards import Dashboard
from .facts import SessionFact
from .replica import FactDay, ReplicaDay
from .rollups import Rollup, RollupDays, RollupHours, RollupSpan, SessionContribution

__all__ = ["AlertFiring", "AlertRule", "Dashboard", "FactDay", "Rollup", "RollupDays", "RollupHours", "RollupSpan", "ReplicaDay", "SessionContribution", "SessionFact", "TrendSnapshot"]

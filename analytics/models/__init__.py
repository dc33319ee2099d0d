from .alerts import AlertFiring, AlertRule, TrendSnapshot
from .dashboards import Dashboard
from .facts import SessionFact
from .rollups import Rollup, RollupHours, RollupSpan, SessionContribution

__all__ = ["AlertFiring", "AlertRule", "Dashboard", "Rollup", "RollupHours", "RollupSpan", "SessionContribution", "SessionFact", "TrendSnapshot"]

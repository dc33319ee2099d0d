from .alerts import AlertFiring, AlertRule, TrendSnapshot
from .dashboards import Dashboard
from .facts import SessionFact
from .rollups import Rollup, RollupDays, RollupHours, RollupSpan, SessionContribution

__all__ = ["AlertFiring", "AlertRule", "Dashboard", "Rollup", "RollupDays", "RollupHours", "RollupSpan", "SessionContribution", "SessionFact", "TrendSnapshot"]

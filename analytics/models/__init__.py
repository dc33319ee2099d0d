from .alerts import AlertFiring, AlertRule, TrendSnapshot
from .dashboards import Dashboard
from .facts import SessionFact
from .rollups import Rollup, RollupHours, SessionContribution

__all__ = ["AlertFiring", "AlertRule", "Dashboard", "Rollup", "RollupHours", "SessionContribution", "SessionFact", "TrendSnapshot"]

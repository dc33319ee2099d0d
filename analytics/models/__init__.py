from .alerts import AlertFiring, AlertRule, TrendSnapshot
from .dashboards import Dashboard
from .facts import SessionFact
from .rollups import Rollup, SessionContribution

__all__ = ["AlertFiring", "AlertRule", "Dashboard", "Rollup", "SessionContribution", "SessionFact", "TrendSnapshot"]

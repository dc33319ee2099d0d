from .alerts import AlertFiring, AlertRule, TrendSnapshot
from .dashboards import Dashboard
from .rollups import Rollup, SessionContribution

__all__ = ["AlertFiring", "AlertRule", "Dashboard", "Rollup", "SessionContribution", "TrendSnapshot"]

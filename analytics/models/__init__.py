from .dashboards import Dashboard
from .rollups import Rollup, SessionContribution

__all__ = ["Dashboard", "Rollup", "SessionContribution"]

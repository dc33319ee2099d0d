from .rollups import Rollup, SessionContribution

__all__ = ["Rollup", "SessionContribution"]

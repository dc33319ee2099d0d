"""Macro analytics (issue 10): typed macro queries, rollups kept by the sink, dashboards, alerts.

This package imports nothing from Django at module level: `analytics.rollups` runs inside Flink TaskManagers.
"""

"""Rollup upkeep: pure (no Django) so the Flink sink can call it inside its own transaction."""

"""The session fact table: one narrow row per session (latest revision), kept by the sink beside the rollups."""

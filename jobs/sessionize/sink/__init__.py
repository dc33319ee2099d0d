"""Database sink: batched, revision-guarded writes of sessions, dead letters and late events."""

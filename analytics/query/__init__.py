"""Macro query compiler: pydantic spec → planner (rollups, session fact table or key-value rows) → ORM → one printer per backend."""

"""Macro query compiler: pydantic spec → planner (rollups or fact tables) → ORM → one printer per backend."""

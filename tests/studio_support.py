"""Shared by the studio tests: demo logs in a data dir, a draft that changes one rule, and the wizard's POST data
for each step."""
import copy
import time
from pathlib import Path
from typing import Any

import pytest

from sessions.services.demo_data.files import write_backlog
from studio.services import drafts


@pytest.fixture
def demo_logs(settings, tmp_path, demo_document) -> Path:
    """A small backlog of the demo's four sources under a fresh data dir (the job's own generator)."""
    root = tmp_path / "data"
    settings.LUNA_DATA_DIR = str(root)
    settings.LUNA_SOURCE_ROOTS = None
    now = int(time.time() * 1000)
    write_backlog(demo_document, root, orders=40, seed=11, start_ms=now - 3_600_000, end_ms=now - 600_000)
    return root


def changed_rule(document: dict[str, Any]) -> dict[str, Any]:
    """`delivered` no longer needs the channel callback: the sessions without one gain it."""
    draft = copy.deepcopy(document)
    next(c for c in draft["conclusions"] if c["name"] == "delivered")["when"] = "has(delivery) && delivery.count == 1"
    return draft


def step_data(prefix: str, step: str, rows: list[dict[str, Any]] | dict[str, Any]) -> dict[str, Any]:
    """POST data of one wizard step (a formset's rows, or one form's fields) under formtools' prefixes."""
    data: dict[str, Any] = {f"{prefix}-current_step": step}
    if isinstance(rows, dict):
        data.update({f"{step}-{k}": v for k, v in rows.items()})
        return data
    data.update({f"{step}-TOTAL_FORMS": len(rows), f"{step}-INITIAL_FORMS": 0, f"{step}-MIN_NUM_FORMS": 0,
                 f"{step}-MAX_NUM_FORMS": 1000})
    for i, row in enumerate(rows):
        data.update({f"{step}-{i}-{k}": v for k, v in row.items()})
    return data


def source_rows(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"name": s["name"], "location": s["location"], "time_path": s["time"]["path"], "time_format": s["time"]["format"],
             "tz": s["time"].get("tz", ""), "field_paths": drafts.field_lines(s["fields"])} for s in document["sources"]]


def node_rows(document: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for n in document["nodes"]:
        join = n.get("join") or {}
        row = {"name": n["name"], "label": n.get("label", ""), "source": n["source"], "parent": n.get("parent") or "",
               "when": n.get("when", ""), "join_on": join.get("on", ""), "lower": join.get("lower", ""), "upper": join.get("upper", "")}
        if n.get("many"):
            row["many"] = "on"
        rows.append(row)
    return rows

"""Bounded Flink backtests: ranges too large for the pure engine run through the job's own code
(jobs/sessionize, bounded file sources) once for the live version and once for the draft.

Scratch namespace: each side writes into its own SQLite database under var/backtests/<id>/ holding the sink's
tables (created from the Django models). Search, analytics, rollups and the Jobs page only ever read the
`default`/`analytics` databases, so scratch sessions can never mix with live ones, whatever their template id,
and cleaning up is deleting a directory. The range's lines are copied to scratch files first (what the pure
path reads too), so the job's sources are plain bounded file sources and the job needs no range option.

The job runs on a local mini-cluster in its own process group (it does not take slots from the live jobs'
cluster, nor show on the Jobs page); cancelling the backtest kills that group, which cancels the Flink job.
"""
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db.utils import ConnectionHandler

from jobs.sessionize.config import JobConfig
from jobs.sessionize.logic.template import compile_template
from operations.services.flink_cluster import REPO_ROOT
from operations.services.launch import job_env

from .backtest_input import BacktestError, Canceled, lines_in_range

POLL_S = 1.0
SCRATCH_TEMPLATE_ID = 1  # alone in its own database: any id does
STORE_APPS = ("luna_sessions", "analytics")  # the tables the job's sink writes (sessions, children, rollups)


def scratch_dir(backtest_id: int) -> Path:
    return Path(settings.VAR_DIR) / "backtests" / str(backtest_id)


def remove_scratch(backtest_id: int) -> None:
    shutil.rmtree(scratch_dir(backtest_id), ignore_errors=True)


def remove_orphans(kept_ids: set[int]) -> int:
    """Scratch directories of backtests that no longer exist (cleaned up, or their row deleted)."""
    root, removed = Path(settings.VAR_DIR) / "backtests", 0
    for child in root.iterdir() if root.is_dir() else ():
        if child.is_dir() and (not child.name.isdigit() or int(child.name) not in kept_ids):
            shutil.rmtree(child, ignore_errors=True)
            removed += 1
    return removed


def create_store(path: Path) -> str:
    """A fresh SQLite database with the sink's tables, built from the models (no migrations: only this module
    and the job ever open it). Returns the job's DATABASE_URL for it."""
    handler = ConnectionHandler({"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(path)}})
    connection = handler["default"]  # a handler of its own: Django's connections never see this database
    try:
        with connection.schema_editor() as editor:
            for label in STORE_APPS:
                for model in apps.get_app_config(label).get_models():
                    if model._meta.managed and not model._meta.proxy:
                        editor.create_model(model)
    finally:
        connection.close()
    return f"sqlite:///{path.resolve()}"


def write_input(document: dict[str, Any], start_ms: int, end_ms: int, root: Path) -> tuple[dict[str, Any], int]:
    """The range's lines of each source under `root/<source>/`; the document is returned pointing at them."""
    template = compile_template(document)
    scratch = dict(document, sources=[dict(s) for s in document["sources"]])
    total = 0
    for source in scratch["sources"]:
        folder = root / source["name"]
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / "range.jsonl", "w", encoding="utf-8") as out:
            for line in lines_in_range(template.sources[source["name"]], start_ms, end_ms):
                out.write(line + "\n")
                total += 1
        source["location"] = str(folder.resolve())
    return scratch, total


def job_config(document: dict[str, Any], version: int, database_url: str, data_dir: Path) -> JobConfig:
    """A backfill's configuration: bounded file sources, no checkpoints, and event time held to the end of the
    input when it is small enough (LUNA_DETERMINISTIC_BACKFILL_MAX_MB), as for any backfill: then the result
    does not depend on Flink's read order, which is what makes it equal the pure engine's."""
    size = sum(p.stat().st_size for p in data_dir.rglob("*") if p.is_file())
    return JobConfig(template=document, template_id=SCRATCH_TEMPLATE_ID, version=version, database_url=database_url,
                     data_dir=str(data_dir), bounded=True, parallelism=settings.LUNA_FLINK_PARALLELISM,
                     checkpoint_interval_ms=0, hold_watermark=size <= settings.LUNA_DETERMINISTIC_BACKFILL_MAX_MB * 1024 * 1024,
                     engine=settings.LUNA_SESSION_ENGINE)


def run_job(config: JobConfig, folder: Path, stop: Callable[[], bool], progress: Callable[[int], None]) -> None:
    """The bounded job to its end on a local mini-cluster; `stop()` is asked every second (True: the job is
    cancelled), `progress` gets the sessions stored so far."""
    config_path = folder / "job.json"
    config.dump(config_path)
    database = config.database_url.removeprefix("sqlite:///")
    with open(folder / "job.log", "w") as log:
        process = subprocess.Popen([sys.executable, "-m", "jobs.sessionize.main", "--config", str(config_path)],
                                   cwd=REPO_ROOT, env=job_env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            while process.poll() is None:
                if stop():
                    raise Canceled
                progress(stored_sessions(database))
                time.sleep(POLL_S)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)  # the mini-cluster and with it the Flink job
                process.wait(timeout=30)
    if process.returncode != 0:
        tail = (folder / "job.log").read_text(errors="replace")[-3000:]
        raise BacktestError(f"the bounded Flink job failed (exit {process.returncode}): {tail}")


def stored_sessions(database: str) -> int:
    try:
        with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=1)) as conn:
            return conn.execute("SELECT COUNT(*) FROM luna_session").fetchone()[0]
    except sqlite3.Error:
        return 0  # being created or busy: the next poll reads it


def read_documents(database: str) -> dict[tuple, dict[str, Any]]:
    """The stored sessions as the parts of a document the comparison and the side-by-side page use."""
    docs: dict[int, dict[str, Any]] = {}
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as conn:
        for sid, key, start, end, status in conn.execute(
                "SELECT id, session_key, start_ms, end_ms, status FROM luna_session ORDER BY id"):
            docs[sid] = {"session_key": key, "start_ms": start, "end_ms": end, "status": status, "nodes": [], "conclusions": []}
        for sid, node, seq, source, ts, supplement, raw in conn.execute(
                "SELECT session_id, node, seq, source, event_ms, supplement, raw FROM luna_session_node ORDER BY session_id, event_ms, id"):
            if sid in docs:
                docs[sid]["nodes"].append({"node": node, "seq": seq, "source": source, "ts": ts, "supplement": bool(supplement), "raw": raw})
        for sid, name, label, severity in conn.execute(
                "SELECT session_id, name, label, severity FROM luna_session_conclusion ORDER BY session_id, id"):
            if sid in docs:
                docs[sid]["conclusions"].append({"name": name, "label": label, "severity": severity})
    return {(d["session_key"], d["start_ms"]): d for d in docs.values()}


def correlate_side(backtest_id: int, side: str, document: dict[str, Any], version: int, start_ms: int, end_ms: int,
                   stop: Callable[[], bool], report: Callable[[str, int], None]) -> tuple[dict[tuple, dict], int]:
    """One side (live or draft) through the bounded job: its sessions and how many lines it read."""
    folder = scratch_dir(backtest_id) / side
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    report(f"{side}: copying the range's lines", 0)
    scratch_doc, lines = write_input(document, start_ms, end_ms, folder / "input")
    database = create_store(folder / "sessions.sqlite3")
    report(f"{side}: bounded Flink job running over {lines} lines", 0)
    run_job(job_config(scratch_doc, version, database, folder / "input"), folder, stop,
            lambda n: report(f"{side}: bounded Flink job running over {lines} lines, {n} sessions stored", 0))
    shutil.rmtree(folder / "input", ignore_errors=True)  # a copy of the logs; the sessions stay until cleanup
    report(f"{side}: done", lines)
    return read_documents(database.removeprefix("sqlite:///")), lines

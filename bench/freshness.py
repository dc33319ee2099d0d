"""Freshness of the continuous sessionize job: time from a session's last event file being written to its row
being visible in the database, p50/p95 (target: p95 ≤ 1 s for early-fired, i.e. complete, sessions).

    .venv/bin/python bench/freshness.py [--rounds 30] [--monitor-interval 200ms] [--flush-interval-ms 100] [--db URL]
                                        [--parse sql|python]

Why: a complete session (order, verified, callback, delivery) is written as soon as its last node arrives
("early fire", no watermark or timeout involved), so its freshness is the pure pipeline latency: the file
source's directory scan, the operators, the sink's flush timer and the commit. This measures it end to end.

Starts the job continuous on the local mini-cluster, waits for a warm-up batch, then every `--pace` seconds
writes one batch of complete demo orders (demo generator, event times ending at now), one file per source,
written hidden and renamed into place (the source skips dot-files). Polls the DB every 20 ms. Also writes a few
abandoned orders: incomplete, shown only by the template's processing-time timeout (30 s), reported apart.
Figures, not assertions: see docs/BENCHMARKS.md for what was measured on this machine.
"""
import argparse
import json
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from throughput import thread_cpu, tree_pids  # noqa: E402  (bench/, this script's own directory)
POLL_S = 0.02


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]  # nearest rank


class BatchWriter:
    """Demo orders rendered by the demo generator, squeezed into the last seconds before now."""

    def __init__(self, document: dict, data_dir: Path):
        from sessions.services import demo_data as dd

        self.dd = dd
        self.sim = dd.PaymentFlowSimulator("freshness", duplicate_rate=0, malformed_rate=0, browse_rate=0, shuffle_share=0)
        self.dirs = {s: data_dir / loc for s, loc in dd.source_locations(document).items()}
        for d in self.dirs.values():
            d.mkdir(parents=True, exist_ok=True)
        self.batches = 0

    def write(self, complete: int, abandoned: int = 0) -> tuple[list[str], list[str], float]:
        """(complete order ids, abandoned order ids, wall time after the last rename)."""
        now_ms = int(time.time() * 1000)
        kinds = [self.dd.NORMAL] * complete + [self.dd.ABANDONED] * abandoned
        entries = [self.sim.add_order(now_ms - 3000 + i, latest_ms=now_ms, anomaly=k) for i, k in enumerate(kinds)]
        per_source: dict[str, list[str]] = {s: [] for s in self.dirs}
        for source, line in self.sim.drain():
            per_source[self.dd.SOURCES[source]].append(line)
        self.batches += 1
        staged = []
        for name, lines in per_source.items():
            if lines:
                final = self.dirs[name] / f"fresh-{self.batches:05d}.jsonl"
                hidden = final.with_name("." + final.name)
                hidden.write_text("\n".join(lines) + "\n")
                staged.append((hidden, final))
        for hidden, final in staged:
            os.replace(hidden, final)
        written = time.time()
        ids = [e["order_id"] for e in entries]
        return ids[:complete], ids[complete:], written


def visible(template_id: int, keys: list[str], complete_only: bool) -> dict[str, tuple[float, int]]:
    """session_key -> (time seen, sink's updated_ms) for the keys that have a row (complete ones if asked)."""
    from django.db import connection

    if not keys:
        return {}
    marks = ",".join(["%s"] * len(keys))
    sql = f"SELECT session_key, updated_ms FROM luna_session WHERE template_id = %s AND session_key IN ({marks})"
    params = [template_id, *keys]
    if complete_only:
        sql += " AND status = %s"
        params.append("complete")
    with connection.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    seen = time.time()
    return {key: (seen, updated) for key, updated in rows}


def create_mysql_database(url: str) -> None:
    from urllib.parse import unquote, urlparse

    import pymysql

    u = urlparse(url)
    conn = pymysql.connect(host=u.hostname, port=u.port or 3306, user=unquote(u.username or ""), password=unquote(u.password or ""))
    with conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE IF NOT EXISTS `{u.path.lstrip('/')}` CHARACTER SET utf8mb4")
    conn.close()


def start_job(version, work: Path, monitor_interval: str, flush_interval_ms: int, parse: str) -> subprocess.Popen:
    from operations.services import launch as jobs

    config = jobs.job_config(version, bounded=False)
    config.monitor_interval, config.flush_interval_ms = monitor_interval, flush_interval_ms
    config.extra["parse"] = parse
    config.checkpoint_dir = f"file://{work / 'checkpoints'}"
    config.dump(work / "run.json")
    log = open(work / "job.log", "w")
    command = [sys.executable, "-m", "jobs.sessionize.main", "--config", str(work / "run.json")]
    # its own process group, so the whole tree (Python client + JVM gateway) can be stopped by one id
    return subprocess.Popen(command, cwd=ROOT, env=jobs.job_env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def stop_job(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def job_cpu_s(root_pid: int) -> float:
    """CPU seconds the job's process tree has used so far (user + system, all threads)."""
    return sum(cpu for _, cpu in thread_cpu(tree_pids(root_pid)).values())


def summary(label: str, values_ms: list[float]) -> str:
    if not values_ms:
        return f"{label:<34} none measured"
    return (f"{label:<34} n={len(values_ms):4d}  p50 {percentile(values_ms, 50):6.0f}  p95 {percentile(values_ms, 95):6.0f}"
            f"  p99 {percentile(values_ms, 99):6.0f}  max {max(values_ms):6.0f}  mean {statistics.fmean(values_ms):6.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=30, help="measured batches")
    parser.add_argument("--orders", type=int, default=5, help="complete orders per batch")
    parser.add_argument("--pace", type=float, default=0.7, help="seconds between batches")
    parser.add_argument("--abandoned", type=int, default=3, help="abandoned orders (one per early batch); 0: skip")
    parser.add_argument("--monitor-interval", default="200ms", help="file source directory scan interval")
    parser.add_argument("--flush-interval-ms", type=int, default=100, help="sink flush timer")
    parser.add_argument("--db", default=None, help="DATABASE_URL (default: a fresh SQLite file in the work dir)")
    parser.add_argument("--keep", action="store_true", help="keep the work dir (job log, files, database)")
    parser.add_argument("--parse", choices=["sql", "python"], default="sql",
                        help="JVM engine: lines parsed and classified in Flink SQL (default) or all in Python")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="luna-fresh-"))
    os.environ["LUNA_VAR_DIR"] = str(work / "var")
    os.environ["LUNA_DATA_DIR"] = str(work / "data")
    os.environ["DATABASE_URL"] = args.db or f"sqlite:///{work / 'fresh.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "luna.settings")
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    if args.db and args.db.startswith("mysql://"):
        create_mysql_database(args.db)
    import django

    django.setup()
    from django.core.management import call_command

    from sessions.services.demo_data import import_template

    call_command("migrate", verbosity=0)
    if args.db:  # a reused MySQL database: start from no sessions so old rows cannot answer the polls
        from sessions.models import AnalysisTemplate

        AnalysisTemplate.objects.filter(name="mobile-pay").delete()
    document = json.loads((ROOT / "sessions" / "demo" / "mobile-pay.json").read_text())
    version, _ = import_template(document)
    writer = BatchWriter(document, work / "data")
    print(f"settings: parse in {args.parse}, engine {os.environ.get('LUNA_SESSION_ENGINE', 'jvm')}, "
          f"monitor interval {args.monitor_interval}, sink flush {args.flush_interval_ms} ms, "
          f"{args.rounds} batches × {args.orders} complete orders every {args.pace} s, "
          f"db {os.environ['DATABASE_URL'].split('@')[-1]}, work {work}")
    process = start_job(version, work, args.monitor_interval, args.flush_interval_ms, args.parse)
    try:
        started = time.time()
        warm, _, _ = writer.write(20)
        while len(visible(version.template_id, warm, True)) < len(warm):
            if process.poll() is not None or time.time() - started > 300:
                sys.exit(f"the job did not come up (exit {process.poll()}); see {work / 'job.log'}")
            time.sleep(0.1)
        print(f"job up and warm: first sessions visible {time.time() - started:.1f} s after start")
        time.sleep(2)
        measured_from, cpu_from = time.time(), job_cpu_s(process.pid)

        pending: dict[str, tuple[float, bool]] = {}  # key -> (written at, complete?)
        fresh_ms, to_sink_ms, abandoned_ms = [], [], []
        next_write, rounds_done, last_write = time.time(), 0, time.time()
        timeout_s = 45.0 + 15 * bool(args.abandoned)
        while rounds_done < args.rounds or pending:
            now = time.time()
            if rounds_done < args.rounds and now >= next_write:
                complete, abandoned, written = writer.write(args.orders, 1 if rounds_done < args.abandoned else 0)
                pending.update({k: (written, True) for k in complete} | {k: (written, False) for k in abandoned})
                rounds_done, next_write, last_write = rounds_done + 1, next_write + args.pace, written
            for complete_only in (True, False):
                keys = [k for k, (_, c) in pending.items() if c == complete_only]
                for key, (seen, updated_ms) in visible(version.template_id, keys, complete_only).items():
                    written, _ = pending.pop(key)
                    (fresh_ms if complete_only else abandoned_ms).append((seen - written) * 1000)
                    if complete_only:
                        to_sink_ms.append(updated_ms - written * 1000)
            if process.poll() is not None:
                sys.exit(f"the job stopped (exit {process.returncode}); see {work / 'job.log'}")
            if rounds_done >= args.rounds and time.time() - last_write > timeout_s:
                print(f"gave up on {len(pending)} sessions not visible after {timeout_s:.0f} s")
                break
            time.sleep(POLL_S)
        wall_s, cpu_s = time.time() - measured_from, job_cpu_s(process.pid) - cpu_from
    finally:
        stop_job(process)

    print(summary("complete (early-fired) sessions", fresh_ms))
    print(summary("  of which file → sink write", to_sink_ms))
    print(summary("abandoned (processing-time timeout)", abandoned_ms))
    print(f"measured phase: wall {wall_s:.1f} s, job CPU {cpu_s:.1f} s (its process tree, JVM included); "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"(visible time is found by polling every {POLL_S * 1000:.0f} ms; template timeout "
          f"{document['session']['timeout']}; the sink's updated_ms is taken before its commit)")
    if args.keep:
        print(f"kept {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

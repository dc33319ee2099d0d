"""Throughput of the sessionize job, end to end (files → rows committed), with the parsing-only ceiling.

    .venv/bin/python bench/throughput.py --orders 100000 [--target local|http://localhost:8081] [--db URL] [--freshness]

Generates demo logs with the demo generator, runs the job bounded, and prints events/s, sessions/s, wall
time and peak memory (RSS of the job's process tree, JVM included), then the same for parse-only.
Figures, not assertions: see docs/BENCHMARKS.md for what was measured on this machine.
"""
import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def tree_rss_mb(root_pid: int) -> float:
    """Resident memory of a process and all its descendants, from /proc (no psutil needed)."""
    total = 0
    for pid in tree_pids(root_pid):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def taskmanager_pids() -> list[int]:
    """Standalone TaskManagers on this machine (their memory is the job's when it runs on the cluster)."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and b"TaskManagerRunner" in (entry / "cmdline").read_bytes():
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def tree_pids(root_pid: int) -> list[int]:
    """A process and all its descendants (from each process's parent in /proc/<pid>/stat)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    pids, todo = [], [root_pid]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo.extend(children.get(pid, []))
    return pids


def thread_cpu(pids: list[int]) -> dict[tuple[int, int], tuple[str, float]]:
    """(pid, tid) → (thread name, CPU seconds so far), from /proc: Flink names its task threads after operators."""
    ticks = os.sysconf("SC_CLK_TCK")
    found = {}
    for pid in pids:
        try:
            tasks = list(Path(f"/proc/{pid}/task").iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                stat = (task / "stat").read_text()
                name = stat[stat.index("(") + 1:stat.rindex(")")]
                fields = stat.rsplit(")", 1)[1].split()
                found[(pid, int(task.name))] = (name, (int(fields[11]) + int(fields[12])) / ticks)
            except (OSError, ValueError, IndexError):
                continue
    return found


class PeakMemory(threading.Thread):
    """Peak RSS of this process tree, plus the TaskManagers when the job runs on a cluster; and the CPU each
    thread used (the per-operator split)."""

    def __init__(self, pid: int, with_taskmanagers: bool = False):
        super().__init__(daemon=True)
        self.pid, self.peak, self.running = pid, 0.0, True
        self.with_taskmanagers = with_taskmanagers
        self.threads: dict[tuple[int, int], tuple[str, float]] = {}
        self.baseline: dict[tuple[int, int], float] = {}

    def run(self) -> None:
        first = True
        while self.running:
            roots = [self.pid] + (taskmanager_pids() if self.with_taskmanagers else [])
            self.peak = max(self.peak, sum(tree_rss_mb(pid) for pid in roots))
            sample = thread_cpu([pid for root in roots for pid in tree_pids(root)])
            if first:  # long-lived TaskManagers: count only what this run used
                self.baseline = {key: cpu for key, (_, cpu) in sample.items()}
                first = False
            self.threads.update(sample)
            time.sleep(0.5)

    def cpu_split(self, top: int = 12) -> str:
        by_name: dict[str, float] = {}
        for key, (name, cpu) in self.threads.items():
            name = name.split(" (")[0].rstrip("#0123456789/ ")  # subtasks of one operator together
            if key[0] == self.pid:  # this process: the sampler's own /proc reads (≈ 2 % of a core), not the job
                name = "bench sampler"
            by_name[name] = by_name.get(name, 0.0) + cpu - self.baseline.get(key, 0.0)
        ranked = sorted(((cpu, name) for name, cpu in by_name.items() if cpu >= 0.5), reverse=True)[:top]
        return ", ".join(f"{name} {cpu:.1f}s" for cpu, name in ranked)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--target", default="local")
    parser.add_argument("--db", default=os.environ.get("DATABASE_URL"),
                        help="database URL (default: $DATABASE_URL, else a fresh SQLite file in the work dir, said so)")
    parser.add_argument("--work", default=None, help="work directory (default: a temp dir)")
    parser.add_argument("--parse-only", action="store_true", help="also run the job with parsing only (sources + Python parse)")
    parser.add_argument("--skip-sql-ceiling", action="store_true")
    parser.add_argument("--engine", default=None, help="session engine: python | jvm (default: LUNA_SESSION_ENGINE, else python)")
    parser.add_argument("--hold-watermark", action="store_true",
                        help="let the backfill hold event time until its end (default: streaming watermarks, like a live job)")
    parser.add_argument("--freshness", action="store_true",
                        help="then run bench/freshness.py (live job, file written → row visible, p50/p95) and print its figures")
    args = parser.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="luna-bench-"))
    os.environ["LUNA_VAR_DIR"] = str(work / "var")
    os.environ["LUNA_DATA_DIR"] = str(work / "data")
    if not args.db:
        print("no --db and no DATABASE_URL: writing to a fresh SQLite file (figures not comparable to MariaDB's)")
    os.environ["DATABASE_URL"] = args.db or f"sqlite:///{work / 'bench.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "luna.settings")
    if args.engine:
        os.environ["LUNA_SESSION_ENGINE"] = args.engine
    # A throughput run streams with watermarks like a live job; holding event time (LUNA_DETERMINISTIC_BACKFILL_MAX_MB)
    # would keep all 1 M events in state until the end and measure a different job.
    os.environ["LUNA_DETERMINISTIC_BACKFILL_MAX_MB"] = "100000" if args.hold_watermark else "0"
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from sessions.models import Session, TemplateVersion
    from operations.services import launch as jobs

    call_command("migrate", verbosity=0)
    if not (work / "data" / "mobile-pay" / "expected.jsonl").exists():
        call_command("demo_data", orders=args.orders, seed=1, days=max(1.0, args.orders / 20_000))
    version = TemplateVersion.objects.get(template__name="mobile-pay")
    lines = sum(sum(1 for _ in p.open()) for p in (work / "data" / "mobile-pay").glob("*/*.jsonl"))

    def timed_run(parse_only: bool) -> tuple[float, "PeakMemory", object]:
        original = jobs.job_config

        def config(v, bounded):
            c = original(v, bounded)
            c.extra["parse_only"] = parse_only
            return c
        jobs.job_config = config
        sampler = PeakMemory(os.getpid(), with_taskmanagers=args.target != "local")
        sampler.start()
        started = time.perf_counter()
        try:
            run = jobs.run_job(version, bounded=True, target=args.target)
        finally:
            jobs.job_config = original
            sampler.running = False
        return time.perf_counter() - started, sampler, run

    manifest = [json.loads(line) for line in (work / "data" / "mobile-pay" / "expected.jsonl").open()]
    planned = sum(row.get("sessions", 0) for row in manifest if "order_id" in row)
    print(f"input: {args.orders:,} orders, {lines:,} lines, target {args.target}, db {os.environ['DATABASE_URL'].split('@')[-1]}")
    since_ms = int(time.time() * 1000)
    parallelism = jobs.job_config(version, bounded=True).parallelism  # the job's own: the SQL ceiling runs at it too
    wall, sampler, run = timed_run(parse_only=False)
    sessions = Session.objects.filter(template=version.template, updated_ms__gte=since_ms).count()  # written by this run
    print(f"end to end : {wall:7.1f} s  {lines / wall:9,.0f} events/s  {sessions / wall:8,.0f} sessions/s  "
          f"peak RSS {sampler.peak:,.0f} MB  ({sessions:,} sessions written, {planned:,} planned; run {run.state}, engine {settings.LUNA_SESSION_ENGINE}, p = {parallelism})")
    print(f"  CPU by thread: {sampler.cpu_split()}")
    if not args.skip_sql_ceiling:
        sql_wall, sql_sampler = sql_ceiling(version.document, work / "data", args.target, parallelism)
        print(f"sql ceiling: {sql_wall:7.1f} s  {lines / sql_wall:9,.0f} events/s  peak RSS {sql_sampler.peak:,.0f} MB  "
              f"(SQL parse + interval join + SESSION window → blackhole at p = {parallelism}, bench/sql_ceiling.py)")
        print(f"  CPU by thread: {sql_sampler.cpu_split()}")
        print(f"ratio end-to-end / SQL ceiling: {sql_wall / wall:.2f}")
    if args.parse_only:
        p_wall, p_sampler, p_run = timed_run(parse_only=True)
        print(f"parse only : {p_wall:7.1f} s  {lines / p_wall:9,.0f} events/s  peak RSS {p_sampler.peak:,.0f} MB  (run {p_run.state})")
        print(f"  CPU by thread: {p_sampler.cpu_split()}")
    print("wall time includes the job's fixed start-up (≈10 s: JVM, planning, mini-cluster)")
    if args.freshness:
        print_freshness(args.db)


def sql_ceiling(document: dict, data_dir: Path, target: str, parallelism: int) -> tuple[float, PeakMemory]:
    """bench/sql_ceiling.py in its own process, on the same target and files; its own wall time (set-up excluded)."""
    import subprocess

    template = data_dir.parent / "ceiling-template.json"
    template.write_text(json.dumps(document))
    sampler = PeakMemory(os.getpid(), with_taskmanagers=target != "local")
    sampler.start()
    try:
        result = subprocess.run([sys.executable, str(ROOT / "bench" / "sql_ceiling.py"), str(template), str(data_dir), "--target", target,
                                 "--parallelism", str(parallelism)],
                                capture_output=True, text=True)
    finally:
        sampler.running = False
    figures = [line for line in result.stdout.splitlines() if line.startswith("sql ceiling:")]
    if not figures:
        raise SystemExit(f"sql ceiling failed:\n{result.stdout[-2000:]}{result.stderr[-3000:]}")
    return float(figures[0].split()[2]), sampler


def print_freshness(db: str | None) -> None:
    """The live side of the benchmark, in its own process (its own job, work dir and database)."""
    import subprocess

    command = [sys.executable, str(ROOT / "bench" / "freshness.py")] + (["--db", db] if db else [])
    result = subprocess.run(command, capture_output=True, text=True)
    figures = [line for line in result.stdout.splitlines() if "p50" in line or line.startswith("settings")]
    if figures:
        print("freshness  :", *figures, sep="\n  ")
    else:
        print(f"freshness failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")


if __name__ == "__main__":
    main()

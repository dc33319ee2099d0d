"""Studio responsiveness: the dry run (lines/s through the pure engine) and the expression check (ms per call,
which includes a small dry run for the values on the sample sessions), over the demo logs.

    .venv/bin/python bench/studio.py [--orders 2000] [--lines 2000] [--flink]

Writes a demo backlog into a temp data dir (no database needed). Figures, not assertions. --flink also runs the
whole-backlog backtest through the bounded Flink path (a local mini-cluster per version, scratch SQLite), next to
the pure engine, with wall and CPU time (the job's CPU is the children's).
"""
import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--lines", type=int, default=2000, help="dry-run lines per source")
    parser.add_argument("--flink", action="store_true", help="also the bounded Flink backtest of the whole backlog")
    args = parser.parse_args()
    data = tempfile.mkdtemp(prefix="luna-bench-studio-")
    os.environ.update(LUNA_DATA_DIR=data, LUNA_VAR_DIR=f"{data}/var", DATABASE_URL=f"sqlite:///{data}/unused.sqlite3",
                      DJANGO_SETTINGS_MODULE="luna.settings")
    import django

    django.setup()
    from sessions.services.demo_data.files import write_backlog
    from studio.services import backtest, checks, dry_run

    document = json.loads((ROOT / "sessions/demo/mobile-pay.json").read_text())
    now = int(time.time() * 1000)
    write_backlog(document, data, orders=args.orders, seed=5, start_ms=now - 6 * 3_600_000, end_ms=now)
    for lines in (500, args.lines):
        began = time.perf_counter()
        run = dry_run.run(document, lines_per_source=lines, seconds=60)
        took = time.perf_counter() - began
        print(f"dry run, {lines} lines/source: {run.lines} lines, {len(run.sessions)} sessions in {took*1000:.0f} ms "
              f"({run.lines / took:,.0f} lines/s incl. reading)")
    timings = []
    for _ in range(5):
        began = time.perf_counter()
        checks.check(document, "conclusion", "has(delivery) && delivery.count > 1")
        timings.append((time.perf_counter() - began) * 1000)
    print(f"expression check with sample values: median {statistics.median(timings):.0f} ms, max {max(timings):.0f} ms")
    began, cpu = time.perf_counter(), time.process_time()
    result = backtest.compare(document, document, 0, 2**62)
    took, cpu = time.perf_counter() - began, time.process_time() - cpu
    print(f"backtest of the whole backlog, pure engine ({result['lines']} lines, both versions): {took:.1f} s wall, "
          f"{cpu:.1f} s CPU ({2 * result['lines'] / took:,.0f} lines/s)")
    if args.flink:
        began, cpu = time.perf_counter(), time.process_time()
        before, after, lines = backtest.sides_flink(1, document, document, 1, 0, 2**62, lambda: False, lambda phase, n: None)
        took, cpu = time.perf_counter() - began, time.process_time() - cpu
        same = backtest.diff(before, after, lines)
        print(f"backtest of the whole backlog, bounded Flink job per version ({lines} lines, {len(before)} sessions, "
              f"{len(same['changed'])} changed): {took:.1f} s wall ({2 * lines / took:,.0f} lines/s), {cpu:.1f} s CPU in "
              f"the worker (copying the range, reading back; the jobs' JVMs are separate processes)")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")

if __name__ == "__main__":
    main()

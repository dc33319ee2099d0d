"""Cost of the sink alone: revisions → rows committed in MariaDB/MySQL (client CPU and wall per revision).

    .venv/bin/python bench/sink.py DATA_DIR --db mysql://luna:luna@127.0.0.1:3306/luna_sink_bench [--lines 60000]

Makes the revisions with the pure engine from demo files read the way the job reads them (each source in file order,
the sources interleaved in chunks, so supplements arrive after their session fired: 1.5–2.6 revisions a session,
as measured in the job), then writes them through the job's own `SessionWriter` in batches of `--batch` (the job's
flush size) into a fresh schema (`migrate`), and prints revisions, rows written per revision (the server's
Handler_write + Handler_delete), client CPU µs per revision and wall. No Flink: the sink's own cost, whatever the job.
"""
import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def interleaved(template, data_dir: Path, chunk: int) -> list[tuple[str, str]]:
    streams = []
    for source in template.sources.values():
        lines = [line for path in sorted((data_dir / source.location).glob("*.jsonl")) for line in path.open()]
        streams.append((source.name, lines))
    items, offset = [], 0
    while any(offset < len(lines) for _, lines in streams):
        for name, lines in streams:
            items += [(name, line) for line in lines[offset:offset + chunk]]
        offset += chunk
    return items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data_dir")
    parser.add_argument("--db", required=True, help="a MySQL-compatible database URL (its tables are created)")
    parser.add_argument("--lines", type=int, default=60_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--chunk", type=int, default=2000, help="lines read from one source before the next")
    parser.add_argument("--wait-each", action="store_true", help="wait for each write's answer (no pipelined writes)")
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = args.db
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "luna.settings")
    import django

    django.setup()
    import json

    from django.core.management import call_command

    from jobs.sessionize.logic.engine import Correlator
    from jobs.sessionize.logic.template import compile_template
    from jobs.sessionize.sink.dialects import connect
    from jobs.sessionize.sink.writer import SessionWriter

    call_command("migrate", verbosity=0)
    template = compile_template(json.loads((ROOT / "sessions" / "demo" / "mobile-pay.json").read_text()))
    corr = Correlator(template, keep_emissions=True)
    corr.feed_lines(interleaved(template, Path(args.data_dir), args.chunk)[: args.lines])
    corr.finish()
    revisions = corr.emissions
    dialect, factory = connect(args.db)
    writer = SessionWriter(900_001, dialect, factory, pipelined=not args.wait_each)
    conn = factory()
    cur = conn.cursor()

    def handler_rows() -> int:
        cur.execute("SHOW SESSION STATUS WHERE Variable_name IN ('Handler_write', 'Handler_delete')")
        return sum(int(v) for _, v in cur.fetchall())

    cur.execute("SHOW GLOBAL STATUS WHERE Variable_name IN ('Handler_write', 'Handler_delete')")
    before_rows = sum(int(v) for _, v in cur.fetchall())
    cpu, wall = time.process_time(), time.perf_counter()
    for start in range(0, len(revisions), args.batch):
        writer.write(revisions[start:start + args.batch])
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    cur.execute("SHOW GLOBAL STATUS WHERE Variable_name IN ('Handler_write', 'Handler_delete')")
    rows = sum(int(v) for _, v in cur.fetchall()) - before_rows  # global: the whole server, so run it alone
    sessions = len({r.document["uid"] for r in revisions})
    print(f"{len(revisions):,} revisions of {sessions:,} sessions ({len(revisions) / sessions:.2f} a session), batches of {args.batch}, {'writes waited for one by one' if args.wait_each else 'writes pipelined'}")
    print(f"sink: {cpu / len(revisions) * 1e6:,.0f} µs client CPU a revision, wall {wall:.1f} s "
          f"({len(revisions) / wall:,.0f} revisions/s), ≈{rows / len(revisions):.1f} rows written or deleted a revision "
          f"(server handler counts, whole server)")
    writer.close()
    conn.close()


if __name__ == "__main__":
    main()

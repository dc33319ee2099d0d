"""The store's own ceiling: the sink's exact statements replayed with no Python in the loop (issue 13).

    # 1. record what the sink sends in a real run (one file per sink connection):
    LUNA_SINK_TRACE_DIR=/abs/trace .venv/bin/python bench/throughput.py --orders 170000 --engine jvm --db URL --work DIR
    # 2. or the lower bound, every session written once (the pure engine's final sessions, through the job's writer):
    .venv/bin/python bench/store_floor.py once DIR/data --db SCRATCH_URL --trace-dir /abs/once
    # 3. replay a trace into a fresh database with the schema (and the non-sink rows) of SOURCE_URL, and print figures:
    .venv/bin/python bench/store_floor.py replay /abs/trace/sink-*.sql --source-db URL --fresh-db NAME --events 1015683

The trace (`jobs/sessionize/sink/trace.py`) is every statement after binding, in order, with its COMMITs. The replay
pipes it through the `mysql` client (one connection, as the p = 1 job's sink has), then asks the same session for its
handler counts, and reads the server's CPU from /proc before and after: the whole mysqld process (background
flushing and purge included, but also anybody else's queries: say what load ran beside it) and the replay's own
connection thread (that thread's parse and execution alone). Figures, not assertions; docs/BENCHMARKS.md has them.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
KIND = re.compile(rb"^(?:(SELECT) [^']*? FROM (\w+)|(INSERT IGNORE INTO|INSERT INTO|UPDATE|DELETE FROM) (\w+))")
WRITES = re.compile(rb"^(?:INSERT(?: IGNORE)? INTO|UPDATE|DELETE FROM) (\w+)")
DONE = "store-floor-replay-done"


def mysqld_pid() -> int:
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().strip() in ("mariadbd", "mysqld"):
                return int(entry.name)
        except OSError:
            continue
    raise SystemExit("no mariadbd/mysqld process on this machine: the server's CPU cannot be read")


def cpu_seconds(stat_path: Path) -> float:
    fields = stat_path.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def threads(pid: int) -> dict[int, float]:
    found = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found[int(task.name)] = cpu_seconds(task / "stat")
        except OSError:
            continue
    return found


def client_args(url: str, database: str) -> list[str]:
    u = urlparse(url)
    return ["mysql", f"-h{u.hostname or '127.0.0.1'}", f"-P{u.port or 3306}", f"-u{unquote(u.username or 'root')}",
            f"-p{unquote(u.password or '')}", "--default-character-set=utf8mb4", "--max-allowed-packet=1G", "--unbuffered", "-N", "-B", database]


def sql(url: str, database: str, statement: str) -> str:
    return subprocess.run(client_args(url, database) + ["-e", statement], check=True, capture_output=True, text=True).stdout


def fresh_copy(source_url: str, fresh: str, sink_tables: set[str]) -> None:
    """A new database with the source's schema (auto-increment counters reset) and the rows of every table the trace
    does not write (templates, users...), so the replayed statements meet what the job's met."""
    source = urlparse(source_url).path.lstrip("/")
    u = urlparse(source_url)
    dump = subprocess.run(["mysqldump", f"-h{u.hostname or '127.0.0.1'}", f"-P{u.port or 3306}", f"-u{unquote(u.username)}",
                           f"-p{unquote(u.password or '')}", "--no-data", "--skip-comments", source],
                          check=True, capture_output=True, text=True).stdout
    dump = re.sub(r" AUTO_INCREMENT=\d+", "", dump)
    sql(source_url, "", f"DROP DATABASE IF EXISTS `{fresh}`; CREATE DATABASE `{fresh}` CHARACTER SET utf8mb4")
    subprocess.run(client_args(source_url, fresh), input=dump, check=True, text=True, capture_output=True)
    tables = sql(source_url, source, "SHOW TABLES").split()
    copies = [f"INSERT INTO `{fresh}`.`{t}` SELECT * FROM `{source}`.`{t}`" for t in tables if t not in sink_tables]
    sql(source_url, fresh, "SET foreign_key_checks = 0; " + "; ".join(copies))


def replay(args: argparse.Namespace) -> None:
    traces = [Path(p) for p in args.traces]
    statements, commits, sink_tables = 0, 0, set()
    for path in traces:
        with path.open("rb") as f:
            for line in f:
                statements += 1
                commits += line.startswith(b"COMMIT;")
                match = WRITES.match(line)
                if match:
                    sink_tables.add(match.group(1).decode())
    fresh_copy(args.source_db, args.fresh_db, sink_tables)
    if args.by_statement:
        return by_statement(args, traces)
    pid = mysqld_pid()
    load_before = os.getloadavg()
    before_threads, before_total = threads(pid), cpu_seconds(Path(f"/proc/{pid}/stat"))
    started = time.perf_counter()
    client = subprocess.Popen(client_args(args.source_db, args.fresh_db), stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    output, done = [], threading.Event()

    def drain() -> None:  # the SELECTs' answers, read as they come (a full pipe would stop the client)
        for line in client.stdout:
            if line.strip() == DONE.encode():
                done.set()
            elif done.is_set():
                output.append(line.decode())
        done.set()
    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    for path in traces:
        with path.open("rb") as f:
            while chunk := f.read(1 << 20):
                client.stdin.write(chunk)
    client.stdin.write(f"SELECT '{DONE}';\n".encode())
    client.stdin.flush()
    done.wait()  # every statement ran: read the connection thread while it still exists
    wall = time.perf_counter() - started
    after_threads, after_total = threads(pid), cpu_seconds(Path(f"/proc/{pid}/stat"))
    client.stdin.write(b"SHOW SESSION STATUS WHERE Variable_name IN ('Handler_write', 'Handler_update', 'Handler_delete');\n")
    client.stdin.close()
    reader.join()
    handler = {name: int(value) for name, value in (line.split() for line in output)}
    _, status, usage = os.wait4(client.pid, 0)
    if status:
        raise SystemExit(f"the mysql client failed (status {status}): a statement of the trace was refused")
    load_after = os.getloadavg()
    # the replay's connection thread is the busiest one (the server may reuse a cached thread for it)
    connection_cpu = max(cpu - before_threads.get(tid, 0.0) for tid, cpu in after_threads.items())
    server_cpu = after_total - before_total
    counts = sql(args.source_db, args.fresh_db, "SELECT (SELECT COUNT(*) FROM luna_session), (SELECT COUNT(*) FROM luna_session_revision)").split()
    sessions, revisions = int(counts[0]), int(counts[1])
    rows = sum(handler.values())
    events = args.events
    print(f"trace: {', '.join(p.name for p in traces)} → {args.fresh_db}")
    print(f"  {statements:,} statements, {commits:,} transactions, {rows:,} rows written/updated/deleted "
          f"({handler}); {sessions:,} sessions, {revisions:,} revisions written ({revisions / max(sessions, 1):.2f} a session)")
    print(f"  wall {wall:.1f} s (one connection, the mysql client; its CPU {usage.ru_utime + usage.ru_stime:.1f} s); "
          f"mysqld CPU {server_cpu:.1f} s in all ({server_cpu / wall:.0%} of a core), its connection thread {connection_cpu:.1f} s; "
          f"load {load_before[0]:.1f} → {load_after[0]:.1f}")
    print(f"  per written revision: {rows / revisions:.1f} rows, {server_cpu / revisions * 1e6:,.0f} µs mysqld CPU "
          f"({connection_cpu / revisions * 1e6:,.0f} µs in the connection thread)")
    if events:
        print(f"  per event ({events:,}): {server_cpu / events * 1e6:,.1f} µs mysqld CPU; the database alone absorbs "
              f"{events / wall:,.0f} events/s on this one connection, {events / server_cpu:,.0f} events/s a core of mysqld CPU, "
              f"≤ {2 * events / server_cpu:,.0f} events/s with both cores its own")


def statement_kind(line: bytes) -> str:
    """A statement's verb and table: what the breakdown groups by."""
    match = KIND.match(line)
    if not match:
        return line.split(b" ", 1)[0].rstrip(b";").decode()
    verb, table = (match.group(1) or match.group(3)).decode(), (match.group(2) or match.group(4)).decode()
    return f"{verb} {table}" + (" (upsert)" if b"ON DUPLICATE KEY UPDATE" in line else "")


def schedstat(pid: int, tid: int) -> float:
    """A thread's CPU time in seconds, nanosecond-exact (utime/stime tick at 10 ms, too coarse a statement)."""
    return int(Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()[0]) / 1e9


def by_statement(args: argparse.Namespace, traces: list[Path]) -> None:
    """Each statement through PyMySQL, timed: wall as the client saw it and the server's connection thread CPU
    (schedstat), grouped by verb and table. Python is in the loop here (it reads the SELECTs' answers), so the
    totals are a little higher than the plain replay's; the shares are what this mode is for."""
    import pymysql

    u = urlparse(args.source_db)
    conn = pymysql.connect(host=u.hostname, port=u.port or 3306, user=unquote(u.username), password=unquote(u.password or ""),
                           database=args.fresh_db, charset="utf8mb4", autocommit=False)
    pid = mysqld_pid()
    before = {tid: schedstat(pid, tid) for tid in threads(pid)}
    conn.query("SELECT BENCHMARK(3000000, MD5('which thread am I'))")  # the busiest thread now is this connection's
    tid = max(threads(pid), key=lambda t: schedstat(pid, t) - before.get(t, 0.0))
    groups: dict[str, list[float]] = {}
    total = cpu_seconds(Path(f"/proc/{pid}/stat"))
    for path in traces:
        with path.open("rb") as f:
            for line in f:
                statement = line.rstrip(b"\n").removesuffix(b";")
                cpu, wall = schedstat(pid, tid), time.perf_counter()
                rows = conn.query(statement)
                wall, cpu = time.perf_counter() - wall, schedstat(pid, tid) - cpu
                group = groups.setdefault(statement_kind(statement), [0, 0, 0.0, 0.0])
                group[0] += 1
                group[1] += rows or 0
                group[2] += wall
                group[3] += cpu
    total = cpu_seconds(Path(f"/proc/{pid}/stat")) - total
    conn.close()
    thread_cpu = sum(g[3] for g in groups.values())
    print(f"by statement ({sum(g[0] for g in groups.values()):,} statements): mysqld CPU {total:.1f} s in all, "
          f"{thread_cpu:.1f} s in the connection thread, wall {sum(g[2] for g in groups.values()):.1f} s")
    print(f"  {'statement':<58} {'count':>7} {'rows':>10} {'wall s':>8} {'CPU s':>7} {'share':>6}")
    for kind, (count, rows, wall, cpu) in sorted(groups.items(), key=lambda item: -item[1][3]):
        print(f"  {kind:<58} {count:>7,} {rows:>10,} {wall:>8.1f} {cpu:>7.1f} {cpu / thread_cpu:>6.0%}")


def once(args: argparse.Namespace) -> None:
    """The lower bound's trace: each session's final state written once, through the job's own writer (traced)."""
    import json

    os.environ["DATABASE_URL"] = args.db
    os.environ["LUNA_SINK_TRACE_DIR"] = args.trace_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "luna.settings")
    scratch = tempfile.mkdtemp(prefix="luna-floor-")  # demo_data writes a tiny data set of its own there
    os.environ["LUNA_VAR_DIR"], os.environ["LUNA_DATA_DIR"] = f"{scratch}/var", f"{scratch}/data"
    import django

    django.setup()
    from django.core.management import call_command

    from jobs.sessionize.logic.engine import Correlator
    from jobs.sessionize.logic.records import Event, parse_line
    from jobs.sessionize.logic.sessions import Emission
    from jobs.sessionize.logic.template import compile_template
    from jobs.sessionize.sink.dialects import connect
    from jobs.sessionize.sink.writer import SessionWriter
    from sessions.models import TemplateVersion

    call_command("migrate", verbosity=0)
    call_command("demo_data", orders=1, seed=1, days=1.0)  # the demo template's rows (the job's template id)
    version = TemplateVersion.objects.get(template__name="mobile-pay")
    template = compile_template(json.loads((ROOT / "sessions" / "demo" / "mobile-pay.json").read_text()))
    started = time.perf_counter()
    events = []  # in event-time order, so nothing is late: every planned session, in its final state
    for source in template.sources.values():
        for path in sorted((Path(args.data_dir) / source.location).glob("*.jsonl")):
            with path.open() as lines:
                events += [e for e in (parse_line(template, source.name, line) for line in lines) if isinstance(e, Event)]
    events.sort(key=lambda e: e.ts)
    corr = Correlator(template)
    for event in events:
        corr.add_event(event)
        corr.advance(max(corr.max_ts, event.ts))
    corr.finish()
    finals = [Emission(s.revision, s.document, [], "close") for s in corr.store.values()]
    print(f"pure engine: {len(finals):,} sessions in {time.perf_counter() - started:.0f} s")
    dialect, factory = connect(args.db)
    writer = SessionWriter(version.template_id, dialect, factory)
    for start in range(0, len(finals), args.batch):
        writer.write(finals[start:start + args.batch])
    writer.close()
    print(f"wrote {writer.stats.sessions_written:,} sessions once, in batches of {args.batch}; trace in {args.trace_dir}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    r = commands.add_parser("replay", help="replay traces into a fresh database and print the server's cost")
    r.add_argument("traces", nargs="+")
    r.add_argument("--source-db", required=True, help="the database the trace was recorded into (schema and non-sink rows)")
    r.add_argument("--fresh-db", required=True, help="name of the database to (re)create for the replay")
    r.add_argument("--events", type=int, default=0, help="input lines of the run the trace came from")
    r.add_argument("--by-statement", action="store_true", help="time each statement (PyMySQL), grouped by verb and table")
    o = commands.add_parser("once", help="a trace writing each session's final state once")
    o.add_argument("data_dir")
    o.add_argument("--db", required=True, help="a scratch database URL (migrated; the trace is recorded writing into it)")
    o.add_argument("--trace-dir", required=True)
    o.add_argument("--batch", type=int, default=1000, help="sessions a transaction")
    args = parser.parse_args()
    replay(args) if args.command == "replay" else once(args)


if __name__ == "__main__":
    main()

"""Search latency: first page + count of each kind of search, and CSV export rows/s, over synthetic sessions.

    .venv/bin/python bench/search.py --sessions 100000 [--db mysql://luna:luna@127.0.0.1:3306/luna_bench]

Seeds the demo template and N sessions shaped like the sink writes them (fields, nodes, conclusions) into a
fresh database (default: a SQLite file in a temp dir; with a MySQL/TiDB URL the database is emptied first and
LUNA_SECRET_KEY must be set), then times each search through the same FilterSet and keyset window the page and the API use (`--reuse` keeps
what an earlier run loaded, e.g. bench/search_http.py's 1 M sessions).
Figures, not assertions: see docs/BENCHMARKS.md.
"""
import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SEARCHES = {
    "newest first (no filter)": {},
    "key exact": {"key": "ORD-0012345"},
    "key prefix ORD-00123*": {"key": "ORD-00123*"},
    "q box: a trans_id": {"q": "TX-0012345"},
    "q box: conclusion label": {"q": "Paid but not delivered"},
    "conclusion (code)": {"conclusion": "lost_order"},
    "severity critical": {"severity": "critical"},
    "field channel = alipay": {"field": "channel", "value": "alipay"},
    "where amount_value > 600": {"where": "amount_value > 600"},
    "where 2 conditions": {"where": "amount_value > 300\nchannel = wechat"},
    "missing node delivery": {"missing": "delivery"},
    "sort by duration": {"ordering": "-duration"},
}


def seed(template, count: int, batch: int = 5000) -> None:
    """Synthetic sessions as the sink writes them, inserted with plain multi-row INSERTs (no model instances):
    ~12 rows a session, so 1 M sessions is ~12 M rows. On MariaDB the server generates them (bench.search_load)."""
    from django.db import connection, transaction

    if connection.vendor == "mysql" and connection.mysql_is_mariadb:
        from bench.search_load import seed_on_server

        return seed_on_server(template, count)

    rng = random.Random(1)
    channels, regions = ["alipay", "wechat", "card", "paypal", "carrier"], ["eu", "us", "cn", "jp"]
    labels = {"lost_order": ("Paid but not delivered", "high"), "duplicate_delivery": ("Delivered more than once", "critical"),
              "delivered": ("Paid and delivered", "info")}
    t0, tid = 1_714_550_400_000, template.pk
    span_ms = 90 * 86_400_000  # spread over 90 days
    sql = {
        "luna_session": "INSERT INTO luna_session (id, template_id, session_key, start_ms, end_ms, duration_ms, status, revision, "
                        "completeness, primary_conclusion, split, updated_ms) VALUES ({})",
        "luna_session_field": "INSERT INTO luna_session_field (session_id, template_id, name, str_value, num_value, node) VALUES ({})",
        "luna_session_node": "INSERT INTO luna_session_node (session_id, node, seq, source, event_ms, supplement, event_uid, raw) VALUES ({})",
        "luna_session_conclusion": "INSERT INTO luna_session_conclusion (session_id, template_id, name, label, severity, start_ms) VALUES ({})",
    }
    mark = "?" if connection.vendor == "sqlite" else "%s"
    for start in range(0, count, batch):
        rows: dict[str, list[tuple]] = {table: [] for table in sql}
        for i in range(start, min(start + batch, count)):
            begin = t0 + (i * span_ms) // max(count, 1)
            lost, dup = rng.random() < 0.05, rng.random() < 0.02
            conclusion = "lost_order" if lost else "duplicate_delivery" if dup else "delivered"
            duration = rng.randint(1_000, 600_000)
            rows["luna_session"].append((i + 1, tid, f"ORD-{i:07d}", begin, begin + duration, duration, "complete", 1, 1.0,
                                         conclusion, 0, begin))
            values = {"order_id": f"ORD-{i:07d}", "trans_id": f"TX-{i:07d}", "user_id": f"U-{rng.randint(0, count // 20):06d}",
                      "channel": rng.choice(channels), "region": rng.choice(regions), "amount_value": round(rng.uniform(1, 1000), 2)}
            rows["luna_session_field"] += [(i + 1, tid, name, None if isinstance(v, float) else v, v if isinstance(v, float) else None, "order")
                                           for name, v in values.items()]
            for node in ["order", "pay_page", "voucher", "verified"] + ([] if lost else ["delivery"]):
                rows["luna_session_node"].append((i + 1, node, 0, "billing", begin, 0, f"{i}-{node}", "{}"))
            label, severity = labels[conclusion]
            rows["luna_session_conclusion"].append((i + 1, tid, conclusion, label, severity, begin))
        with transaction.atomic(), connection.cursor() as cursor:
            for table, statement in sql.items():
                width = len(rows[table][0])
                cursor.executemany(statement.format(", ".join([mark] * width)), rows[table])


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    pick = lambda fraction: ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]  # noqa: E731
    return statistics.median(ordered), pick(0.95), pick(0.99)


class StatementClock:
    """Django execute wrapper: the time spent inside the driver's execute (the statement's round trip, the server's
    work and PyMySQL reading the rows), summed per request: the SQL level, apart from the Python around it."""

    def __init__(self):
        self.elapsed = 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.elapsed += time.perf_counter() - started


def handler_reads() -> int:
    """Rows the server read for this connection so far (MariaDB/MySQL Handler_read_* counters): rows examined."""
    from django.db import connection

    if connection.vendor != "mysql":
        return 0
    with connection.cursor() as cursor:
        cursor.execute("SHOW SESSION STATUS LIKE 'Handler_read%%'")
        return sum(int(value) for _, value in cursor.fetchall())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--db", default=None, help="DATABASE_URL (default: a fresh SQLite file)")
    parser.add_argument("--reuse", action="store_true", help="keep the sessions an earlier run loaded")
    parser.add_argument("--repeat", type=int, default=30, help="timed runs per search (one client)")
    parser.add_argument("--only", default="", help="time only the searches whose name contains this (e.g. 'q box')")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="luna-bench-search-"))
    os.environ["LUNA_VAR_DIR"] = str(work / "var")
    os.environ["DATABASE_URL"] = args.db or f"sqlite:///{work / 'bench.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "luna.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from luna.warmup import warm_up_and_freeze

    from bench.gc_watch import Collections
    from bench.search_http import SHAPES, deep_cursor
    from sessions.filters import SessionFilterSet
    from sessions.models import Session
    from sessions.services import export, paging, search
    from sessions.services.counting import bounded_count
    from sessions.services.templates import save_template_version
    from tests.factories import DEMO_PATH

    import json

    call_command("migrate", verbosity=0)
    if not (args.reuse and Session.objects.count() >= args.sessions):
        call_command("flush", interactive=False, verbosity=0) if args.db else None
        template = save_template_version(json.loads(DEMO_PATH.read_text())).template
        started = time.perf_counter()
        seed(template, args.sessions)
        print(f"seeded {args.sessions:,} sessions (6 fields, ≤5 nodes, 1 conclusion each, over 90 days) in "
              f"{time.perf_counter() - started:.1f} s on {django.db.connection.vendor}")
    print(f"{Session.objects.count():,} sessions on {django.db.connection.vendor}; one client, {args.repeat} runs each; "
          f"load average {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    print(f"froze {warm_up_and_freeze():,} start-up objects out of the cyclic GC, as each gunicorn worker does")
    clock, collections = StatementClock(), Collections()
    timed_runs = timed_full = 0  # collections while timing, and of them full ones
    print("first = a search's first request (untimed warm-up); req = the whole window as the API reads it: ids on the index (LIMIT 51), their rows, the bounded count when due; "
          "sql = the statements alone (driver execute + fetch, summed a request); gc2 = full collections while timing it; count = that count alone (none when the first page holds every match; carried by the cursor after); rows read = Handler_read_*")
    print(f"{'search':40} {'first':>7} {'req p50':>9} {'p95':>7} {'p99':>7} {'sql p50':>8} {'p95':>6} {'p99':>6} {'cpu':>6} {'gc2':>4} {'count ms':>9} {'count':>16} {'rows read':>10}")
    for name, params in {**SEARCHES, **SHAPES}.items():
        if args.only not in name:
            continue
        params = deep_cursor(params)
        query = {key: value for key, value in params.items() if key != "cursor"}

        def page():
            return paging.window(SessionFilterSet(query, queryset=search.search_queryset()).qs, params.get("cursor"))

        started = time.perf_counter()
        page()  # the first request of a search: compiles, remembers its count, reads cold pages (shown, not in the p's)
        first = (time.perf_counter() - started) * 1000

        samples, statements, cpu = [], [], 0.0
        collections.take()
        with connection.execute_wrapper(clock):
            for _ in range(args.repeat):
                clock.elapsed = 0.0
                started, cpu_started = time.perf_counter(), time.process_time()
                window = page()
                samples.append((time.perf_counter() - started) * 1000)
                cpu += time.process_time() - cpu_started
                statements.append(clock.elapsed * 1000)
        timed_collections = collections.take()
        timed_runs, timed_full = timed_runs + sum(timed_collections), timed_full + timed_collections[2]
        before = handler_reads()
        window = page()
        examined = format(handler_reads() - before - 1, ",") if before else "-"  # the SHOW itself reads a row
        qs = SessionFilterSet(query, queryset=search.search_queryset()).qs
        started = time.perf_counter()
        bounded_count(qs, seen=len(window.rows)) if "cursor" not in params else None
        count_ms = (time.perf_counter() - started) * 1000 if "cursor" not in params else 0.0
        count = window.count  # what the API answers: exact, more_than, estimate or at_least
        p50, p95, p99 = percentiles(samples)
        sql50, sql95, sql99 = percentiles(statements)
        print(f"{name:40} {first:7.1f} {p50:9.1f} {p95:7.1f} {p99:7.1f} {sql50:8.1f} {sql95:6.1f} {sql99:6.1f} {cpu * 1000 / args.repeat:6.1f} {timed_collections[2]:4} {count_ms:9.1f} "
              f"{count.kind + ' ' + format(count.value, ','):>16} {examined:>10}")
    print(f"cyclic-GC collections while timing: {timed_runs:,}, of them full: {timed_full}")
    rows = min(Session.objects.count(), export.export_limit())
    started = time.perf_counter()
    lines = sum(1 for _ in export.csv_lines(SessionFilterSet({}, queryset=search.search_queryset()).qs, rows))
    elapsed = time.perf_counter() - started
    print(f"CSV export: {lines - 1:,} rows in {elapsed:.2f} s = {(lines - 1) / elapsed:,.0f} rows/s")


if __name__ == "__main__":
    main()

"""Search under load, through the real HTTP API served by gunicorn: p50/p95/p99 per search shape from concurrent
clients, the rows MySQL/MariaDB examines for each (EXPLAIN), and bytes on disk per table.

    LUNA_SECRET_KEY=… .venv/bin/python bench/search_http.py --db mysql://luna:luna@127.0.0.1:3306/luna_bench \\
        [--sessions 100000 --reuse] [--clients 8 --requests 80 --workers 3 --worker-class sync --threads 1]

Seeds like bench/search.py (same synthetic sessions; `--reuse` keeps what an earlier run loaded), starts gunicorn
on a free port against that database, and times each shape over the API with token authentication. Figures, not
assertions: see docs/BENCHMARKS.md.
"""
import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SHAPES = {  # the shapes, as API queries
    "key exact": {"key": "ORD-0012345"},
    "q box: an order id": {"q": "ORD-0054321"},
    "q box: a trans_id": {"q": "TX-0012345"},
    "q box: a user id": {"q": "U-001234"},
    "field = value (selective: a user id)": {"field": "user_id", "value": "U-001234"},
    "field = value (unselective), page 1": {"field": "channel", "value": "wechat"},
    "field = value (unselective), page 1000": {"field": "channel", "value": "wechat", "page": "1000"},
    "two fields": {"where": "channel = wechat\nregion = eu"},
    "conclusion + 1 day": {"conclusion": "lost_order", "since": "2024-05-02", "until": "2024-05-03"},
    "conclusion + 90 days": {"conclusion": "lost_order", "since": "2024-05-01", "until": "2024-07-30"},
    "status": {"status": "complete"},
    "sort by duration": {"ordering": "-duration"},
}


def deep_cursor(params: dict) -> dict:
    """A shape's `page` as the cursor a client following `next` links would hold there (found once, by OFFSET, here
    in the bench only): the request then reads the rows after it, as the API does for any deep page."""
    if "page" not in params:
        return params
    from sessions.filters import SessionFilterSet
    from sessions.services import paging, search

    query = {key: value for key, value in params.items() if key != "page"}
    offset = (int(params["page"]) - 1) * paging.SIZE
    queryset = SessionFilterSet(query, queryset=search.search_queryset()).qs.order_by("-start_ms", "-id")
    found = list(queryset.values_list("start_ms", "id")[offset - 1: offset])
    if not found:  # a small run: fewer matches than that page needs
        return query
    start_ms, row_id = found[0]
    count = paging.window(queryset).count  # the first page's count, which the links carry
    return query | {"cursor": paging.Cursor("-start_ms", start_ms, row_id, position=offset, count=count).encode()}


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes so far (/proc/<pid>/stat), so a figure can be read against the load."""
    ticks, total = os.sysconf("SC_CLK_TCK"), 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def database_pids() -> list[int]:
    return [int(entry.name) for entry in Path("/proc").iterdir()
            if entry.name.isdigit() and (entry / "comm").exists() and (entry / "comm").read_text().strip() in ("mariadbd", "mysqld", "tidb-server")]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def get(url: str, token: str) -> float:
    """One request on a new connection (gunicorn's sync workers close each one), through http.client: urllib's
    opener and handlers cost the client ~1 ms of CPU a request, taken from the 2 cores the server shares."""
    parts = urllib.parse.urlsplit(url)
    started = time.perf_counter()
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        connection.request("GET", f"{parts.path}?{parts.query}", headers={"Authorization": f"Token {token}"})
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"{url}: HTTP {response.status}")
    finally:
        connection.close()
    return (time.perf_counter() - started) * 1000


def rows_examined(params: dict) -> int | None:
    """Sum of EXPLAIN's `rows` for the page's query (MySQL/MariaDB), the optimizer's estimate of rows read."""
    from django.db import connection

    from sessions.filters import SessionFilterSet
    from sessions.services import paging, search

    if connection.vendor != "mysql":
        return None
    query = {k: v for k, v in params.items() if k != "cursor"}
    qs = SessionFilterSet(query, queryset=search.search_queryset()).qs
    if "cursor" in params:
        cursor = paging.Cursor.decode(params["cursor"], qs.model)
        qs = qs.filter(paging.after("start_ms", True, cursor.value, cursor.id))
    qs = qs[:51]
    sql, values = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", values)
        names = [c[0].lower() for c in cursor.description]
        return sum(int(row[names.index("rows")] or 0) for row in cursor.fetchall())


def table_bytes() -> list[tuple[str, int]]:
    from django.db import connection

    if connection.vendor != "mysql":
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT table_name, data_length + index_length FROM information_schema.tables "
                       "WHERE table_schema = DATABASE() AND table_name LIKE %s ORDER BY 2 DESC", ["luna_session%"])
        return [(name, int(size)) for name, size in cursor.fetchall()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True, help="a MySQL/MariaDB/TiDB DATABASE_URL")
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--reuse", action="store_true", help="keep the sessions an earlier run loaded")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=80, help="requests per shape (spread over the clients)")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("LUNA_WEB_WORKERS", 0)) or (os.cpu_count() or 1) + 1)
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (with --worker-class gthread)")
    parser.add_argument("--worker-class", default=os.environ.get("LUNA_WEB_WORKER_CLASS", "sync"),
                        help="gunicorn worker class: sync (what ./luna.sh runs) or gthread")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="luna-bench-http-"))
    os.environ.update(LUNA_VAR_DIR=str(work / "var"), DATABASE_URL=args.db, DJANGO_SETTINGS_MODULE="luna.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from bench.search import seed
    from sessions.models import Session
    from sessions.services.templates import save_template_version
    from tests.factories import DEMO_PATH, make_user
    from django.contrib.auth import get_user_model

    call_command("migrate", verbosity=0)
    if not (args.reuse and Session.objects.count() >= args.sessions):
        call_command("flush", interactive=False, verbosity=0)
        template = save_template_version(json.loads(DEMO_PATH.read_text())).template
        started = time.perf_counter()
        seed(template, args.sessions)
        print(f"seeded {args.sessions:,} sessions in {time.perf_counter() - started:.1f} s")
    user = get_user_model().objects.filter(username="bench-viewer").first() or make_user("bench-viewer", "viewer")
    token = Token.objects.get_or_create(user=user)[0].key
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "luna.wsgi:application", "-c", "python:luna.gunicorn_conf", "--bind", f"127.0.0.1:{port}",
                               "--workers", str(args.workers), "--threads", str(args.threads), "--worker-class", args.worker_class,
                               "--log-level", "warning"],
                              cwd=ROOT, env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}/api/sessions/"
        for _ in range(60):
            try:
                get(base + "?key=none", token)
                break
            except OSError:
                time.sleep(0.5)
        print(f"{Session.objects.count():,} sessions; {args.clients} clients, {args.requests} requests per shape, "
              f"gunicorn {args.workers} {args.worker_class} workers × {args.threads} threads")
        with ThreadPoolExecutor(args.clients) as pool:  # every worker thread connects and loads its code once first
            list(pool.map(lambda _: get(base + "?key=none", token), range(4 * args.workers * args.threads)))
        print(f"load average before: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}; CPU columns are ms per request "
              "of the gunicorn workers, of the database server and of this bench's clients (their CPU while the shape ran ÷ requests)")
        print(f"{'shape':40} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'app cpu':>8} {'db cpu':>7} {'client':>7} {'EXPLAIN rows':>13}")
        from bench.throughput import tree_pids

        for name, params in SHAPES.items():
            params = deep_cursor(params)
            url = base + "?" + urllib.parse.urlencode(params)
            get(url, token)  # warm the workers' connections and caches
            app, db = tree_pids(server.pid), database_pids()
            app_cpu, db_cpu, client_cpu = cpu_seconds(app), cpu_seconds(db), time.process_time()
            with ThreadPoolExecutor(args.clients) as pool:
                samples = list(pool.map(lambda _: get(url, token), range(args.requests)))
            app_cpu, db_cpu = [(cpu_seconds(pids) - before) * 1000 / args.requests for pids, before in ((app, app_cpu), (db, db_cpu))]
            client_cpu = (time.process_time() - client_cpu) * 1000 / args.requests
            examined = rows_examined(params)
            print(f"{name:40} {statistics.median(samples):8.1f} {percentile(samples, 0.95):8.1f} {percentile(samples, 0.99):8.1f} "
                  f"{app_cpu:8.1f} {db_cpu:7.1f} {client_cpu:7.1f} {examined if examined is not None else '-':>13}")
        print(f"load average after: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
        for table, size in table_bytes():
            print(f"  {table:32} {size / 1_048_576:10.1f} MiB")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()

"""Where one search request's time goes, per shape: SQL vs Django/DRF/template, queries per request, and (optionally)
a cProfile of the request. One client, in process (Django's test client), so the figures are the request's own cost.

    LUNA_SECRET_KEY=… .venv/bin/python bench/search_profile.py --db mysql://luna:luna@127.0.0.1:3306/luna_bench \\
        [--repeat 20] [--page] [--cprofile "key exact"]

Uses the sessions an earlier bench/search_http.py run loaded (same shapes). Figures, not assertions: see
docs/BENCHMARKS.md.
"""
import argparse
import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True, help="a MySQL/MariaDB/TiDB DATABASE_URL with loaded sessions")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--page", action="store_true", help="the search page (HTML) instead of the API")
    parser.add_argument("--cprofile", default="", help="print the top functions of this shape's requests")
    parser.add_argument("--sort", default="cumulative", help="cProfile order: cumulative or tottime")
    parser.add_argument("--dump", default="", help="also write that shape's cProfile to this file (pstats, snakeviz)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="luna-bench-profile-"))
    os.environ.update(LUNA_VAR_DIR=str(work / "var"), DATABASE_URL=args.db, DJANGO_SETTINGS_MODULE="luna.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from rest_framework.authtoken.models import Token

    from bench.search_http import SHAPES, deep_cursor
    from tests.factories import make_user

    user = get_user_model().objects.filter(username="bench-viewer").first() or make_user("bench-viewer", "viewer")
    token = Token.objects.get_or_create(user=user)[0].key
    client = Client(HTTP_AUTHORIZATION=f"Token {token}", HTTP_HOST="localhost")
    if args.page:
        client.force_login(user)
    path = "/" if args.page else "/api/sessions/"
    print(f"{'shape':40} {'wall ms':>8} {'cpu ms':>7} {'sql ms':>7} {'other ms':>8} {'queries':>7}")
    for name, params in SHAPES.items():
        params = deep_cursor(params)
        client.get(path, params)  # warm caches
        walls, cpus, sqls, counts = [], [], [], []
        profile = cProfile.Profile() if name == args.cprofile else None
        for _ in range(args.repeat):
            with CaptureQueriesContext(connection) as queries:
                started, cpu = time.perf_counter(), time.process_time()
                profile.enable() if profile else None
                response = client.get(path, params)
                profile.disable() if profile else None
                walls.append((time.perf_counter() - started) * 1000)
                cpus.append((time.process_time() - cpu) * 1000)
            assert response.status_code == 200, (name, response.status_code, response.content[:300])
            sqls.append(sum(float(query["time"]) for query in queries.captured_queries) * 1000)
            counts.append(len(queries.captured_queries))
        wall, sql = statistics.median(walls), statistics.median(sqls)
        print(f"{name:40} {wall:8.1f} {statistics.median(cpus):7.1f} {sql:7.1f} {wall - sql:8.1f} {max(counts):7}")
        if profile:
            pstats.Stats(profile).sort_stats(args.sort).print_stats(30)
            profile.dump_stats(args.dump) if args.dump else None
            for query in queries.captured_queries:
                print(f"  {float(query['time']) * 1000:7.1f} ms  {query['sql'][:220]}")


if __name__ == "__main__":
    main()

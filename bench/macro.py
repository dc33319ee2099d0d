"""Macro analytics: bulk-load sessions' fact rows and rollups (not through Flink), then time the three issue-10
queries from the rollups and from the session fact table, print p50/p95 ms and the TiDB SQL of each, and the
sink's rollup + fact upkeep cost on its own.

    DATABASE_URL=mysql://luna:luna@127.0.0.1:3306/luna_bench .venv/bin/python bench/macro.py --sessions 10000000

Rows go to a template of their own (`bench-macro`) in a database of its own (the fact table is truncated); see
bench/macro_load.py for how they are loaded. Figures, not assertions; wall time per query, with the load average.
"""
import argparse
import gc
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "luna.settings")

from bench.gc_watch import Collections  # noqa: E402
from bench.macro_breakdown import HEADER, breakdown, print_breakdown  # noqa: E402
from bench.macro_load import DAY, DIMENSIONS, documents, load  # noqa: E402
from bench.macro_replica import build as build_replica, make_stale, replica_dir  # noqa: E402


def loaded_until(template_id: int) -> int:
    """The end of the loaded range (the day after the last day rollup): --skip-load measures the same 90 days the
    load wrote, whatever today is."""
    from analytics.models import Rollup

    last = Rollup.objects.filter(template_id=template_id, grain="d").order_by("-bucket_ms").values_list("bucket_ms", flat=True).first()
    if last is None:
        raise SystemExit("nothing loaded for bench-macro: run without --skip-load first")
    return last + DAY


def upkeep_cost(template_id: int, until_ms: int, sessions: int = 20_000, batch: int = 500) -> None:
    """The sink's per-batch rollup and fact-table work alone (contribution lookup, deltas, upserts), sessions/s."""
    from analytics.facts.upkeep import FactUpkeep
    from analytics.rollups.upkeep import RollupUpkeep
    from jobs.sessionize.sink.dialects import connect
    from sessions.services.sink_database import database_url_for_jobs

    dialect, factory = connect(database_url_for_jobs())
    conn = factory()
    cur = conn.cursor()
    template_id += 10**6  # rows of their own (no such template), deleted afterwards: the measured tables stay as loaded
    upkeep = RollupUpkeep(template_id, dialect.name, settle_ms=0, enabled=True)
    upkeep.dimensions.pin(DIMENSIONS)
    facts = FactUpkeep.beside(upkeep)
    docs = [dict(d, uid=d["uid"] + 5 * 10**11) for d in documents(sessions, 1, until_ms, seed=11)]
    started, cpu = time.perf_counter(), time.process_time()
    for revision in (docs, [dict(d, primary_conclusion="lost_order", status="closed") for d in docs]):  # 2nd: retract + add
        for i in range(0, len(revision), batch):
            upkeep.write(cur, revision[i:i + batch], [])
            facts.write(cur, revision[i:i + batch], [])
            conn.commit()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    stats = upkeep.stats
    print(f"rollup + fact upkeep alone: {2 * sessions / seconds:,.0f} session revisions/s ({1000 * seconds / (2 * sessions):.2f} ms "
          f"each, {1000 * cpu / (2 * sessions):.2f} ms client CPU); rollup rows written per revision "
          f"{stats.rows_written / stats.sessions:.2f} combined vs {stats.rows_uncombined / stats.sessions:.2f} (batches of {batch}); "
          f"replica day versions bumped {facts.days_bumped:,} times ({facts.days_bumped / (2 * sessions / batch):.1f} a batch)")
    for table in ("analytics_rollup", "analytics_rollup_hours", "analytics_rollup_days", "analytics_rollup_span", "analytics_session_contribution",
                  "analytics_session_fact", "analytics_fact_days"):
        cur.execute(f"DELETE FROM {table} WHERE template_id = %s", [template_id])
    conn.commit()
    conn.close()


def figure_cost(query, result, repeat: int = 3) -> str:
    """The dashboard's work after the query: the Plotly figure (with its points' search links) and its JSON."""
    import json

    from analytics.panels import PanelSpec
    from analytics.query.buckets import bucketing
    from analytics.services.figures import figure

    panel = PanelSpec.model_construct(title="bench", chart="line")  # figure() reads the chart type only
    time_dimension = query.time_dimension
    buckets = bucketing(time_dimension.granularity, query.time_zone, query.since_ms, query.until_ms) if time_dimension else None
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        json.dumps(figure(panel, query, result, buckets), default=str)
        walls.append(1000 * (time.perf_counter() - wall))
        cpus.append(1000 * (time.process_time() - cpu))
    return f"{'  figure + JSON':51} {'':>7} {statistics.median(walls):>9.1f} {max(walls):>9.1f} {statistics.median(cpus):>14.1f}"


def collections_seen(collections: Collections) -> str:
    """The collections per generation since the last call, with the load average."""
    return f"gc {'/'.join(map(str, collections.take()))}, load {os.getloadavg()[0]:.1f}"


def timed(run, repeat: int) -> tuple[float, float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        times.append(1000 * (time.perf_counter() - started))
    times.sort()
    return statistics.median(times), times[max(0, -(-95 * len(times) // 100) - 1)], result


QUERIES = {
    "hour x conclusion x channel, 90 days": dict(measures=[{"kind": "sessions"}], dimensions=[
        {"kind": "time", "granularity": "hour"}, {"kind": "conclusion"}, {"kind": "field", "field": "channel"}]),
    "p95 duration by day x channel, 90 days": dict(measures=[{"kind": "percentile", "field": "duration", "p": 95}],
                                                    dimensions=[{"kind": "time", "granularity": "day"}, {"kind": "field", "field": "channel"}]),
    "channel x conclusion where region = eu": dict(measures=[{"kind": "sessions"}], dimensions=[
        {"kind": "field", "field": "channel"}, {"kind": "conclusion"}], filters=[{"kind": "field", "field": "region", "values": ["eu"]}]),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--repeat", type=int, default=20, help="runs per rollup query")
    parser.add_argument("--facts-repeat", type=int, default=5, help="runs per fact-table query")
    parser.add_argument("--skip-load", action="store_true", help="reuse the rows already loaded")
    parser.add_argument("--skip-upkeep", action="store_true", help="do not measure the upkeep on its own")
    parser.add_argument("--upkeep-only", action="store_true", help="measure the upkeep on its own, no query")
    parser.add_argument("--load-only", action="store_true", help="load, measure nothing")
    parser.add_argument("--breakdown", action="store_true",
                        help="per query: server time (ANALYZE), handler reads, execute + fetch, end to end (MariaDB)")
    parser.add_argument("--only", choices=["rollups", "facts"], help="measure one source only")
    parser.add_argument("--figures", action="store_true", help="also time the dashboard's Plotly figure of each answer")
    parser.add_argument("--replica-build", action="store_true", help="build the columnar replica's stale days first")
    parser.add_argument("--stale-days", type=int, default=0,
                        help="make the last N days stale before timing (read from the row store), rebuild them after")
    parser.add_argument("--no-replica", action="store_true", help="the fact path reads the row store only")
    args = parser.parse_args()
    from urllib.parse import urlparse

    os.environ.setdefault("LUNA_FACT_REPLICA_DIR", replica_dir(urlparse(os.environ.get("DATABASE_URL", "")).path.lstrip("/") or "default"))
    if args.no_replica:
        os.environ["LUNA_FACT_REPLICA"] = "off"

    import django

    django.setup()
    from django.db import connections
    from django.db.models import Sum

    from analytics.models import RollupHours
    from analytics.query.spec import MacroQuery
    from analytics.services import macro
    from sessions.services.sink_database import database_url_for_jobs
    from sessions.services.templates import save_template_version
    from tests.analytics_backends import offline_connections
    from tests.flows import demo_document

    template = macro.AnalysisTemplate.objects.filter(name="bench-macro").first()
    if template is None:
        template = save_template_version(dict(demo_document(), name="bench-macro", dimensions=DIMENSIONS)).template
    assert macro.template_dimensions(template) == DIMENSIONS, "bench-macro's dimensions are channel and region"
    now = int(time.time() * 1000)
    until = loaded_until(template.pk) if args.skip_load else now - now % DAY
    if args.skip_load and not RollupHours.objects.filter(template=template).exists():
        from bench.macro_load import fill_hours, mysql_connection

        fill_hours(mysql_connection(database_url_for_jobs()).cursor(), template.pk)  # loaded before the tier existed
    if not args.skip_load:
        load(database_url_for_jobs(), template.pk, args.sessions, args.days, until)
    if args.load_only:
        return
    if args.upkeep_only:
        return upkeep_cost(template.pk, until)
    if args.replica_build:
        build_replica(template.pk)
    if args.stale_days:
        make_stale(template.pk, until, args.stale_days)
    since = until - args.days * DAY
    base = dict(template="bench-macro", since_ms=since, until_ms=until)
    loaded = f"{RollupHours.objects.filter(template=template).aggregate(n=Sum('sessions'))['n'] or 0:,} sessions loaded"
    print(f"\n{connections['analytics'].display_name} ({connections['analytics'].settings_dict['NAME']}), {loaded}, "
          f"{args.days} days; load average before: {os.getloadavg()[0]:.1f}")
    print(HEADER if args.breakdown else f"{'query':42} {'source':8} {'rows':>7} {'p50 ms':>9} {'p95 ms':>9} {'client CPU ms':>14}")
    tidb = offline_connections()["tidb"]
    collections = Collections()
    sources = [s for s in (("rollups", args.repeat), ("facts", args.facts_repeat)) if args.only in (None, s[0])]
    for name, spec in QUERIES.items():
        for source, repeat in sources:
            query = MacroQuery(**base, **spec, source=source)
            macro.run(query)  # warm: the first read of a table after the load comes from disk
            gc.freeze()  # what start-up and the warm-up made is never collected, as in a gunicorn worker
            collections.take()
            if args.breakdown:
                compiled = macro.prepare(query)[2]
                print_breakdown(name, source, breakdown(lambda: macro.run(query), compiled, connections["analytics"], repeat))
                print(f"  {collections_seen(collections)} (collections per generation during the timed runs; load average)")
                continue
            cpu = time.process_time()
            p50, p95, result = timed(lambda: macro.run(query), repeat)
            cpu_ms = 1000 * (time.process_time() - cpu) / repeat
            print(f"{name:42} {source:8} {result.size:>7} {p50:>9.1f} {p95:>9.1f} {cpu_ms:>14.1f}   ({result.reason}; "
                  f"{collections_seen(collections)})")
            if args.figures:
                print(figure_cost(query, result))
        for source, _ in [] if args.breakdown else sources:
            _, _, compiled = macro.prepare(MacroQuery(**base, **spec, source=source), tidb)
            print(f"  TiDB SQL ({source}): {compiled.sql[:700]}{' …' if len(compiled.sql) > 700 else ''}")
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    if args.stale_days:
        build_replica(template.pk)  # the stale days again current, as the beat task would make them
    if not args.skip_upkeep:
        upkeep_cost(template.pk, until)


if __name__ == "__main__":
    main()

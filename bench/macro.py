"""Macro analytics: bulk-load sessions (not through Flink), then time the three issue-10 queries from the rollups
and from the fact tables, print p50/p95 ms and the TiDB SQL of each, and the rollup upkeep's own cost.

    DATABASE_URL=mysql://luna:luna@127.0.0.1:3306/luna_analytics .venv/bin/python bench/macro.py --sessions 1000000

Sessions go to a template of their own (`bench-macro`, replaced on every load) with today's schema: luna_session,
two key-value field rows per session (channel, region), one conclusion row; the rollups are computed with the
sink's own contribution code (analytics/rollups) and written with its statements. Figures, not assertions.
"""
import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "luna.settings")

DAY = 86_400_000
CONCLUSIONS = [("delivered", "info", 70), ("abandoned", "low", 15), ("lost_order", "high", 6), ("callback_missing", "medium", 4),
               ("invalid_voucher", "medium", 3), ("duplicate_delivery", "critical", 2)]
CHANNELS, REGIONS = ["alipay", "wechat", "card", "unionpay"], ["cn", "eu", "us", "sg", "jp"]
CHUNK = 10_000


def documents(count: int, days: int, until_ms: int, seed: int = 7):
    """Session documents shaped like assemble()'s output (what the rollups read), deterministic."""
    rnd = random.Random(seed)
    names, weights = [c[0] for c in CONCLUSIONS], [c[2] for c in CONCLUSIONS]
    severity = {c[0]: c[1] for c in CONCLUSIONS}
    since = until_ms - days * DAY
    for i in range(count):
        conclusion = rnd.choices(names, weights)[0]
        status = "open" if rnd.random() < 0.01 else ("complete" if conclusion in ("delivered", "duplicate_delivery") else "closed")
        duration = int(rnd.lognormvariate(10.3, 0.8))
        yield {
            "uid": 10**12 + i, "session_key": f"B-{i}", "start_ms": since + rnd.randrange(days * DAY), "duration_ms": duration,
            "status": status, "completeness": 1.0 if status == "complete" else rnd.choice([0.25, 0.5, 0.75]),
            "primary_conclusion": conclusion, "conclusions": [{"name": conclusion, "severity": severity[conclusion]}],
            "fields": {"channel": rnd.choice(CHANNELS), "region": rnd.choice(REGIONS)},
        }


def load(template_id: int, count: int, days: int, until_ms: int, rollups_only: bool = False) -> None:
    from analytics.rollups.contribution import DeltaBatch, facts_of
    from analytics.rollups.sql import RollupSQL
    from jobs.sessionize.sink.dialects import connect
    from sessions.services.jobs import database_url_for_jobs

    dialect, factory = connect(database_url_for_jobs())
    conn, started = factory(), time.perf_counter()
    cur = conn.cursor()
    mark = dialect.placeholder
    tables = ("luna_session_field", "luna_session_conclusion", "luna_session") if not rollups_only else ()
    for table in (*tables, "analytics_rollup", "analytics_session_contribution"):
        cur.execute(f"DELETE FROM {table} WHERE template_id = {mark}", [template_id])
    conn.commit()
    batch, sessions, fields, conclusions = DeltaBatch(), [], [], []
    session_sql = ("INSERT INTO luna_session (id, template_id, session_key, start_ms, end_ms, duration_ms, status, revision, completeness, "
                   f"primary_conclusion, split, updated_ms) VALUES ({dialect.marks(12)})")
    field_sql = f"INSERT INTO luna_session_field (session_id, template_id, name, str_value, node) VALUES ({dialect.marks(5)})"
    conclusion_sql = (f"INSERT INTO luna_session_conclusion (session_id, template_id, name, label, severity, start_ms) "
                      f"VALUES ({dialect.marks(6)})")

    def flush() -> None:
        if rollups_only:
            sessions.clear(), fields.clear(), conclusions.clear()
            return
        cur.executemany(session_sql, sessions)
        cur.executemany(field_sql, fields)
        cur.executemany(conclusion_sql, conclusions)
        conn.commit()
        sessions.clear(), fields.clear(), conclusions.clear()

    for doc in documents(count, days, until_ms):
        uid, start = doc["uid"], doc["start_ms"]
        sessions.append((uid, template_id, doc["session_key"], start, start + doc["duration_ms"], doc["duration_ms"], doc["status"], 1,
                         doc["completeness"], doc["primary_conclusion"], 0, until_ms))
        fields += [(uid, template_id, name, value, "order") for name, value in doc["fields"].items()]
        conclusions.append((uid, template_id, doc["primary_conclusion"], doc["primary_conclusion"], doc["conclusions"][0]["severity"], start))
        batch.move(None, facts_of(doc, ["channel", "region"]))
        if len(sessions) >= CHUNK:
            flush()
    flush()
    loaded = time.perf_counter()
    sql, rows = RollupSQL(dialect.name), batch.nonzero()
    for i in range(0, len(rows), CHUNK):
        cur.executemany(sql.add_to_rollup(), [(template_id, k.grain, k.dim_names, k.bucket_ms, k.status, k.conclusion, k.severity,
                                               *k.values, *d.row()) for k, d in rows[i:i + CHUNK]])
        conn.commit()
    cur.execute("ANALYZE TABLE luna_session, luna_session_field, analytics_rollup") if dialect.name != "sqlite" else None
    cur.fetchall() if dialect.name != "sqlite" else None
    conn.close()
    print(f"loaded {0 if rollups_only else count:,} sessions ({0 if rollups_only else 2 * count:,} field rows) in {loaded - started:.0f} s; "
          f"{len(rows):,} rollup rows (minute/hour/day) in {time.perf_counter() - loaded:.0f} s")


def upkeep_cost(template_id: int, until_ms: int, sessions: int = 20_000, batch: int = 500) -> None:
    """The sink's per-batch rollup work alone (contribution lookup, deltas, upserts), sessions/s."""
    from analytics.rollups.upkeep import RollupUpkeep
    from jobs.sessionize.sink.dialects import connect
    from sessions.services.jobs import database_url_for_jobs

    dialect, factory = connect(database_url_for_jobs())
    conn = factory()
    cur = conn.cursor()
    upkeep = RollupUpkeep(template_id, dialect.name, settle_ms=0)
    docs = [dict(d, uid=d["uid"] + 5 * 10**11) for d in documents(sessions, 1, until_ms, seed=11)]
    started = time.perf_counter()
    for i in range(0, len(docs), batch):
        upkeep.write(cur, docs[i:i + batch], [])
        conn.commit()
    for i in range(0, len(docs), batch):  # a second revision of each, changing its conclusion: retract + add
        upkeep.write(cur, [dict(d, primary_conclusion="lost_order", status="closed") for d in docs[i:i + batch]], [])
        conn.commit()
    seconds = time.perf_counter() - started
    stats = upkeep.stats
    print(f"rollup upkeep alone: {2 * sessions / seconds:,.0f} session revisions/s ({1000 * seconds / (2 * sessions):.2f} ms each); "
          f"rollup rows written per revision {stats.rows_written / stats.sessions:.2f} combined vs "
          f"{stats.rows_uncombined / stats.sessions:.2f} without combining (batches of {batch})")
    conn.close()


def timed(run, repeat: int) -> tuple[float, float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        times.append(1000 * (time.perf_counter() - started))
    times.sort()
    return statistics.median(times), times[max(0, -(-95 * len(times) // 100) - 1)], result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--repeat", type=int, default=5, help="runs per rollup query")
    parser.add_argument("--facts-repeat", type=int, default=3, help="runs per fact-table query")
    parser.add_argument("--skip-load", action="store_true", help="reuse the sessions and rollups already loaded")
    parser.add_argument("--rollups-only", action="store_true", help="reuse the sessions, recompute the rollups")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connections

    from analytics.query.spec import MacroQuery
    from analytics.services import macro
    from sessions.services.templates import save_template_version
    from tests.analytics_backends import offline_connections
    from tests.flows import demo_document

    template = macro.AnalysisTemplate.objects.filter(name="bench-macro").first()
    if template is None:
        template = save_template_version(dict(demo_document(), name="bench-macro")).template
    now = int(time.time() * 1000)
    until = now - now % DAY
    if not args.skip_load:
        load(template.pk, args.sessions, args.days, until, args.rollups_only)
    since = until - args.days * DAY
    base = dict(template="bench-macro", since_ms=since, until_ms=until)
    queries = {
        "hour x conclusion x channel, 90 days": dict(measures=[{"kind": "sessions"}], dimensions=[
            {"kind": "time", "granularity": "hour"}, {"kind": "conclusion"}, {"kind": "field", "field": "channel"}]),
        "p95 duration by day x channel, 90 days": dict(measures=[{"kind": "percentile", "field": "duration", "p": 95}],
                                                        dimensions=[{"kind": "time", "granularity": "day"}, {"kind": "field", "field": "channel"}]),
        "channel x conclusion where region = eu": dict(measures=[{"kind": "sessions"}], dimensions=[
            {"kind": "field", "field": "channel"}, {"kind": "conclusion"}], filters=[{"kind": "field", "field": "region", "values": ["eu"]}]),
    }
    print(f"\n{connections['analytics'].display_name}, {args.sessions:,} sessions over {args.days} days")
    print(f"{'query':42} {'source':8} {'rows':>7} {'p50 ms':>9} {'p95 ms':>9}")
    tidb = offline_connections()["tidb"]
    for name, spec in queries.items():
        for source, repeat in (("rollups", args.repeat), ("facts", args.facts_repeat)):
            query = MacroQuery(**base, **spec, source=source)
            p50, p95, result = timed(lambda: macro.run(query), repeat)
            print(f"{name:42} {source:8} {len(result.rows):>7} {p50:>9.1f} {p95:>9.1f}")
        for source in ("rollups", "facts"):
            _, _, compiled = macro.prepare(MacroQuery(**base, **spec, source=source), tidb)
            print(f"  TiDB SQL ({source}): {compiled.sql[:600]}{' …' if len(compiled.sql) > 600 else ''}")
    upkeep_cost(template.pk, until)


if __name__ == "__main__":
    main()

"""Fast bulk load for bench/macro.py (MariaDB/MySQL): the session fact table by LOAD DATA LOCAL INFILE (its covering
index dropped during the load and built after), the hour and day rollups by INSERT … SELECT … GROUP BY over it,
checked equal on a sample to the sink's own contribution code. Only the tables the measured queries read.

The rows are the sink's own: `fact_row` of documents shaped like assemble()'s output. The minute rollups are not
loaded (no measured query reads them; at 10 M they would be ~7 M rows). The hours-of-day rollups are filled from the
hour rows by the statement migration 0004 runs (`fill_hours`, also on a database loaded before that tier).
"""
import os
import random
import tempfile
import time
from typing import Any, Iterator

DAY = 86_400_000
CONCLUSIONS = [("delivered", "info", 70), ("abandoned", "low", 15), ("lost_order", "high", 6), ("callback_missing", "medium", 4),
               ("invalid_voucher", "medium", 3), ("duplicate_delivery", "critical", 2)]
CHANNELS, REGIONS = ["alipay", "wechat", "card", "unionpay"], ["cn", "eu", "us", "sg", "jp"]
DIMENSIONS = ["channel", "region"]
FIRST_UID = 10**12
SAMPLE = 50_000  # sessions whose rollups are recomputed with the contribution code and compared


def documents(count: int, days: int, until_ms: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """Session documents shaped like assemble()'s output (what the rollups and the fact table read), deterministic."""
    rnd = random.Random(seed)
    names, weights = [c[0] for c in CONCLUSIONS], [c[2] for c in CONCLUSIONS]
    severity = {c[0]: c[1] for c in CONCLUSIONS}
    since = until_ms - days * DAY
    for i in range(count):
        conclusion = rnd.choices(names, weights)[0]
        status = "open" if rnd.random() < 0.01 else ("complete" if conclusion in ("delivered", "duplicate_delivery") else "closed")
        duration = int(rnd.lognormvariate(10.3, 0.8))
        start = since + rnd.randrange(days * DAY)
        yield {
            "uid": FIRST_UID + i, "session_key": f"B-{i}", "start_ms": start, "end_ms": start + duration, "duration_ms": duration,
            "status": status, "completeness": 1.0 if status == "complete" else rnd.choice([0.25, 0.5, 0.75]),
            "primary_conclusion": conclusion, "conclusions": [{"name": conclusion, "severity": severity[conclusion]}],
            "fields": {"channel": rnd.choice(CHANNELS), "region": rnd.choice(REGIONS)},
            "nodes": ["order", "pay_page", *(["delivery"] if conclusion in ("delivered", "duplicate_delivery") else [])],
        }


def mysql_connection(database_url: str) -> Any:
    """A PyMySQL connection that may send a local file (LOAD DATA LOCAL INFILE)."""
    from urllib.parse import unquote, urlparse

    import pymysql

    url = urlparse(database_url)
    if url.scheme not in ("mysql", "mariadb"):
        raise SystemExit("bench/macro.py loads MariaDB/MySQL only (LOAD DATA LOCAL INFILE)")
    return pymysql.connect(host=url.hostname or "127.0.0.1", port=url.port or 3306, user=unquote(url.username or "root"),
                           password=unquote(url.password or ""), database=url.path.lstrip("/"), charset="utf8mb4",
                           autocommit=True, local_infile=True,
                           # this session only: the GROUP BY of the rollups stays in memory (the default 16 MB spills to disk)
                           init_command="SET SESSION tmp_table_size = 1073741824, max_heap_table_size = 1073741824")


def rollup_select(template_id: int, grain: str, layout: str, where: str = "") -> tuple[str, list]:
    """The rollup rows of one grain as a GROUP BY over the fact table (what the contribution code would add up)."""
    from analytics.rollups.contribution import GRAINS
    from analytics.rollups.histogram import BUCKETS

    size = GRAINS[grain]
    histogram = ", ".join(f"SUM(duration_bucket = {i})" for i in range(BUCKETS))
    sql = (f"SELECT template_id, %s, %s, start_ms - MOD(start_ms, {size}), status, conclusion, severity, d1, d2, d3, COUNT(*), "
           f"SUM(duration_ms), SUM(completeness_e4), {histogram} FROM analytics_session_fact WHERE template_id = %s {where} "
           f"GROUP BY template_id, start_ms - MOD(start_ms, {size}), status, conclusion, severity, d1, d2, d3")
    return sql, [grain, layout, template_id]


def load(database_url: str, template_id: int, count: int, days: int, until_ms: int) -> None:
    from django.db import connection

    from analytics.facts.row import FACT_COLUMNS, fact_row
    from analytics.models import SessionFact
    from analytics.rollups.contribution import slot_values, slots
    from analytics.rollups.sql import ROLLUP_COLUMNS

    conn = mysql_connection(database_url)
    cur = conn.cursor()
    t0, c0 = time.perf_counter(), time.process_time()
    cur.execute("SELECT COUNT(*) FROM analytics_session_fact WHERE template_id <> %s", [template_id])
    if cur.fetchone()[0]:
        raise SystemExit("analytics_session_fact holds other templates' rows: load into a database of its own")
    cur.execute("TRUNCATE TABLE analytics_session_fact")
    cur.execute("DELETE FROM analytics_rollup WHERE template_id = %s", [template_id])
    cur.execute("DELETE FROM analytics_rollup_hours WHERE template_id = %s", [template_id])
    index = SessionFact._meta.indexes[0]
    cur.execute("SHOW INDEX FROM analytics_session_fact WHERE Key_name = %s", [index.name])
    if cur.fetchall():
        with connection.schema_editor() as editor:
            editor.remove_index(SessionFact, index)
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as out:
        for doc in documents(count, days, until_ms):
            out.write("\t".join(map(str, fact_row(template_id, doc, DIMENSIONS))) + "\n")
    written, c1 = time.perf_counter(), time.process_time()
    try:
        cur.execute(f"LOAD DATA LOCAL INFILE %s INTO TABLE analytics_session_fact FIELDS TERMINATED BY '\\t' "
                    f"({', '.join(FACT_COLUMNS)})", [out.name])
    finally:
        os.unlink(out.name)
    loaded = time.perf_counter()
    with connection.schema_editor() as editor:
        editor.add_index(SessionFact, index)
    indexed = time.perf_counter()
    bump_all_days(cur, template_id)
    layout = slot_values(tuple((name, None) for name in slots(DIMENSIONS)))[0]
    for grain in ("h", "d"):
        sql, params = rollup_select(template_id, grain, layout)
        cur.execute(f"INSERT INTO analytics_rollup ({', '.join(ROLLUP_COLUMNS)}) {sql}", params)
    rolled = time.perf_counter()
    fill_hours(cur, template_id)
    check_sample(cur, template_id, until_ms, days, layout, min(SAMPLE, count))
    cur.execute("ANALYZE TABLE analytics_session_fact, analytics_rollup")
    cur.fetchall()
    cur.execute("SELECT grain, COUNT(*) FROM analytics_rollup WHERE template_id = %s GROUP BY grain", [template_id])
    rows = dict(cur.fetchall())
    conn.close()
    print(f"loaded {count:,} fact rows: rows generated by the sink's fact_row in {written - t0:.0f} s ({c1 - c0:.0f} s CPU), "
          f"LOAD DATA {loaded - written:.0f} s, covering index {indexed - loaded:.0f} s; rollups by INSERT … SELECT "
          f"{rolled - indexed:.0f} s: {rows.get('h', 0):,} hour rows, {rows.get('d', 0):,} day rows")


def bump_all_days(cur: Any, template_id: int) -> None:
    """The load rewrote every day: each day's version goes up (the columnar replica's files of the old rows are then
    stale, never read), and days the load added start at 1. What every writer of the fact table does."""
    from analytics.replica.versions import backfill_sql

    cur.execute("UPDATE analytics_fact_days SET version = version + 1 WHERE template_id = %s", [template_id])
    cur.execute(backfill_sql("mysql", f"WHERE template_id = {int(template_id)}"))


def fill_hours(cur: Any, template_id: int) -> None:
    """The hours-of-day rollups from the hour rows (migration 0004's statement, with the open sessions), the
    histogram span (migration 0005's) and the day rows without conclusion (0006's); their total must equal the day
    rows'."""
    from analytics.rollups import span
    from analytics.rollups.sql import RollupSQL

    started = time.perf_counter()
    cur.execute("DELETE FROM analytics_rollup_hours WHERE template_id = %s", [template_id])
    cur.execute(RollupSQL("mysql").hours_from_hour_rows(template=True), ["h", template_id])
    span.fill(cur, RollupSQL("mysql"), template_id)
    cur.execute("SELECT COUNT(*), SUM(sessions) FROM analytics_rollup_hours WHERE template_id = %s", [template_id])
    rows, sessions = cur.fetchone()
    cur.execute("SELECT SUM(sessions) FROM analytics_rollup WHERE template_id = %s AND grain = 'd'", [template_id])
    assert sessions == cur.fetchone()[0], "the hours-of-day rows hold every session of the day rows"
    cur.execute("DELETE FROM analytics_rollup_days WHERE template_id = %s", [template_id])
    cur.execute(RollupSQL("mysql").days_from_hours_rows(template=True), [template_id])  # migration 0006's statement
    for table in ("analytics_rollup_hours", "analytics_rollup_days"):
        cur.execute(f"ANALYZE TABLE {table}")
        cur.fetchall()
    print(f"hours-of-day rollups from the hour rows: {rows:,} rows, {int(sessions):,} sessions, {time.perf_counter() - started:.1f} s")


def check_sample(cur: Any, template_id: int, until_ms: int, days: int, layout: str, sample: int) -> None:
    """The INSERT … SELECT's rows equal the sink's contribution code over the first `sample` sessions (documents()
    is deterministic: a load of fewer than SAMPLE sessions holds only that many of them)."""
    from analytics.rollups.contribution import DeltaBatch, facts_of

    batch = DeltaBatch()
    for doc in documents(sample, days, until_ms):
        batch.move(None, facts_of(doc, DIMENSIONS))
    for grain in ("h", "d"):
        expected = {(k.bucket_ms, k.status, k.conclusion, k.severity, *k.values): d.row() for k, d in batch.nonzero() if k.grain == grain}
        sql, params = rollup_select(template_id, grain, layout, f"AND session_id < {FIRST_UID + sample}")
        cur.execute(sql, params)
        got = {tuple(r[3:10]): tuple(int(x) for x in r[10:]) for r in cur.fetchall()}
        assert got == expected, f"INSERT … SELECT differs from the contribution code ({grain})"
    print(f"rollups by INSERT … SELECT equal the contribution code on the first {sample:,} sessions (hour and day rows)")


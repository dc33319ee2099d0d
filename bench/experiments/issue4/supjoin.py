"""Supplements in SQL: one LEFT OUTER interval join per supplement node (supplement side preserved):
supplement ⋈ baseline ON join value AND s.ts ∈ [b.ts + lower, b.ts + upper]. Matched rows get the baseline's
session key (and baseline time `b_ts`); unmatched ones surface as orphans (NULL key) once the watermark passes."""
import sys
sys.path.insert(0, "/tmp/perf")
from sqlparse import TPL
sys.path.insert(0, "/work/main")
from jobs.sessionize.logic.durations import parse_duration_ms


def iv(ms):
    """Interval literal: 'N' SECOND with N > 99 fails (precision 2) and SECOND(9) is unsupported: use DAY TO SECOND."""
    s = ms // 1000
    return f"INTERVAL '{s // 86400} {s % 86400 // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}' DAY TO SECOND"


def register(tenv, tpl=TPL, dedup=False):
    tenv.execute_sql("CREATE TEMPORARY VIEW baseline AS SELECT * FROM events WHERE skey IS NOT NULL")
    parts = []
    for n in tpl["nodes"]:
        if not n.get("join"):
            continue
        lo, up = parse_duration_ms(n["join"]["lower"]), parse_duration_ms(n["join"]["upper"])
        # s.ts in [b.ts+lo, b.ts+up]  <=>  b.rt in [s.rt - up, s.rt - lo]
        parts.append(f"""SELECT s.src, s.node, b.skey, s.jkey, s.ts_ms, s.line, s.rt, b.ts_ms AS b_ts
FROM (SELECT * FROM events WHERE node = '{n['name']}') s
LEFT JOIN baseline b ON s.jkey = b.jkey
 AND b.rt BETWEEN s.rt - {iv(up)} AND s.rt + {iv(-lo)}""")
    tenv.execute_sql("CREATE TEMPORARY VIEW supp_joined AS " + "\nUNION ALL\n".join(parts))
    inner = [p.replace("SELECT s.src, s.node, b.skey", "SELECT s.src, s.node, s.jkey AS sj, b.skey, b.rt AS brt").replace("LEFT JOIN", "JOIN") for p in parts]
    tenv.execute_sql("CREATE TEMPORARY VIEW supp_inner_raw AS " + "\nUNION ALL\n".join(inner))
    tenv.execute_sql("""CREATE TEMPORARY VIEW correlatable AS
SELECT src, node, skey, jkey, ts_ms, line, rt, ts_ms AS b_ts FROM baseline
UNION ALL
SELECT src, node, skey, jkey, ts_ms, line, rt, b_ts FROM supp_joined WHERE skey IS NOT NULL""")
    tenv.execute_sql("CREATE TEMPORARY VIEW orphans AS SELECT src, jkey, line FROM supp_joined WHERE skey IS NULL")


def register_windowed(tenv):
    """`correlatable_b`: like `correlatable` but with `wrt` = the BASELINE event's rowtime for supplements, so a
    supplement never stretches a session window's gap."""
    tenv.execute_sql("""CREATE TEMPORARY VIEW correlatable_b AS
SELECT src, node, skey, jkey, ts_ms, line, rt AS wrt FROM baseline
UNION ALL
SELECT src, node, skey, jkey, ts_ms, line, brt AS wrt FROM supp_inner_raw""")

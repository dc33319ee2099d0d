"""Exp 1: SQL-only parsing ceiling. Raw lines → computed columns (time/key/join/node) + WATERMARK → UNION ALL →
good rows to blackhole (or CSV for --verify), bad rows to a side table in the SAME statement set.
usage: exp1_sql_parse.py DATA_DIR [--verify OUT_DIR] [-p N]"""
import sys, time, argparse
sys.path.insert(0, "/tmp/perf")
import sqlparse
ap = argparse.ArgumentParser(); ap.add_argument("data"); ap.add_argument("--verify"); ap.add_argument("-p", type=int, default=1)
a = ap.parse_args()
t0 = time.perf_counter()
env, tenv = sqlparse.make_tenv(a.p)
sqlparse.register(tenv, a.data)
if a.verify:
    tenv.execute_sql(f"""CREATE TEMPORARY TABLE out_all (src STRING, h STRING, reason STRING, ts_ms BIGINT, skey STRING, jkey STRING, node STRING)
      WITH ('connector'='filesystem','path'='{a.verify}','format'='csv')""")
    ss = tenv.create_statement_set()
    ss.add_insert_sql("INSERT INTO out_all SELECT src, MD5(line), reason, ts_ms, skey, jkey, node FROM classified")
else:
    tenv.execute_sql("CREATE TEMPORARY TABLE good (src STRING, node STRING, skey STRING, jkey STRING, ts_ms BIGINT, rt TIMESTAMP_LTZ(3), line STRING) WITH ('connector'='blackhole')")
    tenv.execute_sql("CREATE TEMPORARY TABLE bad (src STRING, reason STRING, line STRING) WITH ('connector'='blackhole')")
    ss = tenv.create_statement_set()
    ss.add_insert_sql("INSERT INTO good SELECT * FROM events")
    ss.add_insert_sql("INSERT INTO bad SELECT * FROM rejects")
t1 = time.perf_counter()
ss.execute().wait()
t2 = time.perf_counter()
print(f"RESULT exp1 data={a.data} p={a.p} setup={t1-t0:.1f}s run={t2-t1:.1f}s total={t2-t0:.1f}s")

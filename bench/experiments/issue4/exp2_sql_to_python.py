"""Exp 2: SQL-parsed narrow rows (+ SQL interval join giving supplements their session key) → to_data_stream
(rowtime kept) → key_by(session key) → Python KeyedProcessFunction running the real SessionKeyState → discard.
usage: exp2_sql_to_python.py DATA_DIR [--heap] [--no-timeout] [--bundle N]"""
import sys, time, argparse
sys.path.insert(0, "/tmp/perf")
import sqlparse, supjoin
ap = argparse.ArgumentParser(); ap.add_argument("data"); ap.add_argument("--heap", action="store_true")
ap.add_argument("--no-timeout", action="store_true"); ap.add_argument("--bundle", type=int); ap.add_argument("--name", default="exp2")
a = ap.parse_args()
t0 = time.perf_counter()
extra = {"python.fn-execution.bundle.size": a.bundle} if a.bundle else {}
env, tenv = sqlparse.make_tenv(1, extra)
sqlparse.register(tenv, a.data)
supjoin.register(tenv)   # view `correlatable`: baseline + matched supplements (session key), `orphans`
from pyside import Correlate
from pyflink.common.typeinfo import Types
t = tenv.sql_query("SELECT src, node, skey, jkey, ts_ms, line, rt FROM correlatable")
ds = tenv.to_data_stream(t)
ds.key_by(lambda r: r[2], key_type=Types.STRING()).process(Correlate(a.name, heap=a.heap, timeout=not a.no_timeout)).name("correlate")
tenv.execute_sql("CREATE TEMPORARY TABLE orphan_sink (src STRING, jkey STRING, line STRING) WITH ('connector'='blackhole')")
tenv.execute_sql("CREATE TEMPORARY TABLE bad (src STRING, reason STRING, line STRING) WITH ('connector'='blackhole')")
ss = tenv.create_statement_set()
ss.add_insert_sql("INSERT INTO orphan_sink SELECT src, jkey, line FROM orphans")
ss.add_insert_sql("INSERT INTO bad SELECT * FROM rejects")
ss.attach_as_datastream()
t1 = time.perf_counter()
env.execute(a.name)
t2 = time.perf_counter()
print(f"RESULT {a.name} data={a.data} heap={a.heap} setup={t1-t0:.1f}s run={t2-t1:.1f}s total={t2-t0:.1f}s")

"""Exp 3a: SQL SESSION window TVF (gap 20m + 1 ms, partition by session key, rowtime = baseline time) with LISTAGG
of the session's lines → to_data_stream → Python called ONCE per closed session: builds Events, runs the real
SessionKeyState (add all, close) → Emission. usage: exp3a_session_tvf.py DATA_DIR"""
import sys, time, argparse
sys.path.insert(0, "/tmp/perf")
import sqlparse, supjoin
ap = argparse.ArgumentParser(); ap.add_argument("data"); ap.add_argument("--name", default="exp3a"); ap.add_argument("--sqlonly", action="store_true")
a = ap.parse_args()
t0 = time.perf_counter()
env, tenv = sqlparse.make_tenv(1)
sqlparse.register(tenv, a.data)
supjoin.register(tenv)
supjoin.register_windowed(tenv)
SEP1, SEP2 = "\u0001", "\n"   # raw newlines / control chars cannot occur inside a valid JSON line
win = tenv.sql_query(f"""
SELECT skey, window_start, window_end, COUNT(*) AS n,
  LISTAGG(CONCAT_WS('{SEP1}', src, node, CAST(ts_ms AS STRING), COALESCE(jkey, ''), line), '{SEP2}') AS lines
FROM TABLE(SESSION(TABLE correlatable_b PARTITION BY skey, DESCRIPTOR(wrt), INTERVAL '1200.001' SECOND(4, 3)))
GROUP BY skey, window_start, window_end""")
tenv.create_temporary_view("win", win)
tenv.execute_sql("CREATE TEMPORARY TABLE bad (src STRING, reason STRING, line STRING) WITH ('connector'='blackhole')")
ss = tenv.create_statement_set()
ss.add_insert_sql("INSERT INTO bad SELECT * FROM rejects")
if a.sqlonly:
    tenv.execute_sql("CREATE TEMPORARY TABLE wsink (skey STRING, n BIGINT, lines STRING) WITH ('connector'='blackhole')")
    ss.add_insert_sql("INSERT INTO wsink SELECT skey, n, lines FROM win")
else:
    from pyflink.datastream import FlatMapFunction
    from pyflink.common.typeinfo import Types
    import pyside

    class PerSession(FlatMapFunction):
        def open(self, ctx):
            from jobs.sessionize.logic.template import compile_template
            self.tpl = compile_template(pyside.TPL_DOC); self.counts = pyside.Counts(a.name)

        def flat_map(self, row):
            skey, n, lines = row[0], row[3], row[4]
            st = pyside.SessionKeyState(skey)
            outs = []
            for item in lines.split(SEP2):
                src, node, ts, jkey, line = item.split(SEP1, 4)
                ev = pyside.make_event(self.tpl, src, node, int(ts), skey, jkey or None, line)
                outs += st.add(self.tpl, ev, -2**62)
            outs += st.on_watermark(self.tpl, 2**62)
            self.counts.add("sessions"); self.counts.add("events", n)
            for o in outs:
                self.counts.add(type(o).__name__)
            return []

        def close(self):
            self.counts.dump()

    ds = tenv.to_data_stream(tenv.from_path("win"))
    ds.flat_map(PerSession(), output_type=Types.PICKLED_BYTE_ARRAY()).name("per-session")
ss.attach_as_datastream()
t1 = time.perf_counter()
env.execute(a.name)
t2 = time.perf_counter()
print(f"RESULT {a.name} data={a.data} setup={t1-t0:.1f}s run={t2-t1:.1f}s total={t2-t0:.1f}s")

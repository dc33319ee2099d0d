"""Exp 4: cost of crossing into Python per row (thread mode). All variants get the same narrow SQL-parsed rows:
baseline events (sqlparse `events` view, skey NOT NULL) as (src, node, skey, jkey, ts_ms, line, rt) via
to_data_stream (rowtime kept), plus the rejects → blackhole side insert, in one job.
  sql  : no Python; the same rows INSERTed into a blackhole (SQL-side reference)
  v0   : non-keyed Python flat_map yielding nothing
  v1   : key_by(skey) → KeyedProcessFunction, no state, no timers
  v1j  : like v1 but keyed in Java (no Python AddKey operator): to_append_stream of (skey, ROW(...)) + KeyByKeySelector
  v2   : v1 + ValueState get + update (small int) per row
  v3   : v1 + ListState.add(small tuple) per row + proc-time timer at next 200 ms boundary; on_timer get + clear
  v4   : v3 but the list holds (src, node, ts, jkey, line) and on_timer applies the batch to the real SessionKeyState
         (pickled ValueState) and registers its event-time timer (no per-row timeout timer)
  v5   : exp2's Correlate as is (per-row real state, event + proc-time timers)
usage: exp4_crossing.py VARIANT DATA_DIR [--p N] [--bundle N] [--bundle-ms N] [--name X]
Counters go to /tmp/perf2/counts_<name>_<pid>.json (one line per Python operator instance, written at close)."""
import sys, time, argparse, json, os
sys.path.insert(0, "/tmp/perf2")
import sqlparse

COUNTS_DIR = "/tmp/perf2"
ap = argparse.ArgumentParser()
ap.add_argument("variant"); ap.add_argument("data")
ap.add_argument("--p", type=int, default=1); ap.add_argument("--bundle", type=int); ap.add_argument("--bundle-ms", type=int)
ap.add_argument("--name")
a = ap.parse_args()
name = a.name or f"{a.variant}_{os.path.basename(a.data)}_p{a.p}"

from pyflink.common.typeinfo import Types
from pyflink.datastream import FlatMapFunction, KeyedProcessFunction, TimeDomain
from pyflink.datastream.state import ValueStateDescriptor, ListStateDescriptor

BATCH_MS = 200


class V0(FlatMapFunction):
    def __init__(self, name): self.name = name
    def open(self, ctx): self.n = 0
    def flat_map(self, row):
        self.n += 1
        return ()
    def close(self): _dump(self.name, {"in": self.n})


def _dump(name, c):
    with open(f"{COUNTS_DIR}/counts_{name}_{os.getpid()}.json", "a") as f:
        f.write(json.dumps(c) + "\n")


class V1(KeyedProcessFunction):
    def __init__(self, name): self.name = name
    def open(self, ctx): self.n = 0
    def process_element(self, row, ctx):
        self.n += 1
        return ()
    def close(self): _dump(self.name, {"in": self.n})


class V2(KeyedProcessFunction):
    def __init__(self, name): self.name = name
    def open(self, ctx):
        self.n = 0
        self.st = ctx.get_state(ValueStateDescriptor("c", Types.INT()))
    def process_element(self, row, ctx):
        self.n += 1
        v = self.st.value()
        self.st.update((v or 0) + 1)
        return ()
    def close(self): _dump(self.name, {"in": self.n})


class V3(KeyedProcessFunction):
    def __init__(self, name): self.name = name
    def open(self, ctx):
        self.n = self.fires = self.drained = 0
        self.buf = ctx.get_list_state(ListStateDescriptor("b", Types.PICKLED_BYTE_ARRAY()))
    def process_element(self, row, ctx):
        self.n += 1
        self.buf.add((row[4], row[1]))
        now = ctx.timer_service().current_processing_time()
        ctx.timer_service().register_processing_time_timer(now // BATCH_MS * BATCH_MS + BATCH_MS)
        return ()
    def on_timer(self, ts, ctx):
        items = list(self.buf.get())
        self.buf.clear()
        self.fires += 1
        self.drained += len(items)
        return ()
    def close(self): _dump(self.name, {"in": self.n, "fires": self.fires, "drained": self.drained})


class V4(KeyedProcessFunction):
    """Deferred batch: buffer per key in ListState, apply the batch to SessionKeyState at the 200 ms timer."""
    def __init__(self, name): self.name = name
    def open(self, ctx):
        sys.path.insert(0, "/tmp/perf2"); sys.path.insert(0, "/work/main")
        from pyside import TPL_DOC, make_event
        from jobs.sessionize.logic.template import compile_template
        from jobs.sessionize.logic.sessions import SessionKeyState
        self.make_event, self.SKS = make_event, SessionKeyState
        self.tpl = compile_template(TPL_DOC)
        self.n = self.fires = self.drained = self.efires = self.outs = 0
        self.buf = ctx.get_list_state(ListStateDescriptor("b", Types.PICKLED_BYTE_ARRAY()))
        self.state = ctx.get_state(ValueStateDescriptor("s", Types.PICKLED_BYTE_ARRAY()))
    def process_element(self, row, ctx):
        self.n += 1
        self.buf.add((row[0], row[1], row[4], row[3], row[5]))
        now = ctx.timer_service().current_processing_time()
        ctx.timer_service().register_processing_time_timer(now // BATCH_MS * BATCH_MS + BATCH_MS)
        return ()
    def on_timer(self, ts, ctx):
        make_event, SessionKeyState = self.make_event, self.SKS
        key = ctx.get_current_key()
        wm = ctx.timer_service().current_watermark()
        if ctx.time_domain() == TimeDomain.PROCESSING_TIME:
            items = list(self.buf.get())
            self.buf.clear()
            self.fires += 1
            if not items:
                return ()
            self.drained += len(items)
            st = self.state.value() or SessionKeyState(key)
            for src, node, t, jkey, line in items:
                self.outs += len(st.add(self.tpl, make_event(self.tpl, src, node, t, key, jkey, line), wm))
        else:
            self.efires += 1
            st = self.state.value()
            if st is None:
                return ()
            self.outs += len(st.on_watermark(self.tpl, wm))
        if st.is_empty():
            self.state.clear()
            return ()
        self.state.update(st)
        due = st.next_event_timer(self.tpl)
        if due is not None:
            ctx.timer_service().register_event_time_timer(due)
        return ()
    def close(self):
        _dump(self.name, {"in": self.n, "fires": self.fires, "drained": self.drained, "efires": self.efires, "outs": self.outs})


def tree_cpu():
    """CPU seconds (user+sys) used so far by this process's descendants (the gateway JVM running the mini-cluster
    and the embedded Python): robust against other people's jobs sharing the 2 cores, unlike wall time."""
    kids, stat = {}, {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                f = open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            kids.setdefault(int(f[1]), []).append(int(d)); stat[int(d)] = (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
    tot, todo = 0.0, list(kids.get(os.getpid(), []))
    while todo:
        p = todo.pop(); tot += stat.get(p, 0); todo += kids.get(p, [])
    return tot


def descendants():
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                kids.setdefault(int(open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()[1]), []).append(int(d))
            except OSError:
                pass
    out, todo = [], list(kids.get(os.getpid(), []))
    while todo:
        p = todo.pop(); out.append(p); todo += kids.get(p, [])
    return out


class ThreadSampler:
    """Polls per-thread CPU (user+sys) of the gateway JVM every 0.3 s; keeps the last value per thread id, so
    threads that end are still counted (≤ 0.3 s lost). Task threads carry the operator chain's name (15 chars)."""
    def __init__(self):
        import threading
        self.last, self.stop = {}, False
        self.pids = descendants()
        self.t = threading.Thread(target=self.run, daemon=True); self.t.start()

    def sample(self):
        tick = os.sysconf("SC_CLK_TCK")
        for pid in self.pids:
            try:
                tids = os.listdir(f"/proc/{pid}/task")
            except OSError:
                continue
            for tid in tids:
                try:
                    raw = open(f"/proc/{pid}/task/{tid}/stat").read()
                except OSError:
                    continue
                comm = raw[raw.index("(") + 1:raw.rindex(")")]
                f = raw.rsplit(")", 1)[1].split()
                self.last[(pid, tid)] = (comm, (int(f[11]) + int(f[12])) / tick)

    def run(self):
        while not self.stop:
            self.sample(); time.sleep(0.3)

    def start_mark(self):
        self.sample(); self.base = dict(self.last)

    def report(self):
        self.stop = True; self.t.join(); self.sample()
        by = {}
        for k, (comm, c) in self.last.items():
            c -= self.base.get(k, (comm, 0.0))[1]
            if c >= 0.3:
                by[comm] = by.get(comm, 0.0) + c
        return dict(sorted(by.items(), key=lambda kv: -kv[1]))


def main():
    t0 = time.perf_counter()
    extra = {}
    if a.bundle: extra["python.fn-execution.bundle.size"] = a.bundle
    if a.bundle_ms: extra["python.fn-execution.bundle.time"] = a.bundle_ms
    env, tenv = sqlparse.make_tenv(a.p, extra)
    sqlparse.register(tenv, a.data)
    tenv.execute_sql("CREATE TEMPORARY VIEW baseline AS SELECT * FROM events WHERE skey IS NOT NULL")
    tenv.execute_sql("CREATE TEMPORARY TABLE bad (src STRING, reason STRING, line STRING) WITH ('connector'='blackhole')")
    ss = tenv.create_statement_set()
    ss.add_insert_sql("INSERT INTO bad SELECT * FROM rejects")
    cols = "src, node, skey, jkey, ts_ms, line, rt"
    v = a.variant
    if v == "sql":
        tenv.execute_sql("CREATE TEMPORARY TABLE hole (src STRING, node STRING, skey STRING, jkey STRING, ts_ms BIGINT, line STRING, rt TIMESTAMP_LTZ(3)) WITH ('connector'='blackhole')")
        ss.add_insert_sql(f"INSERT INTO hole SELECT {cols} FROM baseline")
        ss.attach_as_datastream()
    elif v == "v1j":
        from pyflink.java_gateway import get_gateway
        from pyflink.datastream.data_stream import KeyedStream
        row_t = Types.ROW_NAMED(["src", "node", "skey", "jkey", "ts_ms", "line"],
                                [Types.STRING()] * 4 + [Types.LONG(), Types.STRING()])
        t = tenv.sql_query("SELECT skey AS k, ROW(src, node, skey, jkey, ts_ms, line) AS v FROM baseline")
        ds = tenv.to_append_stream(t, Types.ROW_NAMED(["k", "v"], [Types.STRING(), row_t]))
        g = get_gateway()
        ks = KeyedStream(ds._j_data_stream.keyBy(g.jvm.KeyByKeySelector(), Types.ROW([Types.STRING()]).get_java_type_info()),
                         row_t, ds)
        ks.process(V1(name)).name("v1j")
        ss.attach_as_datastream()
    else:
        ds = tenv.to_data_stream(tenv.sql_query(f"SELECT {cols} FROM baseline"))
        if v == "v0":
            ds.flat_map(V0(name)).name("v0")
        else:
            ks = ds.key_by(lambda r: r[2], key_type=Types.STRING())
            if v == "v5":
                sys.path.insert(0, "/tmp/perf2")
                import pyside  # /tmp/perf2 copy: counts go to /tmp/perf2
                fn = pyside.Correlate(name)
            else:
                fn = {"v1": V1, "v2": V2, "v3": V3, "v4": V4}[v](name)
            ks.process(fn).name(v)
        ss.attach_as_datastream()
    l0 = os.getloadavg()[0]
    ts = ThreadSampler(); ts.start_mark()
    c1, t1 = tree_cpu(), time.perf_counter()
    env.execute(name)
    t2, c2 = time.perf_counter(), tree_cpu()
    print("THREADS " + json.dumps({k: round(v, 1) for k, v in ts.report().items()}), flush=True)
    print(f"RESULT {name} variant={v} data={a.data} p={a.p} bundle={a.bundle} setup={t1-t0:.1f}s run={t2-t1:.1f}s "
          f"cpu={c2-c1:.1f}s total={t2-t0:.1f}s load={l0:.1f}->{os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    main()

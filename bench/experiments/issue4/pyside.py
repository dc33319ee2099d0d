"""Python side shared by exp2/exp3: Event from a SQL-parsed row (json.loads + field extraction only; time,
key, node come from SQL), and a KeyedProcessFunction running the real SessionKeyState."""
import sys, json, os
sys.path.insert(0, "/work/main")
from jobs.sessionize.logic.records import Event, dig, _scalar, line_uid
from jobs.sessionize.logic.sessions import SessionKeyState, Emission, Late, Orphan
from jobs.sessionize.logic.template import compile_template
from pyflink.common.typeinfo import Types
from pyflink.datastream import KeyedProcessFunction, TimeDomain
from pyflink.datastream.state import ValueStateDescriptor

TPL_DOC = json.load(open("/work/main/sessions/demo/mobile-pay.json"))


def make_event(tpl, src, node, ts, skey, jkey, line):
    text = line.strip()
    record = json.loads(text)
    source = tpl.sources[src]
    values = {a: _scalar(dig(record, p)) for a, p in source.fields.items()}
    values = {k: v for k, v in values.items() if v is not None}
    if tpl.nodes[node].join is not None:
        return Event(src, node, ts, None, jkey, {}, values, text, line_uid(src, text), "", True)
    joins = {n: str(values[n]) for n in tpl.join_fields if values.get(n) not in (None, "")}
    return Event(src, node, ts, skey, None, joins, values, text, line_uid(src, text), "", False)


class Counts:
    def __init__(self, name):
        self.name, self.c = name, {}

    def add(self, k, n=1):
        self.c[k] = self.c.get(k, 0) + n

    def dump(self):
        with open(f"/tmp/perf/counts_{self.name}_{os.getpid()}.json", "a") as f:
            f.write(json.dumps(self.c) + "\n")


class Correlate(KeyedProcessFunction):
    """Same adapter as jobs/sessionize/functions.CorrelateSessions; `heap=True` keeps the state in a Python dict
    (no Flink state, no pickling: lower bound of the state cost)."""

    def __init__(self, name, heap=False, timeout=True):
        self.name, self.heap, self.timeout = name, heap, timeout

    def open(self, ctx):
        self.tpl = compile_template(TPL_DOC)
        self.counts = Counts(self.name)
        if self.heap:
            self.mem = {}
        else:
            self.state = ctx.get_state(ValueStateDescriptor("s", Types.PICKLED_BYTE_ARRAY()))

    def _get(self, key):
        return self.mem.get(key) if self.heap else self.state.value()

    def _put(self, key, st):
        if self.heap:
            if st.is_empty(): self.mem.pop(key, None)
            else: self.mem[key] = st
        else:
            if st.is_empty(): self.state.clear()
            else: self.state.update(st)

    def process_element(self, row, ctx):
        src, node, skey, jkey, ts, line = row[0], row[1], row[2], row[3], row[4], row[5]
        ev = make_event(self.tpl, src, node, ts, skey, jkey, line)
        st = self._get(skey) or SessionKeyState(skey)
        self.counts.add("in")
        self._count(st.add(self.tpl, ev, ctx.timer_service().current_watermark()))
        self._save(skey, st, ctx, True)
        return []

    def on_timer(self, ts, ctx):
        key = ctx.get_current_key()
        st = self._get(key)
        if st is None:
            return []
        wm = ctx.timer_service().current_watermark()
        if ctx.time_domain() == TimeDomain.PROCESSING_TIME:
            self._count(st.on_timeout(self.tpl, wm))
        else:
            self._count(st.on_watermark(self.tpl, wm))
        self._save(key, st, ctx, False)
        return []

    def _count(self, outs):
        for o in outs:
            self.counts.add(type(o).__name__)
            if isinstance(o, Emission):
                self.counts.add("status:" + o.document["status"] + (":closed" if o.document["status"] != "open" else ""))

    def _save(self, key, st, ctx, arm):
        self._put(key, st)
        if st.is_empty():
            return
        due = st.next_event_timer(self.tpl)
        if due is not None:
            ctx.timer_service().register_event_time_timer(due)
        if arm and self.timeout:
            now = ctx.timer_service().current_processing_time()
            ctx.timer_service().register_processing_time_timer((now + self.tpl.timeout_ms) // 1000 * 1000 + 1000)

    def close(self):
        self.counts.dump()

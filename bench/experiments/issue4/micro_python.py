"""Pure-Python cost per event of each stage of the real logic (no Flink): parse_line, json.loads,
SessionKeyState.add (per event, as the job does) vs. per-key batches (add all of a session's events, emit once)."""
import sys, json, time, glob, heapq
sys.path.insert(0, "/work/main")
from jobs.sessionize.logic.template import compile_template
from jobs.sessionize.logic.records import parse_line, Event
from jobs.sessionize.logic.sessions import SessionKeyState
from jobs.sessionize.logic import sessions as S
from jobs.sessionize.logic.engine import Correlator

data = sys.argv[1] if len(sys.argv) > 1 else "/tmp/perf/data/mobile-pay"
tpl = compile_template(json.load(open("/work/main/sessions/demo/mobile-pay.json")))
lines = []
for src in ("billing", "client", "channel", "gamesvr"):
    for f in glob.glob(f"{data}/{src}/*.jsonl"):
        lines += [(src, l) for l in open(f, encoding="utf-8", errors="surrogateescape").read().split("\n") if l]
N = len(lines)
t = time.perf_counter(); [json.loads(l) if l.startswith("{") and l.endswith("}") else None for _, l in lines[:0]]
t = time.perf_counter()
for s, l in lines:
    try: json.loads(l)
    except ValueError: pass
print(f"json.loads only      : {(time.perf_counter()-t)/N*1e6:6.1f} µs/line")
t = time.perf_counter(); parsed = [parse_line(tpl, s, l) for s, l in lines]; dt = time.perf_counter()-t
print(f"parse_line           : {dt/N*1e6:6.1f} µs/line  ({N} lines)")
events = sorted([e for e in parsed if isinstance(e, Event)], key=lambda e: e.ts)
base = [e for e in events if not e.supplement]
print(f"events {len(events)}, baseline {len(base)}")
# per-event add, watermark = ts - 30s (in time order) -- baseline only (supplement routing excluded)
keys = {}
t = time.perf_counter(); n_emit = 0
for e in base:
    st = keys.get(e.session_key)
    if st is None: st = keys[e.session_key] = SessionKeyState(e.session_key)
    n_emit += len(st.add(tpl, e, e.ts - 30000))
dt = time.perf_counter()-t
print(f"SessionKeyState.add per event (baseline only, no timers): {dt/len(base)*1e6:6.1f} µs/event, emissions {n_emit}")
t = time.perf_counter(); n2 = 0
for st in keys.values(): n2 += len(st.on_watermark(tpl, 2**62))
dt2 = time.perf_counter()-t
print(f"  + close all at end: {dt2/len(base)*1e6:6.1f} µs/event, emissions {n2}")
# full engine (reference)
c = Correlator(tpl)
t = time.perf_counter(); c.feed_lines(lines); c.finish(); dt = time.perf_counter()-t
print(f"full Correlator (parse+route+sessions+timers): {dt/N*1e6:6.1f} µs/line = {N/dt:,.0f} lines/s; sessions {len(c.store)}")
import cProfile, pstats
c = Correlator(tpl)
cProfile.run("c.feed_lines(lines[:150000]); c.finish()", "/tmp/perf/engine.prof")
pstats.Stats("/tmp/perf/engine.prof").sort_stats("tottime").print_stats(18)

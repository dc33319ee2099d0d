"""Builds the CROSSING.md table from /tmp/perf2/results.txt (RESULT + THREADS lines of exp4_crossing.py, last one
per run name wins) and /tmp/perf2/counts_*.json (Python-side counters, summed over operator instances)."""
import glob, json, re, sys
from collections import defaultdict

D = "/tmp/perf2"
runs = {}
for line in open(f"{D}/results.txt"):
    m = re.search(r"RESULT (\S+) variant=(\S+) .*?p=(\d+) .*?setup=([\d.]+)s run=([\d.]+)s cpu=([\d.]+)s .*?load=([\d.]+)->([\d.]+)", line)
    if not m:
        continue
    th = re.search(r"THREADS (\{.*?\})", line)
    runs[m.group(1)] = dict(variant=m.group(2), p=int(m.group(3)), setup=float(m.group(4)), run=float(m.group(5)),
                            cpu=float(m.group(6)), load=(float(m.group(7)) + float(m.group(8))) / 2,
                            threads=json.loads(th.group(1)) if th else {})
counts = defaultdict(lambda: defaultdict(int))
for f in glob.glob(f"{D}/counts_*.json"):
    name = re.match(r".*/counts_(.*)_\d+\.json", f).group(1)
    for line in open(f):
        for k, v in json.loads(line).items():
            counts[name][k] += v

PY = re.compile(r"^(v\d\w* \(|ConstraintEnfor|v\d)")  # KPF / flat_map / AddKey-chain thread names


def label(v, p):
    return "v6 (v4, p=2)" if v == "v4" and p == 2 else v


rows = []
for v, p in [("sql", 1), ("v0", 1), ("v1", 1), ("v1j", 1), ("v2", 1), ("v3", 1), ("v4", 1), ("v5", 1), ("v4", 2)]:
    pre = "v6" if p == 2 else v
    r20, r170 = runs.get(f"{pre}_data_20000_p{p}"), runs.get(f"{pre}_data_170000_p{p}")
    c20, c170 = counts.get(f"{pre}_data_20000_p{p}", {}), counts.get(f"{pre}_data_170000_p{p}", {})
    n20 = c20.get("in", 77276 if v == "sql" else None)
    n170 = c170.get("in", 656553 if v == "sql" else None)
    steady = (n170 - n20) / (r170["run"] - r20["run"]) if r20 and r170 and n20 and n170 else None
    # CPU of all JVM threads, 20k→170k difference (JIT warm-up mostly cancels): µs per Python row, and the rate two
    # idle cores could sustain if the threads overlapped perfectly (upper bound; the machine was shared)
    dcpu = (r170["cpu"] - r20["cpu"]) if r20 and r170 else None
    cpu_us = dcpu / (n170 - n20) * 1e6 if dcpu and n20 and n170 else None
    batch = f"{c170['drained'] / c170['fires']:.2f} ({c170['fires']:,} fires, {c170['drained']:,} drained)" if c170.get("fires") else "–"
    th = r170["threads"] if r170 else {}
    py = {k: t for k, t in th.items() if not k.startswith(("Source", "C1 ", "C2 ", "Thread-", "SinkConv", "GC", "VM "))}
    pyus = " + ".join(f"{k.strip()} {t / n170 * 1e6:.1f}" for k, t in py.items()) if n170 and py else "–"
    rows.append((label(v, p), n170, r20 and r20["run"], r170 and r170["run"], steady,
                 f"{r20['cpu']:.0f} → {r170['cpu']:.0f} ({cpu_us:.0f} µs/row, ≤{2e6 / cpu_us:,.0f}/s)" if cpu_us else "–",
                 pyus, batch, f"{r20['load']:.0f} / {r170['load']:.0f}" if r20 and r170 else "–"))

print("| variant | rows into Python (20k / 170k) | run s @20k | run s @170k | steady rows/s (Δrows/Δrun) | "
      "JVM CPU s 20k → 170k (Δ per row, 2-core bound) | non-source task threads @170k, CPU µs/row | mean batch @170k | load avg |")
print("|---|---|---|---|---|---|---|---|---|")
for lab, n170, a, b, s, cpu, pyus, batch, load in rows:
    n20 = counts.get(f"{'v6' if lab.startswith('v6') else lab}_data_20000_p{2 if lab.startswith('v6') else 1}", {}).get("in")
    print(f"| {lab} | {n20 or '–'} / {n170 or '–'} | {a or '–'} | {b or '–'} | {f'{s:,.0f}' if s else '–'} | {cpu or '–'} | {pyus} | {batch} | {load or '–'} |")
print()
for name, r in sorted(runs.items()):
    print(name, r["run"], r["threads"], dict(counts.get(name, {})))

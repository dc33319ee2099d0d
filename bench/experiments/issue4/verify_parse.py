"""Compare the SQL classification (exp1 --verify CSV) with records.parse_line on every line."""
import sys, csv, glob, hashlib, json, collections
sys.path.insert(0, "/work/main")
from jobs.sessionize.logic.template import compile_template
from jobs.sessionize.logic.records import parse_line, Event, Rejection, Ignored
data, out = sys.argv[1], sys.argv[2]
tpl = compile_template(json.load(open("/work/main/sessions/demo/mobile-pay.json")))
ref = collections.Counter(); refrow = {}
for src in ("billing", "client", "channel", "gamesvr"):
    for f in glob.glob(f"{data}/mobile-pay/{src}/*.jsonl"):
        raw = open(f, "rb").read().split(b"\n")
        if raw and raw[-1] == b"": raw.pop()
        for b in raw:
            line = b.decode("utf-8", errors="replace")  # Java's decoder replaces bad bytes too
            p = parse_line(tpl, src, line)
            h = hashlib.md5(line.encode()).hexdigest()
            if isinstance(p, Event):
                row = ("EVENT", str(p.ts), p.session_key or "", (p.join_key if p.supplement else p.joins.get("trans_id")) or "", p.node)
            elif isinstance(p, Ignored):
                row = ("IGNORED", "", "", "", "")
            else:
                row = ("REJECT:" + p.reason.split(":")[0][:20], "", "", "", "")
            refrow[(src, h)] = row; ref[(src, h, row)] += 1
sql = collections.Counter(); kinds = collections.Counter()
for f in glob.glob(f"{out}/*"):
    for src, h, reason, ts, skey, jkey, node in csv.reader(open(f, encoding="utf-8")):
        if reason == "": row = ("EVENT", ts, skey, jkey, node)
        elif reason == "IGNORED": row = ("IGNORED", "", "", "", "")
        else: row = ("REJECT:" + reason, "", "", "", "")
        sql[(src, h, row)] += 1; kinds[(src, row[0][:6] if not row[0].startswith("REJECT") else row[0])] += 1
print("SQL rows:", sum(sql.values()), " Python lines:", sum(ref.values()))
for k, v in sorted(kinds.items()): print("  ", k, v)
mism = collections.Counter(); ex = {}
for (src, h, row), n in sql.items():
    r = refrow.get((src, h))
    if r is None: mism["missing in python"] += n; continue
    if r[0] == "EVENT" and row[0] == "EVENT":
        for i, name in ((1, "ts"), (2, "skey"), (3, "jkey"), (4, "node")):
            if r[i] != row[i]: mism[(src, name)] += n; ex.setdefault((src, name), (r, row))
    elif r[0].startswith("REJECT") and row[0].startswith("REJECT"):
        pass
    elif r[0] != row[0]:
        mism[(src, r[0], row[0])] += n; ex.setdefault((src, r[0], row[0]), (h, r, row))
lost = sum(ref.values()) - sum(sql.values())
print("count difference (python - sql):", lost)
print("mismatches:", dict(mism) or "none")
for k, v in ex.items(): print("  e.g.", k, v)

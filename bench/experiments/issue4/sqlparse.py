"""Template → Flink SQL: per-source raw filesystem tables whose computed columns extract the event time
(exact to the ms for epoch_ms / epoch_s / iso8601 / strftime+tz), session key, join key, node; a WATERMARK on
the computed rowtime; and a UNION ALL view `events` (good rows) + `rejects` (bad rows with reason).
Shared by the exp*.py scripts."""
import json

TPL = json.load(open("/work/main/sessions/demo/mobile-pay.json"))
MAX_ABS_MS = 253_402_300_800_000


def q(s):
    return "'" + s.replace("'", "''") + "'"


def jpath(dotted):
    return "$." + dotted  # simple dotted paths (no list indexes in the demo)


def time_expr(v, fmt, tz):
    """SQL BIGINT epoch-ms expression for string column expression `v`; NULL when Python would reject."""
    if fmt == "epoch_ms":
        d = f"TRY_CAST({v} AS DOUBLE)"
        return f"CASE WHEN ABS({d}) < {MAX_ABS_MS} THEN CAST({d} AS BIGINT) END"
    if fmt == "epoch_s":
        d = f"TRY_CAST({v} AS DOUBLE)"
        return f"CASE WHEN ABS({d} * 1000) < {MAX_ABS_MS} THEN CAST(ROUND({d} * 1000, 0) AS BIGINT) END"
    if fmt == "iso8601":
        re_ = r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})?$"
        default_off = tz or "Z"
        secs = (f"UNIX_TIMESTAMP(CONCAT(SUBSTR({v}, 1, 10), ' ', SUBSTR({v}, 12, 8), "
                f"COALESCE(REGEXP_EXTRACT({v}, {q(re_)}, 4), {q(default_off)})), 'yyyy-MM-dd HH:mm:ssXXX')")
        frac = f"COALESCE(CAST(RPAD(SUBSTR(REGEXP_EXTRACT({v}, {q(re_)}, 3), 2), 6, '0') AS BIGINT), 0)"
        return f"CASE WHEN REGEXP({v}, {q(re_)}) THEN {secs} * 1000 + ({frac} + 500) / 1000 END"
    # strftime: only the demo's '%Y-%m-%d %H:%M:%S.%f' (and without .%f) are translated here
    assert fmt in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S"), fmt
    off = tz or "Z"
    if fmt.endswith(".%f"):
        re_ = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{1,6}$"
        frac = f"CAST(RPAD(SUBSTR({v}, 21), 6, '0') AS BIGINT)"
    else:
        re_ = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"
        frac = "0"
    secs = f"UNIX_TIMESTAMP(CONCAT(SUBSTR({v}, 1, 19), {q(off)}), 'yyyy-MM-dd HH:mm:ssXXX')"
    return f"CASE WHEN REGEXP({v}, {q(re_)}) THEN {secs} * 1000 + ({frac} + 500) / 1000 END"


def node_expr(tpl, source, col):
    """CASE over the source's nodes in declaration order; only `field == 'literal'` rules are translated."""
    import re
    whens = []
    for n in tpl["nodes"]:
        if n["source"] != source["name"]:
            continue
        if not n.get("when"):
            whens.append(f"WHEN TRUE THEN {q(n['name'])}")
            break
        m = re.fullmatch(r"\s*(\w+)\s*==\s*'([^']*)'\s*", n["when"])
        assert m, n["when"]
        whens.append(f"WHEN {col(m.group(1))} = {q(m.group(2))} THEN {q(n['name'])}")
    return "CASE " + " ".join(whens) + " END"


def source_ddl(tpl, source, path, ooo_s=30, monitor=None):
    f = source["fields"]
    col = lambda alias: f"JSON_VALUE(line, {q(jpath(f[alias]))})"
    t = source["time"]
    key = tpl["session"]["key"]
    joins = {n["name"]: n["join"]["on"] for n in tpl["nodes"] if n.get("join")}
    sup_nodes = [n["name"] for n in tpl["nodes"] if n.get("join") and n["source"] == source["name"]]
    join_field = tpl["nodes"][[n["name"] for n in tpl["nodes"]].index(sup_nodes[0])]["join"]["on"] if sup_nodes else "trans_id"
    opts = {"connector": "filesystem", "path": path, "format": "raw", "raw.charset": "UTF-8"}
    if monitor:
        opts["source.monitor-interval"] = monitor
    w = ", ".join(f"{q(k)} = {q(v)}" for k, v in opts.items())
    skey = col(key) if key in f else "CAST(NULL AS STRING)"
    jkey = col(join_field) if join_field in f else "CAST(NULL AS STRING)"
    return f"""CREATE TEMPORARY TABLE src_{source['name']} (
  line STRING,
  ts_raw AS JSON_VALUE(line, {q(jpath(t['path']))}),
  ts_ms AS {time_expr(f"JSON_VALUE(line, {q(jpath(t['path']))})", t['format'], t.get('tz'))},
  rt AS TO_TIMESTAMP_LTZ(COALESCE({time_expr(f"JSON_VALUE(line, {q(jpath(t['path']))})", t['format'], t.get('tz'))}, 0), 3),
  node AS {node_expr(tpl, source, col)},
  skey AS {skey},
  jkey AS {jkey},
  WATERMARK FOR rt AS rt - INTERVAL '{ooo_s}' SECOND
) WITH ({w})"""


def classified_view(tpl, source):
    """Row per line: reason NULL = good event, 'IGNORED' = valid but no node, else the rejection reason
    (same order of checks as records.parse_line)."""
    s = source["name"]
    sup = any(n.get("join") and n["source"] == s for n in tpl["nodes"])
    key_check = ("WHEN jkey IS NULL OR jkey = '' THEN 'missing join field'" if sup
                 else "WHEN skey IS NULL OR skey = '' THEN 'missing session key'")
    return f"""SELECT {q(s)} AS src, node, {'CAST(NULL AS STRING)' if sup else 'skey'} AS skey, jkey, ts_ms, rt, line,
  CASE WHEN NOT (line IS JSON OBJECT) THEN 'bad JSON'
       WHEN ts_raw IS NULL THEN 'missing time'
       WHEN ts_ms IS NULL THEN 'unparseable time'
       WHEN node IS NULL THEN 'IGNORED'
       {key_check} END AS reason
FROM src_{s}"""


def register(tenv, data_dir, tpl=TPL, ooo_s=30, monitor=None):
    for s in tpl["sources"]:
        tenv.execute_sql(source_ddl(tpl, s, f"{data_dir}/{s['location']}", ooo_s, monitor))
    union = "\nUNION ALL\n".join(classified_view(tpl, s) for s in tpl["sources"])
    tenv.execute_sql(f"CREATE TEMPORARY VIEW classified AS {union}")
    tenv.execute_sql("CREATE TEMPORARY VIEW events AS SELECT src, node, skey, jkey, ts_ms, rt, line FROM classified WHERE reason IS NULL")
    tenv.execute_sql("CREATE TEMPORARY VIEW rejects AS SELECT src, reason, line FROM classified WHERE reason IS NOT NULL AND reason <> 'IGNORED'")


def make_tenv(parallelism=1, extra=None):
    import sys
    from pyflink.common import Configuration
    from pyflink.datastream import StreamExecutionEnvironment
    from pyflink.table import StreamTableEnvironment
    conf = Configuration()
    conf.set_string("python.execution-mode", "thread")
    conf.set_string("python.executable", sys.executable)
    conf.set_string("python.client.executable", sys.executable)
    for k, v in (extra or {}).items():
        conf.set_string(k, str(v))
    env = StreamExecutionEnvironment.get_execution_environment(conf)
    env.set_parallelism(parallelism)
    env.get_config().set_auto_watermark_interval(200)
    tenv = StreamTableEnvironment.create(env)
    tenv.get_config().set("table.local-time-zone", "UTC")
    for k, v in (extra or {}).items():
        tenv.get_config().set(k, str(v))
    return env, tenv

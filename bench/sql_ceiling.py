"""The Flink-SQL-only ceiling for a template's files: SQL parse (JSON_VALUE, event time, watermarks), supplements
joined to baseline events by an interval join, SESSION windows per session key → blackhole. No Python per record:
what the JVM alone does with the same files, the bound the real job's end-to-end rate is compared with.

    .venv/bin/python bench/sql_ceiling.py TEMPLATE.json DATA_DIR [--target local|http://host:port] [--parallelism N]

Prints `sql ceiling: <seconds> s <rows> rows`. Run by bench/throughput.py in the same run as the real job.
Approximations (the ceiling is a bound, not the product): every node's `when` is taken as true, a source's lines
are baseline or supplement by its nodes, and nothing is deduplicated.
"""
import argparse
import json
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from jobs.sessionize.logic.durations import parse_duration_ms  # noqa: E402
from jobs.sessionize.sql_sources import day_to_second, filesystem_options, json_path, quote, source_ddl  # noqa: E402


def statements(template: dict, data_dir: Path) -> tuple[list[str], str]:
    """DDL and views, then the INSERT into the blackhole."""
    session = template["session"]
    ooo = parse_duration_ms(session.get("out_of_orderness", "10s"))
    gap = parse_duration_ms(session.get("gap", "20m"))
    joins = {n["name"]: n["join"] for n in template["nodes"] if n.get("join")}
    ddl, baseline, supplements = [], [], []
    for source in template["sources"]:
        name, fields = source["name"], source["fields"]

        def column(alias: str) -> str:
            return f"JSON_VALUE(line, {quote(json_path(fields[alias]))})" if alias in fields else "CAST(NULL AS STRING)"
        text, _ = source_ddl(f"src_{name}", source, filesystem_options(str(data_dir / source["location"]), None), ooo)
        ddl.append(text)
        nodes = [n for n in template["nodes"] if n["source"] == name]
        supplement_nodes = [n for n in nodes if n.get("join")]
        if supplement_nodes:
            for node in supplement_nodes:
                supplements.append((node, f"SELECT {column(node['join']['on'])} AS jkey, rt FROM `src_{name}` WHERE line IS JSON OBJECT "
                                          f"AND {column(node['join']['on'])} IS NOT NULL"))
        else:
            join_field = next(iter(j["on"] for j in joins.values()), None)
            baseline.append(f"SELECT {column(session['key'])} AS skey, {column(join_field) if join_field else 'CAST(NULL AS STRING)'} AS jkey, rt "
                            f"FROM `src_{name}` WHERE line IS JSON OBJECT")
    ddl.append("CREATE TEMPORARY VIEW baseline AS " + " UNION ALL ".join(baseline) + "")
    parts = ["SELECT skey, rt AS wrt FROM baseline WHERE skey IS NOT NULL"]
    for index, (node, query) in enumerate(supplements):
        lower, upper = parse_duration_ms(node["join"]["lower"]), parse_duration_ms(node["join"]["upper"])
        ddl.append(f"CREATE TEMPORARY VIEW supp_{index} AS {query}")
        # s.ts in [b.ts + lower, b.ts + upper]  <=>  b.rt in [s.rt - upper, s.rt - lower]
        bounds = (f"b.rt BETWEEN s.rt - {day_to_second(upper)} AND s.rt " +
                  (f"+ {day_to_second(-lower)}" if lower <= 0 else f"- {day_to_second(lower)}"))
        # Only baseline rows with both keys can join: without the filter every row lacking a join value (half of
        # them in the demo) sat in the interval join's state under the one NULL key, for the whole interval.
        parts.append(f"SELECT b.skey, b.rt AS wrt FROM supp_{index} s JOIN (SELECT * FROM baseline WHERE jkey IS NOT NULL "
                     f"AND skey IS NOT NULL) b ON s.jkey = b.jkey AND {bounds}")
    ddl.append("CREATE TEMPORARY VIEW correlatable AS " + " UNION ALL ".join(parts))
    ddl.append("CREATE TEMPORARY TABLE ceiling_sink (skey STRING, n BIGINT) WITH ('connector' = 'blackhole')")
    insert = (f"INSERT INTO ceiling_sink SELECT skey, COUNT(*) FROM TABLE(SESSION(TABLE correlatable PARTITION BY skey, "
              f"DESCRIPTOR(wrt), {day_to_second(gap + 1)})) GROUP BY skey, window_start, window_end")
    return ddl, insert


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("template")
    parser.add_argument("data_dir")
    parser.add_argument("--target", default="local")
    parser.add_argument("--parallelism", type=int, default=1)
    args = parser.parse_args()
    from pyflink.common import Configuration
    from pyflink.table import EnvironmentSettings, TableEnvironment

    conf = Configuration()
    if args.target != "local":
        url = urlparse(args.target)
        conf.set_string("execution.target", "remote")
        conf.set_string("rest.address", url.hostname)
        conf.set_string("rest.port", str(url.port or 8081))
    conf.set_string("parallelism.default", str(args.parallelism))
    conf.set_string("table.local-time-zone", "UTC")
    tenv = TableEnvironment.create(EnvironmentSettings.new_instance().in_streaming_mode().with_configuration(conf).build())
    ddl, insert = statements(json.loads(Path(args.template).read_text()), Path(args.data_dir))
    for statement in ddl:
        tenv.execute_sql(statement)
    started = time.perf_counter()
    tenv.execute_sql(insert).wait()
    print(f"sql ceiling: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()

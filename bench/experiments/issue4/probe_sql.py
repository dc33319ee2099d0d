"""Probe Flink 2.3 SQL time functions on sample values (to find exact epoch-ms expressions)."""
import sys
from pyflink.table import EnvironmentSettings, TableEnvironment
t = TableEnvironment.create(EnvironmentSettings.in_batch_mode())
t.get_config().set("table.local-time-zone", "UTC")
t.get_config().set("parallelism.default", "1")
exprs = sys.argv[1:]
for e in exprs:
    try:
        r = list(t.execute_sql(f"SELECT {e}").collect())
        print(e, "=>", [tuple(x) for x in r])
    except Exception as ex:
        msg=[l for l in str(ex).split("\n") if ("Exception" in l or "Caused" in l)]; print(e, "=> ERROR", " | ".join(msg[:4])[:700])

"""Where a macro query's time goes (bench/macro.py --breakdown): the server's own time (MariaDB `ANALYZE
FORMAT=JSON`, which runs the statement and sends no rows), index entries it read (`Handler_read_*`), the driver's
execute + fetch (wire + PyMySQL's row parsing, wall and client CPU), and the service end to end (plan, SQL, shaping).
"""
import json
import statistics
import time
from typing import Any, Callable

HANDLERS = ("Handler_read_first", "Handler_read_key", "Handler_read_next", "Handler_read_rnd_next")


def percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[max(0, -(-95 * len(ordered) // 100) - 1)]


def _handlers(cursor: Any) -> dict[str, int]:
    cursor.execute("SHOW SESSION STATUS WHERE Variable_name IN (%s, %s, %s, %s)", HANDLERS)
    return {name: int(value) for name, value in cursor.fetchall()}


def server_side(cursor: Any, sql: str, params: list) -> tuple[float, dict[str, int]]:
    """(server ms, handler reads): ANALYZE runs the statement in full and returns only its plan with timings."""
    before = _handlers(cursor)
    cursor.execute(f"ANALYZE FORMAT=JSON {sql}", params)
    plan = json.loads(cursor.fetchall()[0][0])
    after = _handlers(cursor)
    server = plan.get("query_optimization", {}).get("r_total_time_ms", 0) + plan["query_block"]["r_total_time_ms"]
    return server, {k[len("Handler_read_"):]: after[k] - before[k] for k in HANDLERS if after[k] - before[k]}


def breakdown(run: Callable[[], Any], compiled: Any, connection: Any, repeat: int) -> dict[str, Any]:
    """p50/p95 of: server ms, execute + fetch ms (and its client CPU), end-to-end ms (and its client CPU)."""
    server, fetch, fetch_cpu, total, total_cpu, reads = [], [], [], [], [], {}
    with connection.cursor() as cursor:
        for _ in range(repeat):
            ms, reads = server_side(cursor, compiled.sql, compiled.params)
            server.append(ms)
            wall, cpu = time.perf_counter(), time.process_time()
            cursor.execute(compiled.sql, compiled.params)
            rows = cursor.fetchall()
            fetch.append(1000 * (time.perf_counter() - wall))
            fetch_cpu.append(1000 * (time.process_time() - cpu))
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = run()
        total.append(1000 * (time.perf_counter() - wall))
        total_cpu.append(1000 * (time.process_time() - cpu))
    return {"server": percentiles(server), "fetch": percentiles(fetch), "fetch_cpu": statistics.median(fetch_cpu),
            "total": percentiles(total), "total_cpu": statistics.median(total_cpu), "reads": reads,
            "wire_rows": len(rows), "rows": result.size, "reason": result.reason}


def print_breakdown(name: str, source: str, figures: dict[str, Any]) -> None:
    reads = ", ".join(f"{k} {v:,}" for k, v in figures["reads"].items())
    print(f"{name:42} {source:8} {figures['rows']:>7} {figures['wire_rows']:>7} "
          f"{figures['server'][0]:>8.1f}/{figures['server'][1]:<8.1f} {figures['fetch'][0]:>8.1f}/{figures['fetch'][1]:<8.1f} "
          f"{figures['fetch_cpu']:>7.1f} {figures['total'][0]:>8.1f}/{figures['total'][1]:<8.1f} {figures['total_cpu']:>7.1f}  "
          f"[{reads}]")


HEADER = (f"{'query':42} {'source':8} {'rows':>7} {'wire':>7} {'server p50/p95':>17} {'fetch p50/p95':>17} {'CPU':>7} "
          f"{'total p50/p95':>17} {'CPU':>7}  [handler reads]  (ms; CPU = client CPU, median)")

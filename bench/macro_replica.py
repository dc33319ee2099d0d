"""bench/macro.py's columnar replica steps: build every stale day (time per day and in total), and make the last
days stale (their versions bumped, as a sink batch would) so the fact path reads them from the row store."""
import os
import time

from bench.macro_load import DAY


def replica_dir(database_name: str) -> str:
    """A directory per bench database (the 1 M and 10 M loads share template ids)."""
    from pathlib import Path

    return str(Path(__file__).resolve().parents[1] / "var" / "replica" / database_name)


def build(template_id: int) -> None:
    from analytics.replica import build as replica_build

    started, cpu = time.perf_counter(), time.process_time()
    built = replica_build.refresh(None, template_id)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    for day in sorted(built, key=lambda b: b.day_ms):
        print(f"  replica day {day.day_ms}: {day.rows:,} rows in {day.seconds:.2f} s")
    rows = sum(day.rows for day in built)
    per = f", {wall / len(built):.2f} s a day" if built else ""
    print(f"replica built: {len(built)} days, {rows:,} rows in {wall:.1f} s wall ({cpu:.1f} s client CPU{per}); "
          f"load {os.getloadavg()[0]:.1f}")


def make_stale(template_id: int, until_ms: int, days: int) -> None:
    """The last `days` days' versions + 1: their files no longer match, the fact path reads them from the row store."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("UPDATE analytics_fact_days SET version = version + 1 WHERE template_id = %s AND day_ms >= %s",
                    [template_id, until_ms - days * DAY])
    print(f"last {days} days made stale (versions bumped)")

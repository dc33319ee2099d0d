"""What the sink's macro upkeep (rollups + session fact table) costs end to end: bench/throughput.py back to back
with LUNA_ROLLUPS=on and =off, each into a fresh database of its own, then both figures and the ratio.

    .venv/bin/python bench/upkeep_cost.py --orders 20000 --server mysql://luna:luna@127.0.0.1:3306 [--rounds 2]

Figures, not assertions (the machine is shared: the load average is printed with each run).
"""
import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
THREAD_CPU = re.compile(r" ([\d.]+)s(?:,|$)")
FIGURES = re.compile(r"end to end :\s+([\d.]+) s\s+([\d,]+) events/s\s+([\d,]+) sessions/s")


def connect(url_text: str):
    """A PyMySQL connection from a DATABASE_URL-style URL (with or without a database)."""
    import pymysql
    from urllib.parse import unquote, urlparse

    url = urlparse(url_text)
    return pymysql.connect(host=url.hostname or "127.0.0.1", port=url.port or 3306, user=unquote(url.username or "root"),
                           password=unquote(url.password or ""), database=url.path.lstrip("/") or None, autocommit=True)


def fresh_database(server: str, name: str) -> str:
    conn = connect(server)
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    conn.close()
    return f"{server.rstrip('/')}/{name}"


def drop_database(server: str, name: str) -> None:
    conn = connect(server)
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
    conn.close()


def run(orders: int, server: str, upkeep: str, round_: int, keep: bool) -> tuple[float, float, float]:
    """(wall s, sessions/s, CPU s of the job's busiest threads as throughput.py samples them) of one bounded run."""
    name = f"luna_upkeep_{upkeep}_{round_}"
    db = fresh_database(server, name)
    env = dict(os.environ, LUNA_ROLLUPS=upkeep)
    load = os.getloadavg()[0]
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "throughput.py"), "--orders", str(orders), "--db", db,
                             "--skip-sql-ceiling"], capture_output=True, text=True, env=env)
    match = FIGURES.search(result.stdout)
    if not match:
        raise SystemExit(f"throughput.py failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    line = next(line for line in result.stdout.splitlines() if line.startswith("end to end"))
    threads = next((line.strip() for line in result.stdout.splitlines() if line.strip().startswith("CPU by thread")), "")
    cpu = sum(float(x) for x in THREAD_CPU.findall(threads))
    print(f"LUNA_ROLLUPS={upkeep:3} (load {load:.1f}): {line}\n  {threads} (total {cpu:.1f} s)", flush=True)
    rows = check_upkeep(db)
    print(f"  rows kept: {rows}", flush=True)
    drop_database(server, name) if not keep else None
    return float(match.group(1)), float(match.group(3).replace(",", "")), cpu


def check_upkeep(db: str) -> str:
    """Proof the switch reached the sink: fact and rollup rows with it on, none with it off."""
    conn = connect(db)
    with conn.cursor() as cur:
        counts = []
        for table in ("luna_session", "analytics_session_fact", "analytics_rollup"):
            cur.execute(f"SELECT COUNT(*) FROM {table}")
            counts.append(f"{table} {cur.fetchone()[0]:,}")
    conn.close()
    return ", ".join(counts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--server", default="mysql://luna:luna@127.0.0.1:3306", help="MariaDB server URL, no database")
    parser.add_argument("--rounds", type=int, default=1, help="pairs of runs (on, off), alternating")
    parser.add_argument("--keep", action="store_true", help="keep each run's database (dropped after its figures by default)")
    args = parser.parse_args()
    on, off = [], []
    for round_ in range(args.rounds):
        on.append(run(args.orders, args.server, "on", round_, args.keep))
        off.append(run(args.orders, args.server, "off", round_, args.keep))
    best_on, best_off = min(w for w, _, _ in on), min(w for w, _, _ in off)
    cpu_on, cpu_off = min(c for _, _, c in on), min(c for _, _, c in off)
    print(f"upkeep cost: wall {best_on:.1f} s on vs {best_off:.1f} s off = +{100 * (best_on / best_off - 1):.1f} %; "
          f"CPU {cpu_on:.0f} s vs {cpu_off:.0f} s = +{100 * (cpu_on / cpu_off - 1):.1f} % (best of {args.rounds}; "
          f"wall includes the job's ≈10 s start-up) at {time.strftime('%H:%M')}")


if __name__ == "__main__":
    main()

"""Cost of assembling session documents (Python, once per revision in the JVM design), on demo files.

    .venv/bin/python bench/assembly.py DATA_DIR [--lines 200000]

Feeds the files (event-time order) to the pure engine and prints: revisions emitted, documents assembled by the
Python machine (it assembles, then drops revisions whose digest did not change) against the JVM machine (it drops
them before assembly, so it assembles once per emitted revision), and µs per assembly split into rules (CEL) and
the rest.
"""
import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from jobs.sessionize.logic import assemble as assembly  # noqa: E402
from jobs.sessionize.logic import sessions  # noqa: E402
from jobs.sessionize.logic.engine import Correlator  # noqa: E402
from jobs.sessionize.logic.records import Event, parse_line  # noqa: E402
from jobs.sessionize.logic.template import compile_template  # noqa: E402


class Timed:
    """Wraps a function, counting calls and their time."""

    def __init__(self, function):
        self.function, self.calls, self.seconds = function, 0, 0.0

    def __call__(self, *args, **kwargs):
        started = time.process_time()  # CPU time: this machine is shared, wall time would count the neighbours
        try:
            return self.function(*args, **kwargs)
        finally:
            self.calls += 1
            self.seconds += time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data_dir")
    parser.add_argument("--lines", type=int, default=200_000)
    args = parser.parse_args()
    import json

    template = compile_template(json.loads((ROOT / "sessions" / "demo" / "mobile-pay.json").read_text()))
    items = []
    for source in template.sources.values():
        for path in sorted((Path(args.data_dir) / source.location).glob("*.jsonl")):
            for line in path.open():
                parsed = parse_line(template, source.name, line)
                if isinstance(parsed, Event):
                    items.append((parsed.ts, source.name, line))
    items = sorted(items)[: args.lines]
    assembled, rules = Timed(assembly.assemble), Timed(assembly._evaluate_rules)
    sessions.assemble, assembly._evaluate_rules = assembled, rules
    corr = Correlator(template, keep_emissions=True)
    started = time.process_time()
    for _, source, line in items:
        corr.feed(source, line)
    corr.finish()
    wall = time.process_time() - started
    emitted = len(corr.emissions)
    print(f"{len(items):,} events, {len(corr.store):,} sessions, {emitted:,} revisions emitted ({emitted / max(len(corr.store), 1):.2f} a session)")
    print(f"assembled by the Python machine: {assembled.calls:,} ({assembled.calls - emitted:,} dropped after assembly as unchanged); "
          f"by the JVM machine: {emitted:,}")
    print(f"assembly: {assembled.seconds / assembled.calls * 1e6:.0f} µs each, of which rules (one CEL activation) "
          f"{rules.seconds / rules.calls * 1e6:.0f} µs; pure engine overall {len(items) / wall:,.0f} events per CPU second")


if __name__ == "__main__":
    main()

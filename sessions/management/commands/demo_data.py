"""`manage.py demo_data`: import the demo template and write realistic payment-flow logs for it.

    manage.py demo_data                       # 2,000 orders over the last 3 days, template imported
    manage.py demo_data --orders 1000000 --seed 7 --no-import
    manage.py demo_data --live 600            # then a new small file per source every 5 s for 10 minutes

Files: `<data dir>/<source location>/part-<run>.jsonl` (written hidden, renamed when complete, so a Flink
file source only ever sees whole files) and the ground truth `<data dir>/mobile-pay/expected.jsonl`.
"""
import argparse
import json
import random
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from sessions.services import demo_data as dd

DEFAULT_TEMPLATE = Path("sessions") / "demo" / "mobile-pay.json"


def _when(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO-8601 date/time (e.g. 2025-11-20T12:00:00+08:00)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


class Command(BaseCommand):
    help = "Import the demo template and write payment-flow demo logs (with anomalies) for it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--orders", type=int, default=2000, help="Orders in the backlog (default 2000).")
        parser.add_argument("--seed", type=int, default=None, help="RNG seed; same seed and --end, same files (default: random, printed).")
        parser.add_argument("--days", type=float, default=3.0, help="The backlog spans this many days (default 3).")
        parser.add_argument("--end", type=_when, default=None,
                            help="End of the backlog, ISO-8601 (naive = UTC); default: now minus 10 minutes. No line is later.")
        parser.add_argument("--data-dir", type=Path, default=None, help="Root of the source locations (default: LUNA_DATA_DIR).")
        parser.add_argument("--template", type=Path, default=DEFAULT_TEMPLATE, help=f"Template document (default {DEFAULT_TEMPLATE}).")
        parser.add_argument("--no-import", action="store_true", help="Do not store the template in the database.")
        parser.add_argument("--shuffle-window", type=float, default=10.0,
                            help="Seconds of local disorder within a source file (default 10; keep below out_of_orderness).")
        parser.add_argument("--live", type=float, default=0.0, metavar="SECONDS",
                            help="After the backlog, keep writing fresh orders for this many seconds.")
        parser.add_argument("--live-interval", type=float, default=5.0, help="Seconds between live files (default 5).")
        parser.add_argument("--live-rate", type=float, default=2.0, help="Live orders per second (default 2).")

    def handle(self, *args, **options) -> None:
        began = time.perf_counter()
        document = self._document(Path(options["template"]))
        try:
            dd.check_template(document)
        except ValueError as exc:
            raise CommandError(f"{options['template']}: {exc}") from None
        out_of_order_ms = self._out_of_orderness(document)
        window_ms = int(options["shuffle_window"] * 1000)
        if not 0 <= window_ms < out_of_order_ms:
            raise CommandError(f"--shuffle-window must be below the template's out_of_orderness ({out_of_order_ms / 1000:g} s)")
        if options["orders"] < 0 or options["days"] <= 0:
            raise CommandError("--orders must be >= 0 and --days > 0")

        if not options["no_import"]:
            try:
                version, created = dd.import_template(document)
            except ValidationError as exc:
                raise CommandError(f"template not imported: {'; '.join(exc.messages)}") from None
            self.stdout.write(f"Template {version.template.name} v{version.number} {'imported' if created else 'already current'}")

        seed = options["seed"] if options["seed"] is not None else random.SystemRandom().randrange(10**6)
        end = options["end"] or (datetime.now(timezone.utc) - timedelta(minutes=10))
        if isinstance(end, str):  # call_command(end="…") skips argparse's conversion
            try:
                end = _when(end)
            except argparse.ArgumentTypeError as exc:
                raise CommandError(f"--end: {exc}") from None
        end_ms = int(end.timestamp() * 1000)
        start_ms = end_ms - int(options["days"] * dd.DAY)
        data_dir = Path(options["data_dir"] or settings.LUNA_DATA_DIR)
        run_id = dd.default_run_id(seed)
        orders = options["orders"]
        step = max(100_000, orders // 10)
        last = [0]

        def progress(done: int) -> None:
            if done - last[0] >= step:
                last[0] = done
                self.stderr.write(f"  … {done:,} orders")

        if orders or not options["live"]:
            # A live-only run (--orders 0 --live N) writes no backlog and leaves the ground truth alone: a second
            # backlog spanning past days would be read in no particular order next to the first one.
            summary = dd.write_backlog(document, data_dir, orders=orders, seed=seed, start_ms=start_ms, end_ms=end_ms,
                                       run_id=run_id, progress=progress, shuffle_window_ms=window_ms)
            self._report(summary, data_dir)

        if options["live"] > 0:
            self._live(document, data_dir, seed, run_id, orders, window_ms, options)
        self.stdout.write(f"Done in {time.perf_counter() - began:.1f} s")

    # -- helpers ------------------------------------------------------------------------------------------
    def _document(self, path: Path) -> dict:
        candidates = [path] if path.is_absolute() else [path, Path(settings.BASE_DIR) / path]
        for candidate in candidates:
            if candidate.is_file():
                try:
                    return json.loads(candidate.read_text(encoding="utf-8-sig"))
                except json.JSONDecodeError as exc:
                    raise CommandError(f"{candidate}: invalid JSON at line {exc.lineno}: {exc.msg}") from None
        raise CommandError(f"template file not found: {path}")

    @staticmethod
    def _out_of_orderness(document: dict) -> int:
        from jobs.sessionize.logic.template import compile_template

        return compile_template(document).out_of_orderness_ms

    def _report(self, summary: dd.Summary, data_dir: Path) -> None:
        stats = summary.stats.as_dict()
        w = self.stdout.write
        w(f"Wrote {summary.orders:,} orders ({stats['sessions']:,} sessions expected), {summary.total_lines:,} lines "
          f"in {summary.seconds:.1f} s ({summary.lines_per_second:,.0f} lines/s)")
        w(f"  time range {_iso(summary.start_ms)} → {_iso(summary.end_ms)}, seed {summary.seed} "
          f"(same files again: --seed {summary.seed} --end {_iso(summary.end_ms)} --days {(summary.end_ms - summary.start_ms) / dd.DAY:g})")
        for source in dd.SOURCES:
            w(f"  {source:<8} {stats['lines'][source]:>10,} lines  malformed {stats['malformed'][source]:>6,}  "
              f"duplicates {stats['duplicates'][source]:>6,}  ignored {stats['ignored'][source]:>7,}  {summary.files[source]}")
        total = max(1, summary.orders)
        w("  anomalies: " + ", ".join(f"{name} {n:,} ({100 * n / total:.1f}%)" for name, n in stats["anomalies"].items()))
        w(f"  malformed {sum(stats['malformed'].values()):,}, identical duplicates {sum(stats['duplicates'].values()):,}")
        w(f"  output {data_dir}; ground truth {summary.manifest}")

    def _live(self, document: dict, data_dir: Path, seed: int, run_id: str, first_seq: int, window_ms: int, options) -> None:
        interval = max(0.5, options["live_interval"])
        feed = dd.LiveFeed(document, data_dir, seed=seed, rate_per_s=options["live_rate"], run_id=run_id,
                           first_seq=first_seq, shuffle_window_ms=window_ms)
        self.stdout.write(f"Live: ~{options['live_rate']:g} orders/s, a file per source every {interval:g} s for {options['live']:g} s "
                          f"(Ctrl-C stops)")
        deadline = time.monotonic() + options["live"]
        files = 0
        try:
            while True:
                written = feed.tick()
                files += len(written)
                if written and options["verbosity"] >= 2:
                    self.stdout.write("  " + ", ".join(f"{s} {n}" for s, n in written.items()))
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                time.sleep(min(interval, remaining))
        except KeyboardInterrupt:
            self.stdout.write("  stopped")
        stats = feed.stats.as_dict()
        self.stdout.write(f"Live: {feed.stats.orders:,} orders, {files} files, {sum(stats['lines'].values()):,} lines planned; "
                          f"{feed.pending():,} lines of orders still in flight were not written")

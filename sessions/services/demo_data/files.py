"""Files: hidden-then-renamed source files and the ground-truth manifest for a backlog, small files for the
live feed, and reading them back (manifest, per-source streams merged in time order)."""
from __future__ import annotations

import json
import os
import random
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from .anomalies import Stats
from .catalog import LOOKBACK_MS, SECOND, SOURCES
from .simulator import PaymentFlowSimulator
from .traffic import backlog


# -- files ------------------------------------------------------------------------------------------------
def source_locations(document: dict[str, Any]) -> dict[str, str]:
    """source name -> location for the four demo sources; fails clearly if the template does not fit."""
    locations = {s["name"]: s["location"] for s in document.get("sources", [])}
    missing = [s for s in SOURCES if s not in locations]
    if missing:
        raise ValueError(f"the template has no source(s) {missing}: the demo generator writes {list(SOURCES)}")
    return {s: locations[s] for s in SOURCES}


@dataclass
class Summary:
    run_id: str
    seed: int
    orders: int
    start_ms: int
    end_ms: int
    files: dict[str, str]
    manifest: str
    stats: Stats
    seconds: float

    @property
    def total_lines(self) -> int:
        return sum(self.stats.lines.values())

    @property
    def lines_per_second(self) -> float:
        return self.total_lines / self.seconds if self.seconds else 0.0


class _AtomicFile:
    """Written under a hidden name ('.' prefix, which Flink's file source skips), renamed when complete."""

    def __init__(self, path: Path):
        self.path = path
        self.hidden = path.with_name("." + path.name)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = open(self.hidden, "w", encoding="utf-8", newline="\n", buffering=1 << 20)

    def write_lines(self, lines: list[str]) -> None:
        if lines:
            self.handle.write("\n".join(lines))
            self.handle.write("\n")

    def commit(self) -> None:
        self.handle.close()
        os.replace(self.hidden, self.path)

    def abort(self) -> None:
        self.handle.close()
        self.hidden.unlink(missing_ok=True)


def manifest_dir(document: dict[str, Any]) -> str:
    """Where the ground truth goes: the common parent of the source locations (not a source directory)."""
    locations = list(source_locations(document).values())
    common = os.path.commonpath(locations) if all(not os.path.isabs(p) for p in locations) else ""
    if common in locations or not common:
        common = document.get("name", "demo")
    return common


def default_run_id(seed: int) -> str:
    return f"{datetime.now(timezone.utc):%Y%m%dT%H%M%S}-s{seed}"


def _unique_name(directory: Path, stem: str) -> str:
    name, n = f"{stem}.jsonl", 1
    while (directory / name).exists() or (directory / f".{name}").exists():
        n += 1
        name = f"{stem}-{n}.jsonl"
    return name


def write_backlog(
    document: dict[str, Any],
    data_dir: str | os.PathLike,
    *,
    orders: int,
    seed: int,
    start_ms: int,
    end_ms: int,
    run_id: str | None = None,
    progress: Callable[[int], None] | None = None,
    **options: Any,
) -> Summary:
    """Write `part-<run_id>.jsonl` in every source location and `<parent>/expected.jsonl` (ground truth)."""
    began = time.perf_counter()
    root = Path(data_dir)
    run_id = run_id or default_run_id(seed)
    locations = source_locations(document)
    dirs = [root / locations[s] for s in SOURCES]
    for d in dirs:
        d.mkdir(parents=True, exist_ok=True)
    stem = f"part-{run_id}"
    names = [_unique_name(d, stem) for d in dirs]
    files = [_AtomicFile(d / name) for d, name in zip(dirs, names)]
    manifest = _AtomicFile(root / manifest_dir(document) / "expected.jsonl")
    buffers: list[list[str]] = [[] for _ in SOURCES]
    entries: list[str] = []
    stats = Stats()
    done = 0
    try:
        for kind, payload in backlog(orders, seed, start_ms, end_ms, **options):
            if kind == "lines":
                for source, line in payload:
                    buffers[source].append(line)
                for source, buf in enumerate(buffers):
                    if len(buf) >= 8192:
                        files[source].write_lines(buf)
                        buf.clear()
            elif kind in ("order", "malformed"):
                entries.append(json.dumps(payload, separators=(",", ":"), ensure_ascii=False))
                done += kind == "order"
                if len(entries) >= 8192:
                    manifest.write_lines(entries)
                    entries.clear()
                    if progress:
                        progress(done)
            else:
                stats = payload
        for source, buf in enumerate(buffers):
            files[source].write_lines(buf)
        manifest.write_lines(entries)
        summary_line = {"summary": True, "run_id": run_id, "seed": seed, "start_ms": start_ms, "end_ms": end_ms,
                        "shuffle_window_ms": options.get("shuffle_window_ms", 10 * SECOND),
                        "files": {s: str(Path(locations[s]) / n) for s, n in zip(SOURCES, names)}, **stats.as_dict()}
        manifest.write_lines([json.dumps(summary_line, separators=(",", ":"))])
    except BaseException:
        for f in [*files, manifest]:
            f.abort()
        raise
    for f in files:
        f.commit()
    manifest.commit()
    return Summary(
        run_id=run_id, seed=seed, orders=stats.orders, start_ms=start_ms, end_ms=end_ms,
        files={s: str(f.path) for s, f in zip(SOURCES, files)}, manifest=str(manifest.path), stats=stats,
        seconds=time.perf_counter() - began,
    )


@dataclass
class Manifest:
    orders: list[dict[str, Any]]
    malformed: list[dict[str, str]]
    summary: dict[str, Any]


def read_manifest(path: str | os.PathLike) -> Manifest:
    """An expected.jsonl: one entry per order, one per malformed line, and the summary (last line)."""
    manifest = Manifest([], [], {})
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            item = json.loads(line)
            if item.get("summary"):
                manifest.summary = item
            elif "malformed" in item:
                manifest.malformed.append(item)
            else:
                manifest.orders.append(item)
    return manifest


# -- live mode --------------------------------------------------------------------------------------------
class LiveFeed:
    """After the backlog: every `tick()` writes one new small file per source with the lines of current-time
    orders that are due by now (orders are planned `LOOKBACK_MS` ahead, so a line that is due never comes
    after a later one: each file continues the previous one's time order within the shuffle window).
    Lines of orders still in flight when the feed stops are never written (`pending()` counts them)."""

    def __init__(self, document: dict[str, Any], data_dir: str | os.PathLike, *, seed: int, rate_per_s: float,
                 run_id: str, first_seq: int = 0, now: Callable[[], float] = time.time, **options: Any):
        self.root = Path(data_dir)
        self.locations = source_locations(document)
        self.sim = PaymentFlowSimulator(f"live:{seed}", first_seq=first_seq, user_seed=seed, **options)
        self.rng = random.Random(f"live:{seed}")
        self.rate = max(rate_per_s, 1e-9)
        self.run_id = run_id
        self.now = now
        self.ticks = 0
        self.next_order = int(self.now() * 1000) - LOOKBACK_MS  # orders already under way show at once
        self.stats = self.sim.stats

    def tick(self) -> dict[str, int]:
        """Plan orders up to now + lookback, write what is due; returns lines written per source."""
        now_ms = int(self.now() * 1000)
        while self.next_order <= now_ms + LOOKBACK_MS:
            self.sim.add_order(self.next_order)
            self.next_order += max(1, int(self.rng.expovariate(self.rate) * 1000))
        due = self.sim.release(now_ms)
        self.sim.take_malformed()  # the live feed keeps no ground truth beyond its counters
        self.ticks += 1
        per_source: list[list[str]] = [[] for _ in SOURCES]
        for source, line in due:
            per_source[source].append(line)
        written = {}
        for source, lines in enumerate(per_source):
            if not lines:
                continue
            directory = self.root / self.locations[SOURCES[source]]
            directory.mkdir(parents=True, exist_ok=True)
            out = _AtomicFile(directory / _unique_name(directory, f"part-{self.run_id}-live-{self.ticks:06d}"))
            out.write_lines(lines)
            out.commit()
            written[SOURCES[source]] = len(lines)
        return written

    def pending(self) -> int:
        return self.sim.pending()

"""A backtest's input: each source's stored lines whose event time falls in the range. The pure engine takes
them in memory (bounded by LUNA_STUDIO_BACKTEST_MAX_LINES); the bounded Flink path writes them to scratch
files its job reads, so both paths read exactly the same lines."""
import json
from collections.abc import Iterator

from jobs.sessionize.logic.records import dig
from jobs.sessionize.logic.template import CompiledSource, CompiledTemplate

from . import samples


class BacktestError(ValueError):
    """The backtest cannot run (no live version, draft does not compile, range too large ...)."""


class Canceled(Exception):
    """The backtest was cancelled while it ran (the pure loop or the Flink job's poll noticed)."""


class TooLarge(BacktestError):
    """The range holds more lines than the pure engine takes: the planner sends it to the bounded Flink job."""


def lines_in_range(source: CompiledSource, start_ms: int, end_ms: int) -> Iterator[str]:
    """The source's lines in [start, end); a line without a readable time is kept (both versions reject it alike)."""
    for file in samples.source_files(source.location):
        with file.open(encoding="utf-8", errors="replace") as handle:
            for raw in handle:
                line = raw.rstrip("\n")
                try:
                    ts = source.parse_time(dig(json.loads(line), source.time_path))
                except Exception:  # noqa: BLE001 — any unreadable line is kept for both versions
                    ts = start_ms
                if start_ms <= ts < end_ms:
                    yield line


def input_lines(template: CompiledTemplate, start_ms: int, end_ms: int, max_lines: int) -> dict[str, list[str]]:
    """Each source's lines in the range, in memory; more than `max_lines` in all raises TooLarge."""
    streams: dict[str, list[str]] = {}
    total = 0
    for name, source in template.sources.items():
        kept = streams[name] = []
        for line in lines_in_range(source, start_ms, end_ms):
            kept.append(line)
            total += 1
            if total > max_lines:
                raise TooLarge(f"the range holds more than {max_lines} lines (LUNA_STUDIO_BACKTEST_MAX_LINES)")
    return streams

"""Sample lines of a source directory, the dotted paths of their values and the time format they use.

The sources step shows real lines so an analyst picks fields by clicking values instead of typing paths,
and sees at once whether the time format reads every sample (the rows that fail are listed).
"""
import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from django.conf import settings

from jobs.sessionize.logic.records import dig
from jobs.sessionize.logic.timeparse import make_time_parser
from sessions.services import source_locations

MAX_LINES = 20
MAX_LINE_CHARS = 20_000
MAX_DIRS = 200
STRFTIME_CANDIDATES = (
    "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%d/%b/%Y:%H:%M:%S %z", "%Y%m%d%H%M%S",
)
# plausible epoch magnitudes (2001..2286 in seconds, the same in milliseconds)
EPOCH_S = (1e9, 1e10)
EPOCH_MS = (1e12, 1e13)


class SampleError(ValueError):
    """The location cannot be sampled (outside the data roots, missing, or without readable lines)."""


@dataclass(frozen=True)
class TimeRow:
    raw: Any
    ms: int | None
    iso: str
    error: str


def directories() -> list[str]:
    """Directories under the data dir that hold files, relative to it (what a source's location names)."""
    root = Path(settings.LUNA_DATA_DIR)
    found: list[str] = []
    if not root.is_dir():
        return found
    for current, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        if any(not f.startswith(".") for f in files) and Path(current) != root:
            found.append(str(Path(current).relative_to(root)))
        if len(found) >= MAX_DIRS:
            break
    return found


def source_files(location: str) -> list[Path]:
    """The complete files of a source directory (hidden files are still being written), confined to the data roots."""
    if not location or not source_locations.is_allowed(location, source_locations.allowed_roots()):
        raise SampleError(f"{location!r} is outside the allowed data roots; pick a directory under the data directory.")
    path = Path(location) if os.path.isabs(location) else Path(settings.LUNA_DATA_DIR) / location
    if not path.is_dir():
        raise SampleError(f"{location!r} is not a directory under the data directory.")
    return sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))


def read_lines(location: str, limit: int = MAX_LINES) -> list[str]:
    """The first lines of the directory's files (oldest name first)."""
    lines: list[str] = []
    for file in source_files(location):
        with file.open(encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.strip():
                    lines.append(line.rstrip("\n")[:MAX_LINE_CHARS])
                if len(lines) >= limit:
                    return lines
    if not lines:
        raise SampleError(f"{location!r} has no lines yet.")
    return lines


def parsed(lines: list[str]) -> list[Any]:
    """Each line as JSON, or None for a line that is not JSON (shown raw)."""
    out = []
    for line in lines:
        try:
            out.append(json.loads(line))
        except ValueError:
            out.append(None)
    return out


def leaf_paths(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """(dotted path, scalar) for every leaf of a JSON object, in document order."""
    if isinstance(value, dict):
        return [pair for key, item in value.items() for pair in leaf_paths(item, f"{prefix}{key}.")]
    return [(prefix[:-1], value)] if prefix else []


def time_rows(records: list[Any], path: str, fmt: str, tz: str | None = None) -> list[TimeRow]:
    """The time value of every sample read with `fmt`: parsed (ISO, UTC) or the reason it fails."""
    parse = make_time_parser(fmt, tz)  # ValueError for a bad format: the caller reports it
    rows = []
    for record in records:
        try:
            raw = dig(record, tuple(path.split("."))) if isinstance(record, dict) else None
        except Exception:  # noqa: BLE001 — a path that does not fit this record is a failing row
            raw = None
        if raw is None:
            rows.append(TimeRow(None, None, "", f"no value at {path!r}"))
            continue
        try:
            ms = parse(raw)
            iso = datetime.fromtimestamp(ms / 1000, tz=timezone.utc).isoformat(timespec="milliseconds")
            rows.append(TimeRow(raw, ms, iso, ""))
        except (ValueError, TypeError, OverflowError, OSError) as exc:
            rows.append(TimeRow(raw, None, "", str(exc)[:200]))
    return rows


def suggest_format(records: list[Any], path: str) -> str | None:
    """The first format that reads every sample's time plausibly (epoch by magnitude, then ISO, then patterns)."""
    values = [r for r in (time_rows(records, path, "epoch_ms") if records else [])]
    numbers = [row.raw for row in values if isinstance(row.raw, (int, float)) and not isinstance(row.raw, bool)]
    if values and len(numbers) == len(values):
        if all(EPOCH_MS[0] <= abs(n) < EPOCH_MS[1] for n in numbers):
            return "epoch_ms"
        if all(EPOCH_S[0] <= abs(n) < EPOCH_S[1] for n in numbers):
            return "epoch_s"
        return None
    iso_like = all(isinstance(row.raw, str) and "T" in row.raw for row in values)
    for fmt in (("iso8601",) if iso_like else ()) + STRFTIME_CANDIDATES:
        rows = time_rows(records, path, fmt)
        if rows and not any(row.error for row in rows):
            return fmt
    return None

"""Dry run: the draft over the sample files through the job's own pure engine (`engine.Correlator`).

Bounded in lines and in time so a click never ties up a worker; the result says when a bound was hit.
"""
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from jobs.sessionize.logic.engine import Correlator
from jobs.sessionize.logic.template import CompiledTemplate, TemplateError, compile_template
from jobs.sessionize.logic.ordering import merge_in_time_order

from . import samples



@dataclass
class DryRun:
    sessions: list[dict[str, Any]] = field(default_factory=list)
    conclusions: Counter = field(default_factory=Counter)
    rejected: Counter = field(default_factory=Counter)
    rule_errors: Counter = field(default_factory=Counter)
    lines: int = 0
    truncated: str = ""  # why the run stopped early, when it did
    seconds: float = 0.0
    orphans: int = 0
    late: int = 0
    template: CompiledTemplate | None = None


def run(document: dict[str, Any], lines_per_source: int | None = None, seconds: float | None = None) -> DryRun:
    """Correlate the first lines of every source; raises TemplateError / SampleError for a draft that cannot run.
    Bounds: LUNA_STUDIO_DRY_RUN_LINES per source and LUNA_STUDIO_DRY_RUN_SECONDS unless given."""
    lines_per_source = lines_per_source or settings.LUNA_STUDIO_DRY_RUN_LINES
    seconds = seconds or settings.LUNA_STUDIO_DRY_RUN_SECONDS
    template = compile_template(document)
    streams = {name: samples.read_lines(source.location, lines_per_source) for name, source in template.sources.items()}
    result = DryRun(template=template)
    correlator = Correlator(template)
    began = time.monotonic()
    for source, line in merge_in_time_order(template, streams):
        correlator.feed(source, line)
        result.lines += 1
        if time.monotonic() - began > seconds:
            result.truncated = f"stopped after {seconds:g} s"
            break
    if any(len(lines) >= lines_per_source for lines in streams.values()) and not result.truncated:
        result.truncated = f"the first {lines_per_source} lines of each source"
    correlator.finish()
    result.seconds = round(time.monotonic() - began, 3)
    result.sessions = sorted((s.document for s in correlator.store.values()), key=lambda d: (d["start_ms"], d["session_key"]))
    for doc in result.sessions:
        result.conclusions.update(c["name"] for c in doc["conclusions"])
        result.rule_errors.update(e["rule"] for e in doc["rule_errors"])
    result.rejected.update(f"{r.source}: {reason_kind(r.reason)}" for r in correlator.rejected)
    result.orphans, result.late = len(correlator.orphans), len(correlator.late)
    return result


def reason_kind(reason: str) -> str:
    """A rejection reason without the value it quotes, so equal causes are counted together."""
    return reason.split(":", 1)[0].split(" '", 1)[0].split(" \"", 1)[0]


@dataclass(frozen=True)
class TreeRow:
    """A session document's node row in the shape the session page's tree reads (sessions.services.tree.EventRow)."""

    node: str
    seq: int
    source: str
    event_ms: int
    supplement: bool
    raw: str


MAX_SHOWN = 50


def for_page(document: dict[str, Any]) -> dict[str, Any]:
    """Template context for the dry-run fragment: counts, and the first sessions with their trees (the session
    page's own tree builder), or the reason the draft cannot run."""
    from sessions.services.tree import build_tree

    try:
        result = run(document)
    except TemplateError as exc:
        return {"error": "The draft does not compile yet: " + "; ".join(exc.errors)}
    except samples.SampleError as exc:
        return {"error": str(exc)}
    shown = []
    for doc in result.sessions[:MAX_SHOWN]:
        rows = [TreeRow(r["node"], r["seq"], r["source"], r["ts"], r["supplement"], r["raw"]) for r in doc["nodes"]]
        shown.append({"doc": doc, "roots": build_tree(document.get("nodes") or [], rows, doc["start_ms"])})
    return {"run": result, "shown": shown, "conclusions": result.conclusions.most_common(),
            "rejected": result.rejected.most_common(), "rule_errors": result.rule_errors.most_common()}

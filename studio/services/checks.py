"""Check one rule as it is typed: compile it against the draft's own vocabulary (the job's compiler) and show
its value on the sample sessions of a dry run, so the analyst sees what the rule does before saving."""
import functools
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from jobs.sessionize.logic.expressions import ExpressionError, RuleFailure, compile_expression, new_context
from jobs.sessionize.logic.records import dig
from jobs.sessionize.logic.timeparse import make_time_parser
from jobs.sessionize.logic.template import (
    CompiledSource, CompiledTemplate, TemplateError, compile_template, record_vocabulary, session_vocabulary,
)

from . import dry_run, samples

KINDS = ("field", "conclusion", "when")
SAMPLE_CACHE_SECONDS = 30
MAX_VALUES = 20
_COLUMN = re.compile(r"column (\d+)|<input>:\d+:(\d+)")


@dataclass
class CheckResult:
    errors: list[dict[str, Any]] = field(default_factory=list)  # {message, column}
    values: list[dict[str, Any]] = field(default_factory=list)  # {session, value} per sample session
    note: str = ""


def frame(document: dict[str, Any]) -> CompiledTemplate:
    """The draft's sources and nodes compiled without its rules (the vocabulary every rule reads)."""
    doc = {**document, "fields": [], "conclusions": [], "dimensions": [],
           "nodes": [{k: v for k, v in n.items() if k != "when"} for n in document.get("nodes") or [] if isinstance(n, dict)]}
    return compile_template(doc)


def check(document: dict[str, Any], kind: str, expr: str, node: str = "") -> CheckResult:
    """Errors with their column; for field and conclusion rules also the value on each sample session."""
    result = CheckResult()
    if kind == "when":  # a node's rule reads its source's records only: no need for the rest of the draft
        source = _node_source(document, node)
        if source is None:
            result.errors = [{"message": f"node {node!r} has no source of this draft yet", "column": None}]
            return result
        vocabulary = record_vocabulary(source)
    else:
        try:
            template = frame(document)
        except TemplateError as exc:
            result.errors = [{"message": "fix the earlier steps first: " + "; ".join(exc.errors), "column": None}]
            return result
        fields = [f.get("name") for f in document.get("fields") or [] if isinstance(f, dict) and f.get("name")]
        vocabulary = session_vocabulary(template.nodes, template.sources, fields)
    try:
        expression = compile_expression(expr, kind, vocabulary)
    except ExpressionError as exc:
        result.errors = [{"message": str(exc), "column": _column(str(exc))}]
        return result
    if kind == "when":
        try:
            result.values = _record_values(source, expression)
        except samples.SampleError as exc:
            result.note = f"no sample lines: {exc}"
    else:
        result.values, result.note = _session_values(document, expression)
    return result


def _node_source(document: dict[str, Any], node: str) -> CompiledSource | None:
    """The source a node reads, with its fields as dotted paths (what a `when` rule sees)."""
    nodes = [n for n in document.get("nodes") or [] if isinstance(n, dict) and n.get("name") == node]
    wanted = nodes[0].get("source") if nodes else None
    for spec in document.get("sources") or []:
        if isinstance(spec, dict) and spec.get("name") == wanted and isinstance(spec.get("fields"), dict):
            time = spec.get("time") if isinstance(spec.get("time"), dict) else {}
            time_path = str(time.get("path") or "")
            fields = {alias: tuple(str(path).split(".")) for alias, path in spec["fields"].items()}
            try:
                parse_time = make_time_parser(str(time["format"]), time.get("tz"))
            except (KeyError, TypeError, ValueError):
                parse_time = _no_time
            return CompiledSource(str(wanted), str(spec.get("location") or ""), tuple(time_path.split(".")), parse_time, fields)
    return None


def _no_time(value: object) -> int:
    raise ValueError("the source's time format is not set yet")


def _column(message: str) -> int | None:
    match = _COLUMN.search(message)
    return int(match.group(1) or match.group(2)) if match else None


def _shown(value: Any) -> Any:
    if isinstance(value, RuleFailure):
        return f"rule failure: {value.message}"
    return value if isinstance(value, (int, float, str, bool)) or value is None else json.dumps(value, default=str)


def _record_values(source: CompiledSource, expression: Any) -> list[dict[str, Any]]:
    values = []
    for record in samples.parsed(samples.read_lines(source.location, MAX_VALUES)):
        if not isinstance(record, dict):
            continue
        variables = {alias: dig(record, path) for alias, path in source.fields.items()}
        variables = {k: v for k, v in variables.items() if v is not None}
        try:
            variables["ts"] = source.parse_time(dig(record, source.time_path))
        except (ValueError, TypeError, OverflowError):
            pass  # the record would be a rejected line; its rule still shows what it reads
        context = new_context(variables)
        value = context if isinstance(context, RuleFailure) else expression.evaluate(context)
        values.append({"session": json.dumps(record, ensure_ascii=False)[:120], "value": _shown(value)})
    return values


def _session_values(document: dict[str, Any], expression: Any) -> tuple[list[dict[str, Any]], str]:
    """The rule on each session of a dry run of the draft (the draft's own rules included, as the job would)."""
    try:
        run = _sample_run(json.dumps(document, sort_keys=True), settings.LUNA_DATA_DIR, int(time.time() // SAMPLE_CACHE_SECONDS))
    except (TemplateError, samples.SampleError) as exc:
        return [], f"no sample sessions: {exc}"
    values = []
    for doc in run.sessions[:MAX_VALUES]:
        context = new_context(session_context(run.template, doc))
        value = context if isinstance(context, RuleFailure) else expression.evaluate(context)
        values.append({"session": doc["session_key"], "value": _shown(value)})
    return values, ""


@functools.lru_cache(maxsize=16)
def _sample_run(document_json: str, data_dir: str, period: int) -> dry_run.DryRun:
    """A small dry run per draft document, reused while the analyst types (sample files are re-read each period)."""
    return dry_run.run(json.loads(document_json), lines_per_source=500, seconds=2.0)


def session_context(template: CompiledTemplate, doc: dict[str, Any]) -> dict[str, Any]:
    """The variables the job's rules saw for this session (as `assemble` builds them), from its stored nodes."""
    firsts: dict[str, dict[str, Any]] = {}
    counts: dict[str, int] = {}
    for row in doc["nodes"]:
        counts[row["node"]] = counts.get(row["node"], 0) + 1
        if row["seq"] == 0:
            source = template.sources[row["source"]]
            record = json.loads(row["raw"])
            values = {alias: dig(record, path) for alias, path in source.fields.items()}
            firsts[row["node"]] = {k: v for k, v in values.items() if v is not None} | {"ts": row["ts"], "source": row["source"]}
    node_vars = {name: dict(values, count=counts[name]) for name, values in firsts.items()}
    computed = {f.name: doc["fields"][f.name] for f in template.fields if doc["fields"].get(f.name) is not None}
    session = {"key": doc["session_key"], "start": doc["start_ms"], "end": doc["end_ms"], "duration": doc["duration_ms"],
               "status": doc["status"]}
    return {"nodes": dict.fromkeys(node_vars, True), **node_vars, "session": session, **computed}

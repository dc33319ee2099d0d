"""The analysis template (SPEC §2): validated document → CompiledTemplate used by every stage.

Validation and compilation are one step, so the console's save-time errors and the job's behaviour can
never disagree. Errors are collected (not raised one by one) so an analyst sees every problem at once.
"""
import functools
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .durations import parse_duration_ms
from .expressions import Expression, ExpressionError, Inputs, compile_expression, rule_inputs
from .vocabulary import Vocabulary
from .timeparse import TimeParser, make_time_parser

NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"


class TemplateError(ValueError):
    """The document is not a valid template; `errors` lists every problem with its location."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("; ".join(errors))


class _Doc(BaseModel):
    model_config = ConfigDict(extra="allow")


class TimeSpec(_Doc):
    path: str = Field(min_length=1)
    format: str = Field(min_length=1)
    tz: str | None = None


class SourceSpec(_Doc):
    name: str = Field(pattern=NAME_PATTERN)
    location: str = Field(min_length=1)
    format: Literal["json"] = "json"
    time: TimeSpec
    fields: dict[str, str] = Field(default_factory=dict)


class SessionSpec(_Doc):
    key: str = Field(pattern=NAME_PATTERN)
    gap: str = "20m"
    timeout: str = "30s"
    allowed_lateness: str = "2h"
    out_of_orderness: str = "10s"
    complete_when: list[str] = Field(default_factory=list)


class JoinSpec(_Doc):
    on: str = Field(pattern=NAME_PATTERN)
    lower: str = "0s"
    upper: str = "+1h"


class NodeSpec(_Doc):
    name: str = Field(pattern=NAME_PATTERN)
    source: str
    parent: str | None = None
    when: str | None = None
    many: bool = False
    join: JoinSpec | None = None
    label: str | None = None


class FieldSpec(_Doc):
    name: str = Field(pattern=NAME_PATTERN)
    expr: str
    type: Literal["number", "string", "bool", "time"] = "string"


class ConclusionSpec(_Doc):
    name: str = Field(pattern=NAME_PATTERN)
    when: str
    severity: Literal["info", "low", "medium", "high", "critical"] = "medium"
    label: str = ""


class TemplateSpec(_Doc):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=100)
    description: str = ""
    sources: list[SourceSpec] = Field(min_length=1)
    session: SessionSpec
    nodes: list[NodeSpec] = Field(min_length=1)
    fields: list[FieldSpec] = Field(default_factory=list)
    conclusions: list[ConclusionSpec] = Field(default_factory=list)
    dimensions: list[str] = Field(default_factory=list)
    retention: str | None = None  # e.g. "90d": sessions older than this (by start) are deleted; None keeps them


SEVERITY_RANK = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}


@dataclass(frozen=True)
class CompiledJoin:
    on: str
    lower_ms: int
    upper_ms: int


@dataclass
class CompiledNode:
    name: str
    source: str
    parent: str | None
    many: bool
    when: Expression | None
    join: CompiledJoin | None
    label: str

    @property
    def is_supplement(self) -> bool:
        return self.join is not None


@dataclass
class CompiledSource:
    name: str
    location: str
    time_path: tuple[str, ...]
    parse_time: TimeParser
    fields: dict[str, tuple[str, ...]]
    nodes: list[CompiledNode] = field(default_factory=list)


@dataclass
class CompiledField:
    name: str
    expr: Expression
    type: str


@dataclass
class CompiledConclusion:
    name: str
    when: Expression
    severity: str
    label: str


@dataclass
class CompiledTemplate:
    """Everything the correlation needs, compiled once per template version."""

    document: dict[str, Any]
    name: str
    sources: dict[str, CompiledSource]
    nodes: dict[str, CompiledNode]
    session_key: str
    gap_ms: int
    timeout_ms: int
    lateness_ms: int
    out_of_orderness_ms: int
    complete_when: tuple[str, ...]
    fields: list[CompiledField]
    conclusions: list[CompiledConclusion]
    dimensions: list[str]
    join_fields: tuple[str, ...]
    fingerprint: str

    version: int | None = None  # the stored version this was compiled from, when the caller knows it
    retention_ms: int | None = None  # sessions starting longer ago than this are deleted (None: kept)

    @functools.cached_property
    def rule_inputs(self) -> "Inputs | None":
        """What the field and conclusion rules can read of a session's values (the rest never enters CEL)."""
        return rule_inputs([f.expr for f in self.fields] + [c.when for c in self.conclusions])

    @functools.cached_property
    def max_join_reach_ms(self) -> int:
        """How far (either way) a supplement can sit from its baseline event."""
        return max((max(abs(n.join.lower_ms), abs(n.join.upper_ms)) for n in self.nodes.values() if n.join), default=0)

    @functools.cached_property
    def join_hold_ms(self) -> int:
        """How much longer than gap + lateness a baseline event must be kept for supplements: one at
        `ts + upper` is on time until `ts + upper - lower + gap + lateness` (its horizon)."""
        return max((max(n.join.upper_ms - n.join.lower_ms, 0) for n in self.nodes.values() if n.join), default=0)


def document_fingerprint(document: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(document, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def compile_template(document: dict[str, Any], version: int | None = None) -> CompiledTemplate:
    """Validate and compile; raises TemplateError listing every problem found. `version` (the stored version's
    number) is carried onto every session the template produces."""
    try:
        spec = TemplateSpec.model_validate(document)
    except ValidationError as exc:
        raise TemplateError([_pydantic_message(err) for err in exc.errors()]) from None
    errors: list[str] = []
    durations = _durations(spec, errors)
    sources = _sources(spec, errors)
    nodes = _nodes(spec, sources, errors)
    _check_tree(spec, nodes, sources, errors)
    fields, conclusions = _rules(spec, nodes, sources, errors)
    if errors:
        raise TemplateError(errors)
    return CompiledTemplate(
        document=document,
        name=spec.name,
        sources=sources,
        nodes=nodes,
        session_key=spec.session.key,
        gap_ms=durations["gap"],
        timeout_ms=durations["timeout"],
        lateness_ms=durations["allowed_lateness"],
        out_of_orderness_ms=durations["out_of_orderness"],
        complete_when=tuple(spec.session.complete_when),
        fields=fields,
        conclusions=conclusions,
        dimensions=list(spec.dimensions),
        join_fields=tuple(sorted({n.join.on for n in nodes.values() if n.join})),
        fingerprint=document_fingerprint(document),
        version=version,
        retention_ms=durations.get("retention"),
    )


def _pydantic_message(err: dict[str, Any]) -> str:
    where = ".".join(str(part) for part in err["loc"]) or "(document)"
    return f"{where}: {err['msg']}"


def _durations(spec: TemplateSpec, errors: list[str]) -> dict[str, int]:
    result = {}
    for name in ("gap", "timeout", "allowed_lateness", "out_of_orderness"):
        try:
            result[name] = parse_duration_ms(getattr(spec.session, name))
            if result[name] < 0 or (name == "gap" and result[name] == 0):
                errors.append(f"session.{name}: must be positive")
        except ValueError as exc:
            errors.append(f"session.{name}: {exc}")
            result[name] = 0
    if spec.retention is not None:
        try:
            result["retention"] = parse_duration_ms(spec.retention)
            if result["retention"] < 86_400_000:
                errors.append("retention: at least one day (e.g. '90d'), or leave it out to keep sessions")
        except ValueError as exc:
            errors.append(f"retention: {exc}")
    return result


def _sources(spec: TemplateSpec, errors: list[str]) -> dict[str, CompiledSource]:
    sources: dict[str, CompiledSource] = {}
    for src in spec.sources:
        where = f"sources.{src.name}"
        if src.name in sources:
            errors.append(f"{where}: duplicate source name")
            continue
        try:
            parse_time = make_time_parser(src.time.format, src.time.tz)
        except ValueError as exc:
            errors.append(f"{where}.time: {exc}")
            parse_time = _unusable_time  # keep the source so its nodes are still checked (no cascade of errors)
        bad_paths = [alias for alias, path in src.fields.items() if not alias.isidentifier() or not path.strip()]
        for alias in bad_paths:
            errors.append(f"{where}.fields.{alias}: field names must be identifiers with a non-empty path")
        sources[src.name] = CompiledSource(
            name=src.name,
            location=src.location,
            time_path=tuple(src.time.path.split(".")),
            parse_time=parse_time,
            fields={alias: tuple(path.split(".")) for alias, path in src.fields.items()},
        )
    return sources


def _unusable_time(value: object) -> int:
    raise ValueError("the source's time format is invalid")


def _nodes(spec: TemplateSpec, sources: dict[str, CompiledSource], errors: list[str]) -> dict[str, CompiledNode]:
    nodes: dict[str, CompiledNode] = {}
    for node in spec.nodes:
        where = f"nodes.{node.name}"
        if node.name in nodes:
            errors.append(f"{where}: duplicate node name")
            continue
        source = sources.get(node.source)
        if source is None:
            errors.append(f"{where}.source: unknown source {node.source!r}")
            continue
        when = None
        if node.when:
            try:
                when = compile_expression(node.when, f"{where}.when", record_vocabulary(source))
            except ExpressionError as exc:
                errors.append(str(exc))
        join = None
        if node.join:
            try:
                join = CompiledJoin(node.join.on, parse_duration_ms(node.join.lower), parse_duration_ms(node.join.upper))
                if join.lower_ms > join.upper_ms:
                    errors.append(f"{where}.join: lower bound {node.join.lower} is after upper bound {node.join.upper}")
            except ValueError as exc:
                errors.append(f"{where}.join: {exc}")
            if node.join.on not in source.fields:
                errors.append(f"{where}.join.on: source {source.name!r} has no field {node.join.on!r}")
        elif spec.session.key not in source.fields:
            errors.append(f"{where}: baseline node's source {source.name!r} has no session key field {spec.session.key!r}")
        compiled = CompiledNode(node.name, node.source, node.parent, node.many, when, join, node.label or node.name)
        nodes[node.name] = compiled
        source.nodes.append(compiled)
    return nodes


def _check_tree(spec: TemplateSpec, nodes: dict[str, CompiledNode], sources: dict[str, CompiledSource], errors: list[str]) -> None:
    for node in nodes.values():
        if node.parent is not None and node.parent not in nodes:
            errors.append(f"nodes.{node.name}.parent: unknown node {node.parent!r}")
    for node in nodes.values():
        seen, current = {node.name}, node.parent
        while current is not None and current in nodes:
            if current in seen:
                errors.append(f"nodes.{node.name}.parent: the tree has a cycle through {current!r}")
                break
            seen.add(current)
            current = nodes[current].parent
    if nodes and not any(n.parent is None for n in nodes.values()):
        errors.append("nodes: the tree needs a root (a node with parent null)")
    if nodes and not any(not n.is_supplement for n in nodes.values()):
        errors.append("nodes: at least one baseline node (without join) is needed to open sessions")
    for name in spec.session.complete_when:
        if name not in nodes:
            errors.append(f"session.complete_when: unknown node {name!r}")
    baseline_fields = {alias for n in nodes.values() if not n.is_supplement for alias in sources[n.source].fields}
    for node in nodes.values():
        if node.join and node.join.on not in baseline_fields:
            errors.append(f"nodes.{node.name}.join.on: no baseline source carries {node.join.on!r}")
    known = {alias for s in sources.values() for alias in s.fields} | {f.name for f in spec.fields}
    for dim in spec.dimensions:
        if dim not in known:
            errors.append(f"dimensions: {dim!r} is neither a source field nor a computed field")


NODE_MEMBERS = ("ts", "count", "source")
SESSION_MEMBERS = frozenset({"key", "start", "end", "duration", "status"})


def record_vocabulary(source: CompiledSource) -> Vocabulary:
    """What a node's `when` reads: the record's fields (a record may lack one: no match) and its time."""
    return Vocabulary({**dict.fromkeys(source.fields), "ts": None}, absent_ok=frozenset(source.fields))


def session_vocabulary(nodes: dict[str, CompiledNode], sources: dict[str, CompiledSource], fields: list[str]) -> Vocabulary:
    """What field and conclusion rules read: each node with its source's fields, `nodes`, `session`, and the
    fields computed before (a session may lack a node, or a field whose rule yielded nothing: those read as absent)."""
    variables: dict[str, frozenset[str] | None] = {
        name: frozenset(sources[node.source].fields) | frozenset(NODE_MEMBERS) for name, node in nodes.items()
    }
    variables.update({"nodes": frozenset(nodes), "session": SESSION_MEMBERS})
    variables.update(dict.fromkeys(fields))
    return Vocabulary(variables, absent_ok=frozenset(nodes) | frozenset(fields))


def _rules(spec: TemplateSpec, nodes: dict[str, CompiledNode], sources: dict[str, CompiledSource],
           errors: list[str]) -> tuple[list[CompiledField], list[CompiledConclusion]]:
    fields: list[CompiledField] = []
    names: list[str] = []
    for item in spec.fields:
        if item.name in nodes or item.name in ("nodes", "session") or item.name in names:
            errors.append(f"fields.{item.name}: name clashes with a node, another field or a reserved word")
        try:
            vocabulary = session_vocabulary(nodes, sources, names)
            fields.append(CompiledField(item.name, compile_expression(item.expr, f"fields.{item.name}.expr", vocabulary), item.type))
        except ExpressionError as exc:
            errors.append(str(exc))
        names.append(item.name)
    conclusions: list[CompiledConclusion] = []
    seen: set[str] = set()
    vocabulary = session_vocabulary(nodes, sources, names)
    for rule in spec.conclusions:
        if rule.name in seen:
            errors.append(f"conclusions.{rule.name}: duplicate conclusion name")
        seen.add(rule.name)
        try:
            when = compile_expression(rule.when, f"conclusions.{rule.name}.when", vocabulary)
            conclusions.append(CompiledConclusion(rule.name, when, rule.severity, rule.label or rule.name))
        except ExpressionError as exc:
            errors.append(str(exc))
    return fields, conclusions

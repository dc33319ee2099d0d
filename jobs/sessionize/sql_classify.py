"""Node classification in Flink SQL: each source's lines are parsed once by the Java SQL function `luna_record`
(JSON → event time + field tokens, jvm/src/.../RecordTokens.java) and classified by a CASE over the nodes' `when`
rules compiled to SQL. Java (`SqlRows`) then addresses the events; no Python runs per line.

Exactness comes first: every rule value is three-valued plus "unsure". A leaf is 2 (true), 0 (false), 1 (the
record lacks the field: CEL's "undefined", which `||` and `&&` absorb as CEL does) or NULL (unsure: a type this
translation does not decide, e.g. a number compared with a string). `&&` is LEAST, `||` GREATEST, `!` is 2 − x, so
NULL propagates; a node whose rule is NULL — or a rule outside the subset, or a line `luna_record` could not read
exactly — classifies the line as '?', and the reference parser (Python) decides it, dead letters included.
`tests/test_sql_classify.py` checks SQL == Python on generated records and rules.

The subset: `field OP literal` (OP one of == != < <= > >=, literal a string without escapes or a number),
`field in [string, …]`, `&&`, `||`, `!( … )`, parentheses.
"""
import re
from dataclasses import dataclass

from .logic.template import CompiledSource, CompiledTemplate, compile_template
from .sql_sources import quote, time_expression

UNSURE = "CAST(NULL AS INT)"
TWO_53 = 2**53
_TOKEN = re.compile(r"""\s*(?:(?P<str>'[^'\\\n]*'|"[^"\\\n]*")|(?P<num>-?\d+\.\d+(?:[eE][+-]?\d+)?|-?\d+(?![.\w]))
    |(?P<ident>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>&&|\|\||==|!=|<=|>=|[<>!()\[\],]))""", re.VERBOSE)
_FLIP = {"==": "==", "!=": "!=", "<": ">", ">": "<", "<=": ">=", ">=": "<="}
_SQL_OP = {"==": "=", "!=": "<>", "<": "<", ">": ">", "<=": "<=", ">=": ">="}
_KEYWORDS = frozenset({"in", "true", "false", "null", "ts", "has", "nodes", "session"})


class Unsupported(ValueError):
    """The rule is outside the subset: its source's lines that reach it are classified by Python."""


def tokenize(text: str) -> list[tuple[str, str]]:
    tokens, at = [], 0
    while at < len(text):
        match = _TOKEN.match(text, at)
        if not match or match.end() == at:
            if text[at:].strip():
                raise Unsupported(f"unsupported text at {at}: {text[at:at + 20]!r}")
            break
        kind = match.lastgroup
        tokens.append((kind, match.group(kind)))
        at = match.end()
    return tokens


class _Parser:
    """Recursive descent over the subset; each method returns a SQL INT expression (0, 1, 2 or NULL)."""

    def __init__(self, text: str, columns: dict[str, str]):
        self.tokens, self.at, self.columns = tokenize(text), 0, columns

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self, text: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (text is not None and token[1] != text):
            raise Unsupported(f"expected {text or 'more'}")
        self.at += 1
        return token

    def parse(self) -> str:
        sql = self.disjunction()
        if self.peek() is not None:
            raise Unsupported(f"unexpected {self.peek()[1]!r}")
        return sql

    def disjunction(self) -> str:
        terms = [self.conjunction()]
        while self.peek() == ("op", "||"):
            self.take()
            terms.append(self.conjunction())
        return terms[0] if len(terms) == 1 else f"GREATEST({', '.join(terms)})"

    def conjunction(self) -> str:
        terms = [self.unary()]
        while self.peek() == ("op", "&&"):
            self.take()
            terms.append(self.unary())
        return terms[0] if len(terms) == 1 else f"LEAST({', '.join(terms)})"

    def unary(self) -> str:
        token = self.peek()
        if token == ("op", "!"):
            self.take()
            if self.peek() not in (("op", "("), ("op", "!")):  # `!a == b` is `(!a) == b` in CEL: not in the subset
                raise Unsupported("! must apply to a parenthesised rule")
            return f"(2 - {self.unary()})"
        if token == ("op", "("):
            self.take()
            inner = self.disjunction()
            self.take(")")
            if self.peek() is not None and self.peek()[1] not in ("&&", "||", ")"):
                raise Unsupported("a parenthesised rule used as a value")
            return inner
        return self.comparison()

    def comparison(self) -> str:
        left = self.take()
        if self.peek() == ("ident", "in"):
            self.take()
            return self.membership(self.field(left))
        op = self.take()[1]
        if op not in _SQL_OP:
            raise Unsupported(f"operator {op!r}")
        right = self.take()
        if left[0] == "ident":
            return leaf(self.field(left), op, right)
        if right[0] == "ident":
            return leaf(self.field(right), _FLIP[op], left)
        raise Unsupported("a comparison needs one field")

    def membership(self, column: str) -> str:
        self.take("[")
        items = []
        while self.peek() != ("op", "]"):
            kind, text = self.take()
            if kind != "str":
                raise Unsupported("`in` lists of strings only")
            items.append(text[1:-1])
            if self.peek() == ("op", ","):
                self.take()
        self.take("]")
        if not items:
            raise Unsupported("empty list")
        listed = ", ".join(quote("s" + item) for item in items)
        return f"(CASE WHEN {column} IS NULL THEN 1 WHEN {column} IN ({listed}) THEN 2 WHEN SUBSTR({column}, 1, 1) = 's' THEN 0 END)"

    def field(self, token: tuple[str, str]) -> str:
        kind, name = token
        if kind != "ident" or name in _KEYWORDS or name not in self.columns:
            raise Unsupported(f"{name!r} is not a field of the source")
        return self.columns[name]


def leaf(column: str, op: str, literal: tuple[str, str]) -> str:
    """`field OP literal` over a token column: 1 when the field is absent, NULL when its type is not the literal's."""
    kind, text = literal
    sql_op = _SQL_OP[op]
    if kind == "str":
        return (f"(CASE WHEN {column} IS NULL THEN 1 WHEN SUBSTR({column}, 1, 1) = 's' THEN "
                f"CASE WHEN SUBSTR({column}, 2) {sql_op} {quote(text[1:-1])} THEN 2 ELSE 0 END END)")
    if kind != "num":
        raise Unsupported(f"literal {text!r}")
    value = f"SUBSTR({column}, 2)"
    if "." not in text:
        if abs(int(text)) >= TWO_53:
            raise Unsupported("integer literal beyond 2^53")
        as_int = f"CASE WHEN CAST({value} AS BIGINT) {sql_op} {int(text)} THEN 2 ELSE 0 END"
        as_double = f"CASE WHEN CAST({value} AS DOUBLE) {sql_op} CAST({int(text)} AS DOUBLE) THEN 2 ELSE 0 END"
    else:
        number = float(text)
        as_double = f"CASE WHEN CAST({value} AS DOUBLE) {sql_op} CAST({number!r} AS DOUBLE) THEN 2 ELSE 0 END"
        as_int = (f"CASE WHEN ABS(CAST({value} AS BIGINT)) < {TWO_53} THEN "
                  f"CASE WHEN CAST(CAST({value} AS BIGINT) AS DOUBLE) {sql_op} CAST({number!r} AS DOUBLE) THEN 2 ELSE 0 END END")
    return (f"(CASE WHEN {column} IS NULL THEN 1 WHEN SUBSTR({column}, 1, 1) = 'i' THEN {as_int} "
            f"WHEN SUBSTR({column}, 1, 1) = 'f' THEN {as_double} END)")


def rule_sql(text: str, columns: dict[str, str]) -> str:
    """A node's `when` as SQL (0/1/2/NULL); UNSURE when outside the subset."""
    try:
        return _Parser(text, columns).parse()
    except Unsupported:
        return UNSURE


@dataclass(frozen=True)
class SourcePlan:
    """What the SQL path of one source computes: the fields it reads (token i + 1 is fields[i]) and its query."""

    source: str
    fields: tuple[str, ...]
    record_spec: str
    query: str


def plan_source(template: CompiledTemplate, source: CompiledSource, table: str) -> SourcePlan | None:
    """The SQL classification of one source, or None when only Python can parse it (time format, odd paths)."""
    document = next(s for s in template.document["sources"] if s["name"] == source.name)
    time = document["time"]
    if time["format"] not in ("epoch_ms", "epoch_s", "iso8601") and time["format"].removesuffix(".%f") not in (
            "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"):
        return None
    paths = [source.time_path, *source.fields.values()]
    if any(not _plain_part(part) for path in paths for part in path):
        return None
    needed = [name for name in source.fields if _needed(template, source, name)]
    columns = {name: f"f[{i + 2}]" for i, name in enumerate(needed)}
    spec = "\n".join([f"time\t{time['format']}\t{time.get('tz') or ''}", "path\t" + ".".join(source.time_path),
                      *("field\t" + ".".join(source.fields[name]) for name in needed)])
    node = _node_case(source, columns)
    query = (f"SELECT source, line, origin, rt, f, {node} AS node FROM (SELECT {quote(source.name)} AS source, line, "
             f"origin, rt, luna_record(line, {quote(spec)}) AS f FROM `{table}`)")
    return SourcePlan(source.name, tuple(needed), spec, query)


def _plain_part(part: str) -> bool:
    return part.isascii() and part.isprintable() and "\t" not in part and "\n" not in part


def _needed(template: CompiledTemplate, source: CompiledSource, name: str) -> bool:
    if name == template.session_key or name in template.join_fields:
        return True
    return any(node.when is not None and re.search(rf"\b{re.escape(name)}\b", node.when.source) for node in source.nodes)


def _node_case(source: CompiledSource, columns: dict[str, str]) -> str:
    """First node whose rule is true (declaration order), '' when none is, '?' when SQL cannot be sure."""
    sql = "''"
    for node in reversed(source.nodes):
        if node.when is None:
            sql = quote(node.name)
        else:
            sql = f"CASE COALESCE({rule_sql(node.when.source, columns)}, 3) WHEN 2 THEN {quote(node.name)} WHEN 3 THEN '?' ELSE {sql} END"
    return f"CASE WHEN f IS NULL THEN '?' ELSE {sql} END"


def address_spec(template: CompiledTemplate, plans: list[SourcePlan]) -> str:
    """What SqlRows needs to address an event: per source the token of the session key and of each join field it
    carries (in the template's join-field order), per supplement node its join field's token."""
    lines = []
    for plan in plans:
        index = {name: i + 1 for i, name in enumerate(plan.fields)}
        joins = [f"{name}:{index[name]}" for name in template.join_fields if name in index]
        lines.append(" ".join(["source", plan.source, str(index.get(template.session_key, -1)), *joins]))
        for node in template.sources[plan.source].nodes:
            lines.append(f"node {node.name} {node.join.on} {index[node.join.on]}" if node.join else f"node {node.name}")
    return "\n".join(lines)


def compiled_sources(document: dict) -> dict[str, str]:
    """Per source the JVM engine classifies in SQL, what the job compiled from the template (query and addressing).

    A running job cannot swap these: a version that changes one (a node's `when`, the nodes of a source or their
    order, the fields the rules read) needs a restart (logic/rollout.py). Sources SQL cannot time or plan are
    parsed by Python, which follows published versions, so their rules stay hot-updatable."""
    template = compile_template(document)
    compiled = {}
    for source in document.get("sources", []):
        name, time = source["name"], source["time"]
        if time_expression("x", time["format"], time.get("tz")) is None:
            continue
        if plan := plan_source(template, template.sources[name], f"src_{name}"):
            compiled[name] = plan.query + "\n" + address_spec(template, [plan])
    return compiled

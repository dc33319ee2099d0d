"""One raw line → an Event (or a Rejection with its reason). Dead letters never lose the raw line."""
import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from .expressions import RuleFailure, new_context
from .template import CompiledSource, CompiledTemplate

MAX_REASON = 500


@dataclass(slots=True)
class Event:
    """A parsed record routed to one node of the behaviour tree."""

    source: str
    node: str
    ts: int
    session_key: str | None
    join_key: str | None
    joins: dict[str, str]
    values: dict[str, Any]
    raw: str
    uid: str
    origin: str = ""
    supplement: bool = False


@dataclass(slots=True)
class Rejection:
    """A line that could not be used, with the reason an operator can act on."""

    source: str
    reason: str
    raw: str
    origin: str = ""


@dataclass(slots=True)
class Ignored:
    """A valid record that feeds no node (e.g. a client event the tree does not use); counted, not stored."""

    source: str
    uid: str = field(default="")


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _valid_unicode(record: Any) -> bool:
    """Escaped surrogate pairs (e.g. emoji) are fine; a lone one cannot be evaluated by rules nor stored."""
    try:
        json.dumps(record, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def line_uid(source: str, line: str) -> str:
    """Content hash: an identical line shipped twice (at-least-once delivery) is one event. `surrogatepass`: a
    line holding a lone surrogate (undecodable input) still has a hash, so its dead letter is stored once."""
    return hashlib.blake2b(f"{source}\x00{line}".encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def storable_text(text: str) -> str:
    """Text every database accepts: a lone surrogate (which UTF-8 cannot encode) becomes its JSON escape
    `\\udXXX`, the form it had in a JSON line, so nothing is lost and the row can be written."""
    if text.isascii() or not _LONE_SURROGATE.search(text):  # isascii: one C pass, the common case
        return text
    return _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def _parse_int(text: str) -> int | str:
    """Integers beyond 64 bits (rules and databases cannot hold them) are kept exact, as their digits."""
    value = int(text)
    return value if INT64_MIN <= value <= INT64_MAX else text


def _parse_float(text: str) -> float | str:
    """A float that overflows (1e999) is kept as written; JSON has no infinity."""
    value = float(text)
    return value if math.isfinite(value) else text


# One decoder, made once: json.loads with hooks builds a decoder and its scanner on every call (≈ 6 µs of a 10 µs
# parse of a demo line, measured), and the assembly rebuilds every event of a session from its line.
_HOOKS = {"parse_constant": str, "parse_int": _parse_int, "parse_float": _parse_float}
_KEEPING = json.JSONDecoder(**_HOOKS)


def load_record(text: str) -> Any:
    """json.loads that never yields NaN, ±Infinity or an integer beyond 64 bits: those are kept as text
    ('NaN', 'Infinity', '123456789012345678901234'), exact and searchable, so no path downstream (rules, storage,
    the API's JSON) meets a value it cannot represent."""
    if text[:1] == "\ufeff":  # json.loads refuses a BOM with its own message
        return json.loads(text, **_HOOKS)
    return _KEEPING.decode(text)


def dig(record: Any, path: tuple[str, ...]) -> Any:
    """Follow a dotted path into nested objects (list indexes allowed); None when absent."""
    current = record
    for part in path:
        if isinstance(current, dict):
            current = current.get(part)
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return None
        if current is None:
            return None
    return current


def _scalar(value: Any) -> Any:
    """Keep scalars; nested objects become compact JSON text so they stay searchable."""
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return value


def parse_line(template: CompiledTemplate, source_name: str, line: str, origin: str = "") -> Event | Rejection | Ignored:
    """Parse, extract the template's fields, classify into a node. Never raises on bad input."""
    source = template.sources[source_name]
    text = line.strip()
    if not text:
        return Rejection(source_name, "empty line", line, origin)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # e.g. a lone surrogate from a reader decoding with surrogateescape
        return Rejection(source_name, f"not valid UTF-8 text: {exc}"[:MAX_REASON], line, origin)
    try:
        record = load_record(text)
    except ValueError as exc:
        return Rejection(source_name, f"bad JSON: {exc}"[:MAX_REASON], line, origin)
    except RecursionError:
        return Rejection(source_name, "bad JSON: nested too deeply", line, origin)
    if not isinstance(record, dict):
        return Rejection(source_name, f"bad JSON: expected an object, got {type(record).__name__}", line, origin)
    if _SURROGATE_ESCAPE.search(text) and not _valid_unicode(record):
        return Rejection(source_name, "bad JSON: a \\u escape decodes to a lone surrogate (not valid Unicode)", line, origin)
    raw_time = dig(record, source.time_path)
    if raw_time is None:
        return Rejection(source_name, f"missing time at '{'.'.join(source.time_path)}'", line, origin)
    try:
        ts = source.parse_time(raw_time)
    except (ValueError, OverflowError, OSError) as exc:
        return Rejection(source_name, f"unparseable time {raw_time!r}: {exc}"[:MAX_REASON], line, origin)
    values = field_values(source, record)
    try:
        node = _classify(source, values, ts)
    except RuleError as exc:
        return Rejection(source_name, str(exc)[:MAX_REASON], line, origin)
    uid = line_uid(source_name, text)
    if node is None:
        return Ignored(source_name, uid)
    return _event(template, node, ts, values, text, uid, line, origin)


def field_values(source: CompiledSource, record: dict) -> dict[str, Any]:
    """The template's fields of one record (absent and null fields left out): `dig` and `_scalar` inlined, since
    this runs for every field of every event the assembly rebuilds."""
    values: dict[str, Any] = {}
    for alias, path in source.fields.items():
        current = record
        for part in path:
            if isinstance(current, dict):
                current = current.get(part)
            elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
                current = current[int(part)]
            else:
                current = None
            if current is None:
                break
        if current is not None:
            values[alias] = _scalar(current) if isinstance(current, (dict, list)) else current
    return values


def event_from_line(template: CompiledTemplate, source_name: str, node_name: str, ts: int, text: str, origin: str) -> Event:
    """The Event of a line SQL already parsed and classified (node and time known): its values from the line, the
    rest as `parse_line` makes it. Called once per session revision for each of its events (not per line)."""
    source = template.sources[source_name]
    values = field_values(source, load_record(text))
    event = _event(template, template.nodes[node_name], ts, values, text, line_uid(source_name, text), text, origin)
    if not isinstance(event, Event):
        raise ValueError(f"SQL classified a line Python rejects: {event.reason}")
    return event


def _event(template: CompiledTemplate, node, ts: int, values: dict[str, Any], text: str, uid: str, line: str,
           origin: str) -> Event | Rejection:
    source_name = node.source
    if node.join is not None:
        join_key = values.get(node.join.on)
        if join_key in (None, ""):
            return Rejection(source_name, f"missing join field '{node.join.on}' for supplement node '{node.name}'", line, origin)
        return Event(source_name, node.name, ts, None, str(join_key), {}, values, text, uid, origin, True)
    key = values.get(template.session_key)
    if key in (None, ""):
        return Rejection(source_name, f"missing session key '{template.session_key}' for node '{node.name}'", line, origin)
    joins = {name: str(values[name]) for name in template.join_fields if values.get(name) not in (None, "")}
    return Event(source_name, node.name, ts, str(key), None, joins, values, text, uid, origin, False)


class RuleError(ValueError):
    """A node's `when` failed on this record for a reason other than an absent field (e.g. a type mismatch)."""


def _classify(source: CompiledSource, values: dict[str, Any], ts: int):
    """First node of this source whose `when` holds (declaration order); None when none does.

    A field the record does not carry means "no match" (client logs mix many event shapes); any other
    evaluation failure (division by zero, type mismatch, overflow) is a rule error: the record goes to the dead
    letters naming the rule and the message.
    """
    context = None
    for node in source.nodes:
        if node.when is None:
            return node
        if context is None:
            context = new_context(dict(values, ts=ts))
            if isinstance(context, RuleFailure):
                raise RuleError(f"rule nodes.{node.name}.when failed: the record's values cannot be evaluated: {context.message}")
        matched = node.when.evaluate(context)
        if isinstance(matched, RuleFailure):
            raise RuleError(f"rule nodes.{node.name}.when failed: {matched.message}")
        if matched is True:
            return node
    return None

"""Field conditions typed by analysts ("amount_value > 100", "channel = alipay", "order_id ^= ORD-10").

A condition is parsed once into a typed `FieldCondition`, checked against the template catalog, and compiled
into one Q over luna_session_field's (template, name, value) indexes; values only ever travel as parameters.
"""
import re
from dataclasses import dataclass

from django.db.models import Q

from . import search

OPERATORS = {
    "=": "equals (text or number; a trailing * is a prefix)",
    "!=": "has no such value",
    ">": "greater than", ">=": "at least", "<": "less than", "<=": "at most",
    "^=": "starts with",
}
_NUMERIC = {">": "gt", ">=": "gte", "<": "lt", "<=": "lte"}
_PATTERN = re.compile(r"^\s*([A-Za-z_][\w.\-]*)\s*(>=|<=|!=|\^=|=|>|<)\s*(.*?)\s*$")
MAX_CONDITIONS = 10


@dataclass(frozen=True)
class FieldCondition:
    name: str
    op: str
    value: str

    def __str__(self) -> str:
        return f"{self.name} {self.op} {self.value}"


def parse(text: str) -> list[FieldCondition]:
    """One condition per line (or `;`-separated); raises ValueError naming every line that is not one."""
    lines = [line.strip() for line in re.split(r"[\n;]", text or "") if line.strip()]
    if len(lines) > MAX_CONDITIONS:
        raise ValueError(f"At most {MAX_CONDITIONS} conditions at once.")
    conditions, problems = [], []
    for line in lines:
        match = _PATTERN.match(line)
        if not match or not match.group(3):
            problems.append(f"{line!r} is not a condition such as amount_value > 100 (operators: {' '.join(OPERATORS)})")
            continue
        name, op, value = match.groups()
        if op in _NUMERIC and search.as_number(value) is None:
            problems.append(f"{line!r}: {op} needs a number")
            continue
        conditions.append(FieldCondition(name, op, value))
    if problems:
        raise ValueError("; ".join(problems))
    return conditions


def row_match(condition: FieldCondition) -> Q:
    """The field rows a condition looks for (for `!=`, the rows a matching session must not have)."""
    op, value = condition.op, condition.value
    if op in ("=", "!="):
        return search.value_match(value)
    if op == "^=":
        return search.starts_with("str_value", value)
    return Q(**{f"num_value__{_NUMERIC[op]}": search.as_number(value)})


def all_q(template_ids: list[int], conditions: list[FieldCondition]) -> Q:
    """Sessions meeting every condition, planned together: the most selective positive condition drives, the others
    probe each candidate (search.all_fields_q); `!=` is always a per-session NOT EXISTS probe."""
    positive = [(item.name, row_match(item)) for item in conditions if item.op != "!="]
    result = search.all_fields_q(template_ids, positive)
    for item in conditions:
        if item.op == "!=":
            result &= ~search.probe_q(item.name, row_match(item))
    return result


def to_q(template_ids: list[int], condition: FieldCondition) -> Q:
    """The sessions matching one condition."""
    return all_q(template_ids, [condition])

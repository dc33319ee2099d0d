"""Hypothesis strategies shared by the property tests: rule expressions from a CEL-like grammar (names a template
may or may not have, literals at the 64-bit edges, every operator), and arbitrary input lines (any JSON, text or bytes)."""
import json

from hypothesis import strategies as st

ATOMS = st.sampled_from(["1", "0", "2.5", "'a'", "qty", "event", "order.amount", "delivery.count", "true", "null",
                         "9223372036854775807", "-9223372036854775808", "[1, 2]", "{'k': 1}", "order", "nodes"])
OPERATORS = st.sampled_from([" + ", " - ", " * ", " / ", " % ", " == ", " != ", " < ", " >= ", " && ", " || ", " in "])


def rule_expressions(depth: int = 3):
    if depth == 0:
        return ATOMS
    sub = rule_expressions(depth - 1)
    return st.one_of(
        ATOMS,
        st.tuples(sub, OPERATORS, sub).map("".join),
        sub.map(lambda e: f"!({e})"),
        sub.map(lambda e: f"-({e})"),
        sub.map(lambda e: f"size({e})"),
        sub.map(lambda e: f"({e}).contains('a')"),
        st.tuples(sub, sub, sub).map(lambda t: f"({t[0]}) ? ({t[1]}) : ({t[2]})"),
    )


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)


def input_lines():
    """Any JSON, any text, any bytes (decoded as a reader would, with surrogateescape), and near-valid records."""
    near_valid = st.fixed_dictionaries({
        "time": st.one_of(st.text(max_size=30), st.integers(), st.floats()),
        "type": st.sampled_from(["order_created", "x"]),
        "order": st.fixed_dictionaries({"id": st.text(max_size=6), "amount": st.fixed_dictionaries({"value": JSON_VALUES})}),
    })
    return st.one_of(
        JSON_VALUES.map(json.dumps),
        st.text(max_size=60),
        st.binary(max_size=60).map(lambda b: b.decode("utf-8", "surrogateescape")),
        near_valid.map(json.dumps),
    )

"""Save-time checking of rule expressions against the template's own vocabulary (SPEC §2).

The CEL engine accepts any name at compile time and only fails at run time, so a rule such as
`count(delivery) > 1` would save and then silently never hold. This module reads the expression's tokens and
refuses, with the column, every name, field and function the engine or the template does not provide. It also
bounds size and nesting before the engine sees the text: the Rust parser recurses per operator and per bracket
and overflows the thread's stack (a segfault, not an exception) on ~25,000-term sums or member chains.
"""
import re
from dataclasses import dataclass, field

MAX_LENGTH = 2000  # characters of one rule
MAX_DEPTH = 24  # nesting of (), [] and {}
MAX_OPERATORS = 300  # binary operators, member selections and calls

# Measured against the engine (tests/test_logic_vocabulary.py runs each): everything else is "undefined" there.
FUNCTIONS = frozenset({"size", "string", "int", "uint", "double", "bytes", "duration", "timestamp", "type", "dyn", "has"})
METHODS = frozenset({
    "size", "contains", "startsWith", "endsWith", "matches", "all", "exists", "exists_one", "map", "filter",
    "getFullYear", "getMonth", "getDayOfYear", "getDayOfMonth", "getDate", "getDayOfWeek", "getHours", "getMinutes",
    "getSeconds", "getMilliseconds",
})
MACROS_BINDING = frozenset({"all", "exists", "exists_one", "map", "filter"})  # first argument names a loop variable
CONSTANTS = frozenset({"true", "false", "null", "in", "int", "uint", "double", "bool", "string", "bytes", "list", "map",
                       "null_type", "type"})

_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<str>[rRbB]{0,2}(?:'''(?:\\.|[^\\])*?'''|\"\"\"(?:\\.|[^\\])*?\"\"\"|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"))
  | (?P<num>0[xX][0-9a-fA-F]+[uU]?|\d+\.\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|\d+(?:[eE][+-]?\d+)?[uU]?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>&&|\|\||==|!=|<=|>=|[-+*/%<>!?:.,()\[\]{}])
""", re.VERBOSE)
_BINARY = frozenset({"&&", "||", "==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "%", "?", ".", "in"})


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    column: int  # 1-based, as an editor shows it


@dataclass(frozen=True)
class Vocabulary:
    """The names a rule may read: each variable with the members it has (None: a scalar or anything)."""

    variables: dict[str, frozenset[str] | None]
    absent_ok: frozenset[str] = field(default_factory=frozenset)  # names that may be missing from a session (nodes, fields)


def tokens(text: str) -> list[Token]:
    """Lex like CEL; an unknown character ends the scan (the engine's parser reports it with its position)."""
    out, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            break
        if match.lastgroup != "ws":
            out.append(Token(match.lastgroup, match.group(), position + 1))
        position = match.end()
    return out


def check_bounds(text: str) -> list[str]:
    """Size limits that keep the engine's recursive parser within any thread's stack."""
    if len(text) > MAX_LENGTH:
        return [f"the expression is {len(text)} characters long; at most {MAX_LENGTH} are allowed"]
    depth, deepest, operators = 0, 0, 0
    for token in tokens(text):
        if token.text in "([{" and token.kind == "op":
            depth += 1
            deepest = max(deepest, depth)
            operators += token.text == "("
        elif token.text in ")]}" and token.kind == "op":
            depth -= 1
        elif token.text in _BINARY:
            operators += 1
    problems = []
    if deepest > MAX_DEPTH:
        problems.append(f"brackets are nested {deepest} deep; at most {MAX_DEPTH} levels are allowed")
    if operators > MAX_OPERATORS:
        problems.append(f"the expression has {operators} operators; at most {MAX_OPERATORS} are allowed")
    return problems


def check_names(text: str, vocabulary: Vocabulary) -> list[str]:
    """Every variable, member of a known variable, function and method must exist; each problem with its column."""
    toks = tokens(text)
    loop_vars = {toks[i + 3].text for i in range(len(toks) - 3)
                 if toks[i].text == "." and toks[i + 1].text in MACROS_BINDING and toks[i + 2].text == "("
                 and toks[i + 3].kind == "ident"}
    known = sorted(vocabulary.variables)
    problems: list[str] = []
    for i, token in enumerate(toks):
        if token.kind != "ident":
            continue
        after_dot = i > 0 and toks[i - 1].text == "."
        is_call = i + 1 < len(toks) and toks[i + 1].text == "("
        if after_dot and is_call:
            if token.text not in METHODS:
                problems.append(f"unknown method '{token.text}' at column {token.column}; methods available: {', '.join(sorted(METHODS))}")
        elif after_dot:
            owner = toks[i - 2] if i >= 2 else None
            rooted = owner is not None and owner.kind == "ident" and (i < 3 or toks[i - 3].text != ".")
            members = vocabulary.variables.get(owner.text) if rooted and owner.text not in loop_vars else None
            if members is not None and token.text not in members:
                problems.append(f"'{owner.text}' has no field '{token.text}' (column {token.column}); "
                                f"its fields: {', '.join(sorted(members))}")
        elif is_call:
            if token.text not in FUNCTIONS:
                problems.append(f"unknown function '{token.text}' at column {token.column}; functions available: "
                                f"{', '.join(sorted(FUNCTIONS))} (and the methods {', '.join(sorted(METHODS))})")
        elif token.text not in vocabulary.variables and token.text not in loop_vars and token.text not in CONSTANTS:
            problems.append(f"unknown name '{token.text}' at column {token.column}; names available: {', '.join(known)}")
    return problems

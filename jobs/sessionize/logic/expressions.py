"""Template rules in CEL (Common Expression Language, Rust engine via `common-expression-language`).

CEL is sandboxed by design (no I/O, no attribute access on Python objects, guaranteed termination), so
analysts' rules cannot reach the host. One addition to standard CEL: `has(node)` with a bare node name
means "the node is present in the session" (rewritten to `has(nodes.node)`).

Evaluation is total (SPEC §2): whatever a rule does with whatever data, `evaluate` returns a value or a
`RuleFailure`; nothing raises into the job.
"""
import re
from dataclasses import dataclass, field
from typing import Any

import cel

from .vocabulary import Vocabulary, check_bounds, check_names

_BARE_HAS = re.compile(r"\bhas\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)")
_UNDEFINED = re.compile(r"Undefined variable or function: '([^']+)'")
MAX_MESSAGE = 300
# Never swallowed: interpreter control flow. Everything else, the binding's PanicException (a BaseException) included,
# becomes a message.
_CONTROL = (KeyboardInterrupt, SystemExit, GeneratorExit)


class ExpressionError(ValueError):
    """A rule that does not compile; the message names the rule and what is wrong with it."""


@dataclass(frozen=True, slots=True)
class RuleFailure:
    """A rule that failed on this data (division by zero, missing field, type mismatch, overflow ...)."""

    message: str


@dataclass
class Expression:
    """A compiled rule. `absent_ok` names what a session may lack (nodes, fields): reading one yields None."""

    source: str
    program: Any = field(repr=False)
    variables: frozenset[str] = frozenset()
    absent_ok: frozenset[str] = frozenset()
    variables_known: bool = True  # False when the binding could not list them: then nothing may be left out

    def evaluate(self, context: Any) -> Any:
        """The rule's value, None when it reads a node or field the session does not have, else a RuleFailure."""
        try:
            return self.program.execute(context)
        except _CONTROL:
            raise
        except BaseException as exc:  # noqa: B036 — the binding's PanicException is not an Exception
            missing = _UNDEFINED.search(str(exc))
            if missing and missing.group(1) in self.absent_ok:
                return None
            return RuleFailure(describe_failure(exc))


def describe_failure(exc: BaseException) -> str:
    """A short reason an analyst can act on (CEL's KeyError text is only the key)."""
    if isinstance(exc, KeyError):
        return f"no such field: {exc.args[0] if exc.args else exc}"
    text = str(exc).split(". Check that", 1)[0] or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:MAX_MESSAGE]


def new_context(variables: dict[str, Any]) -> Any:
    """A CEL context converted once and reusable by many rules (dicts are re-converted on every call).

    Returns a RuleFailure when the values cannot be converted (e.g. an integer beyond 64 bits)."""
    context = cel.Context()
    try:
        context.update(variables)
    except _CONTROL:
        raise
    except BaseException as exc:  # noqa: B036
        return RuleFailure(describe_failure(exc))
    return context


def compile_expression(text: str, where: str, vocabulary: Vocabulary | None = None) -> Expression:
    """Compile once per template version; `where` names the rule in error messages.

    With a vocabulary, every name, field and function is checked (the template compiler always passes one)."""
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError(f"{where}: expression is empty")
    problems = check_bounds(text)
    if not problems and vocabulary is not None:
        problems = check_names(text, vocabulary)
    if problems:
        raise ExpressionError(f"{where}: " + "; ".join(problems))
    rewritten = _BARE_HAS.sub(r"has(nodes.\1)", text)
    try:
        program = cel.compile(rewritten)
    except _CONTROL:
        raise
    except BaseException as exc:  # noqa: B036 — a parser panic must become a message, not a dead process
        raise ExpressionError(f"{where}: {str(exc)[:1000]}") from None
    try:
        names, known = frozenset(program.variables()), True
    except Exception:  # variables() is introspection only; never block a valid rule on it
        names, known = frozenset(), False
    absent_ok = vocabulary.absent_ok if vocabulary is not None else frozenset()
    return Expression(source=text, program=program, variables=names, absent_ok=absent_ok, variables_known=known)


_SELECTED = r"\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)\b(?!\s*\()"  # `.name` not followed by a call (a macro like `.all(`)
_SELECTED_FROM = re.compile(r"[A-Za-z0-9_)\]]\s*\.\s*$")  # a key selected from another value (a leading `.` is not)
Inputs = dict[str, frozenset[str] | None]


def rule_inputs(expressions: list[Expression]) -> Inputs | None:
    """What the rules can read: top-level name → the keys of it they select (`order.amount` → amount), or None
    when a rule may read the whole value (used bare, indexed, iterated, or anything this does not recognise).

    Converting values into a CEL context is the costly part of evaluating rules (≈ 30 µs per node's values); a
    rule cannot see what it does not name, so the rest is left out. Conservative by construction: an occurrence
    inside a string literal or as another value's key can only keep more. None when any rule's names are unknown."""
    inputs: dict[str, set[str] | None] = {}
    for expression in expressions:
        if not expression.variables_known or not all(name.isidentifier() for name in expression.variables):
            return None  # unknown, or a form this does not read (`.order`, a qualified name): keep everything
        source = _BARE_HAS.sub(r"has(nodes.\1)", expression.source)  # as compiled
        for name in expression.variables:
            keys = [m.group(1) for m in re.finditer(rf"\b{re.escape(name)}\b(?:{_SELECTED})?", source)
                    if not _SELECTED_FROM.search(source, 0, m.start())]  # `nodes.order` is not the variable `order`
            for key in keys or [None]:  # not found as written: keep it whole
                if key is None:
                    inputs[name] = None
                elif inputs.get(name, set()) is not None:
                    inputs.setdefault(name, set()).add(key)
    return {name: None if keys is None else frozenset(keys) for name, keys in inputs.items()}


def project(values: dict[str, Any], inputs: Inputs | None) -> dict[str, Any]:
    """`values` cut down to what `rule_inputs` says the rules can read."""
    if inputs is None:
        return values
    projected = {}
    for name, value in values.items():
        if name in inputs:
            keys = inputs[name]
            projected[name] = value if keys is None or not isinstance(value, dict) else {k: v for k, v in value.items() if k in keys}
    return projected

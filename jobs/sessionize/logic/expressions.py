"""Template rules in CEL (Common Expression Language, Rust engine via `common-expression-language`).

CEL is sandboxed by design (no I/O, no attribute access on Python objects, guaranteed termination), so
analysts' rules cannot reach the host. One addition to standard CEL: `has(node)` with a bare node name
means "the node is present in the session" (rewritten to `has(nodes.node)`).
"""
import re
from dataclasses import dataclass, field
from typing import Any

import cel

_BARE_HAS = re.compile(r"\bhas\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)")


class ExpressionError(ValueError):
    """A rule that does not compile; the message names the rule and CEL's own diagnosis."""


@dataclass
class Expression:
    """A compiled rule; `evaluate` returns None instead of raising when data is missing."""

    source: str
    program: Any = field(repr=False)
    variables: frozenset[str] = frozenset()

    def evaluate(self, context: dict[str, Any]) -> Any:
        """Evaluate; a reference to an absent node or a type mismatch yields None (recorded by callers)."""
        try:
            return self.program.execute(context)
        except (RuntimeError, TypeError, ValueError):
            return None

    def evaluate_strict(self, context: dict[str, Any]) -> Any:
        """Evaluate and let CEL's error through (used by the preview to explain a rule)."""
        return self.program.execute(context)


def new_context(variables: dict[str, Any]) -> Any:
    """A CEL context converted once and reusable by many rules (dicts are re-converted on every call)."""
    context = cel.Context()
    context.update(variables)
    return context


def compile_expression(text: str, where: str) -> Expression:
    """Compile once per template version; `where` names the rule in error messages."""
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError(f"{where}: expression is empty")
    rewritten = _BARE_HAS.sub(r"has(nodes.\1)", text)
    try:
        program = cel.compile(rewritten)
    except ValueError as exc:
        raise ExpressionError(f"{where}: {exc}") from None
    try:
        names = frozenset(program.variables())
    except Exception:  # variables() is introspection only; never block a valid rule on it
        names = frozenset()
    return Expression(source=text, program=program, variables=names)

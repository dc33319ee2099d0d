"""Strict JSON for template documents: what the parser, the import form, the CLI and the save service accept.

Python's json accepts NaN/Infinity (the database's JSON_VALID does not), recurses once per nesting level
(a deep document raises RecursionError) and keeps lone surrogates (not encodable as UTF-8). These checks turn
each into a clear message before anything is compiled or stored. The walk is iterative, so it cannot recurse.
"""
import json
import math
from typing import Any

MAX_DEPTH = 32  # a template document is about 5 levels deep; MySQL/MariaDB refuse JSON deeper than 100


class DocumentError(ValueError):
    """The text or value is not a storable JSON document; the message says why."""


def _reject_constant(name: str) -> Any:
    raise DocumentError(f"{name} is not valid JSON (use null or a number).")


def loads(text: str | bytes) -> Any:
    """Parse strictly: no NaN/Infinity, bounded depth, no lone surrogates; raises DocumentError."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise DocumentError("The document is not UTF-8 text.") from None
    _check_text_depth(text)
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise DocumentError(f"Invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}.") from None
    except RecursionError:  # defensive: _check_text_depth should have caught it
        raise DocumentError(f"The document is nested deeper than {MAX_DEPTH} levels.") from None
    check(value)
    return value


def _check_text_depth(text: str) -> None:
    """Bracket depth outside strings, counted before parsing (json.loads would recurse first)."""
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise DocumentError(f"The document is nested deeper than {MAX_DEPTH} levels.")
        elif char in "]}":
            depth -= 1


def check(value: Any) -> None:
    """Raise DocumentError when a parsed value could not be stored or shown as JSON."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > MAX_DEPTH:
                raise DocumentError(f"The document is nested deeper than {MAX_DEPTH} levels.")
            if isinstance(item, dict):
                for key, child in item.items():
                    _check_string(key)
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, float) and not math.isfinite(item):
            raise DocumentError(f"{item} is not valid JSON (use null or a number).")
        elif isinstance(item, str):
            _check_string(item)


def _check_string(text: Any) -> None:
    if isinstance(text, str):
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise DocumentError(f"The text {text[:40]!r} holds a lone surrogate, which is not valid Unicode.") from None

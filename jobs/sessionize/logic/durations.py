"""Durations written as "20m", "+30m", "-5m", "2h", "500ms", "30s", "1d" → milliseconds."""
import re

_UNITS_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
_DURATION = re.compile(r"^\s*([+-]?)(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")


def parse_duration_ms(text: str) -> int:
    """Parse a signed duration; raises ValueError with the accepted syntax on bad input."""
    match = _DURATION.match(str(text))
    if not match:
        raise ValueError(f"bad duration {text!r}: expected e.g. '500ms', '30s', '-5m', '+2h', '1d'")
    sign, number, unit = match.groups()
    value = round(float(number) * _UNITS_MS[unit])
    return -value if sign == "-" else value

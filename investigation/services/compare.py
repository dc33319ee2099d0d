"""Two sessions side by side: their facts, trees and step timings, and which fields and conclusions differ."""
from dataclasses import dataclass
from typing import Any

from sessions.models import Session
from sessions.services import session_page


@dataclass
class FieldComparison:
    name: str
    left: list[Any]
    right: list[Any]

    @property
    def differs(self) -> bool:
        return sorted(map(str, self.left)) != sorted(map(str, self.right))


def _values(session: Session) -> dict[str, list[Any]]:
    values: dict[str, list[Any]] = {}
    for row in session_page.field_rows(session):
        values.setdefault(row.name, []).append(row.value)
    return values


def compare(left: Session, right: Session) -> dict[str, Any]:
    left_values, right_values = _values(left), _values(right)
    fields = [FieldComparison(name, left_values.get(name, []), right_values.get(name, []))
              for name in sorted(set(left_values) | set(right_values))]
    left_conclusions = set(left.conclusions.values_list("name", flat=True))
    right_conclusions = set(right.conclusions.values_list("name", flat=True))
    return {
        "left": {"session": left, **session_page.page_context(left)},
        "right": {"session": right, **session_page.page_context(right)},
        "fields": fields,
        "differing_fields": sum(1 for f in fields if f.differs),
        "conclusions_only_left": sorted(left_conclusions - right_conclusions),
        "conclusions_only_right": sorted(right_conclusions - left_conclusions),
    }

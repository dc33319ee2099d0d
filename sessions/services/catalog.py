"""What a template's documents declare: field names, node names and conclusions (code, label, severity).

The search form offers these (labels shown, codes sent) and rejects names no version declares, so a typo
says so instead of silently matching nothing. Every version counts: stored sessions may come from old ones;
a later version's label wins.
"""
from dataclasses import dataclass, field
from typing import Any, Iterable

from ..models import AnalysisTemplate, TemplateVersion
from .stamps import StampedCache


@dataclass(frozen=True)
class Conclusion:
    name: str
    label: str
    severity: str


@dataclass
class Catalog:
    """The names declared by every version of some templates."""

    fields: set[str] = field(default_factory=set)
    nodes: set[str] = field(default_factory=set)
    conclusions: dict[str, Conclusion] = field(default_factory=dict)

    def field_names(self) -> list[str]:
        return sorted(self.fields)

    def node_names(self) -> list[str]:
        return sorted(self.nodes)

    def conclusion_list(self) -> list[Conclusion]:
        return sorted(self.conclusions.values(), key=lambda item: item.label.lower())

    def resolve_conclusion(self, text: str) -> str | None:
        """The code whose code or label equals `text`, ignoring case; None when nothing declares it."""
        wanted = text.strip().casefold()
        for item in self.conclusions.values():
            if wanted in (item.name.casefold(), item.label.casefold()):
                return item.name
        return None

    def names_of_severity(self, severity: str) -> list[str]:
        return sorted(item.name for item in self.conclusions.values() if item.severity == severity)

    def add(self, document: Any) -> None:
        if not isinstance(document, dict):
            return
        for source in _dicts(document.get("sources")):
            self.fields.update(str(alias) for alias in (source.get("fields") or {}))
        self.fields.update(str(item["name"]) for item in _dicts(document.get("fields")) if "name" in item)
        self.nodes.update(str(item["name"]) for item in _dicts(document.get("nodes")) if "name" in item)
        for item in _dicts(document.get("conclusions")):
            if "name" in item:
                name = str(item["name"])
                self.conclusions[name] = Conclusion(name, str(item.get("label") or name), str(item.get("severity") or ""))


def _dicts(value: Any) -> list[dict]:
    return [item for item in value or [] if isinstance(item, dict)] if isinstance(value, list) else []


def catalog(template_ids: Iterable[int]) -> Catalog:
    """The catalog of these templates (oldest version first, so newer labels win). Kept per worker while no template
    or version changes (services/stamps.py): shared, so read it, never change it."""
    key = frozenset(template_ids)
    return _catalogs.get(key, lambda: build_catalog(key))


def build_catalog(template_ids: Iterable[int]) -> Catalog:
    """The catalog read from the versions' documents."""
    result = Catalog()
    versions = TemplateVersion.objects.filter(template_id__in=list(template_ids)).order_by("number", "id")
    for document in versions.values_list("document", flat=True):
        result.add(document)
    return result


@dataclass(frozen=True)
class Templates:
    """Every template's row, as the search needs them: ids by name, and the rows its results show."""

    rows: dict[int, dict[str, Any]]

    def ids(self, value: str = "") -> list[int]:
        """Ids of the template named `value` (or with that id; a name differing only in case when none is exact, as a
        case-insensitive column compares); every template when no value is given. Ordered by name."""
        value = value.strip()
        if value:
            chosen = [pk for pk, row in self.rows.items() if row["name"] == value]
            chosen = chosen or [pk for pk, row in self.rows.items() if row["name"].casefold() == value.casefold()]
            if value.isdigit() and int(value) in self.rows and int(value) not in chosen:
                chosen.append(int(value))
        else:
            chosen = list(self.rows)
        return sorted(chosen, key=lambda pk: self.rows[pk]["name"])

    def instance(self, pk: int) -> AnalysisTemplate | None:
        """A fresh instance of template `pk` (its caller may change it), or None when it is not known."""
        row = self.rows.get(pk)
        return AnalysisTemplate.from_db("default", list(row), list(row.values())) if row is not None else None


def templates() -> Templates:
    """Every template's row, kept per worker while the template table's stamp holds."""
    return _templates.get(None, lambda: Templates({row["id"]: row for row in AnalysisTemplate.objects.values(
        "id", "name", "description", "created_at", "updated_at")}))


_catalogs = StampedCache("templates", "versions")
_templates = StampedCache("templates")

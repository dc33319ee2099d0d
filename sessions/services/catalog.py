"""What a template's documents declare: field names, node names and conclusions (code, label, severity).

The search form offers these (labels shown, codes sent) and rejects names no version declares, so a typo
says so instead of silently matching nothing. Every version counts: stored sessions may come from old ones;
a later version's label wins.
"""
from dataclasses import dataclass, field
from typing import Any, Iterable

from ..models import TemplateVersion


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
    """The catalog of these templates (oldest version first, so newer labels win)."""
    result = Catalog()
    versions = TemplateVersion.objects.filter(template_id__in=list(template_ids)).order_by("number", "id")
    for document in versions.values_list("document", flat=True):
        result.add(document)
    return result

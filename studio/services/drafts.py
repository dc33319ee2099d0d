"""Drafts: the document each wizard step contributes to, and what each step must get right on its own.

A step is checked with the same compiler the job uses, on the draft so far; only the problems that belong
to the step's own sections are shown there (a later step's gaps are not this step's errors). Structural
errors of the tree get an explanation of how to fix them, not just the refusal.
"""
import copy
import difflib
import json
from typing import Any

from jobs.sessionize.logic.template import TemplateError, compile_template
from sessions.models import TemplateVersion
from sessions.services import source_locations, templates

from ..models import Draft

STEPS = ("sources", "tree", "session", "fields", "conclusions", "dimensions", "review")
# the document sections each step owns (error messages start with these)
SECTIONS = {
    "sources": ("sources",), "tree": ("nodes",), "session": ("session",), "fields": ("fields",),
    "conclusions": ("conclusions",), "dimensions": ("dimensions", "retention", "description", "name"), "review": ("",),
}
PLACEHOLDER_KEY = "studio_key_not_chosen_yet"
HINTS = (
    ("has a cycle", "A node cannot be its own ancestor: give one node of the loop another parent (or none, for the root)."),
    ("unknown node", "The parent must be the name of another node of this tree; leave it empty for the root."),
    ("needs a root", "Exactly the first node of the flow should have no parent."),
    ("no baseline source carries", "A supplement finds its session through its join field: some baseline node's "
                                   "source must have that field too (add it on the Sources step)."),
    ("has no session key field", "Baseline nodes open sessions, so their source needs the session key field; "
                                 "make the node a supplement (join) or add the key field to its source."),
    ("at least one baseline node", "Sessions are opened by baseline nodes (without a join): add one."),
)


def skeleton(name: str) -> dict[str, Any]:
    return {"name": name, "description": "", "sources": [], "session": {"key": ""}, "nodes": [], "fields": [],
            "conclusions": [], "dimensions": []}


def new_draft(name: str, user: Any, document: dict[str, Any] | None = None) -> Draft:
    """A draft of a new template, or of an existing one (its current document) to change."""
    if document is None:
        try:
            document = copy.deepcopy(templates.get_version(name).document)
        except TemplateVersion.DoesNotExist:
            document = skeleton(name)
    document = {**skeleton(name), **document, "name": name}
    return Draft.objects.create(name=name, owner=user if user.is_authenticated else None, document=document)


def apply_step(draft: Draft, step: str, part: dict[str, Any]) -> None:
    """Store one step's part of the document and remember where the analyst is (a section set to None is removed)."""
    draft.document = {k: v for k, v in {**draft.document, **part}.items() if v is not None}
    draft.step = step
    draft.save(update_fields=["document", "step", "updated_at"])


def step_errors(document: dict[str, Any], step: str) -> list[str]:
    """The compiler's problems that belong to `step`, each with a hint when one helps."""
    doc = copy.deepcopy(document)
    session = dict(doc.get("session") or {})
    missing_key = not session.get("key")
    if missing_key:
        session["key"] = PLACEHOLDER_KEY
    doc["session"] = session
    if not doc.get("nodes"):  # the tree comes after the sources: let the sources be checked alone
        first = (doc.get("sources") or [{}])[0]
        doc["nodes"] = [{"name": "studio_placeholder", "source": first.get("name", "") if isinstance(first, dict) else ""}]
    errors: list[str] = []
    try:
        compile_template(doc)
    except TemplateError as exc:
        errors.extend(exc.errors)
    errors.extend(source_locations.problems(doc))
    mine = [e for e in errors if any(e.startswith(prefix) for prefix in SECTIONS[step])]
    if step != "session":
        mine = [e for e in mine if not (missing_key and PLACEHOLDER_KEY in e)]
    if step == "review":
        mine = errors
    return [explain(e) for e in mine if "studio_placeholder" not in e]


def explain(message: str) -> str:
    for needle, hint in HINTS:
        if needle in message:
            return f"{message} — {hint}"
    return message


def active_document(name: str) -> dict[str, Any] | None:
    try:
        return templates.get_version(name).document
    except TemplateVersion.DoesNotExist:
        return None


def diff(document: dict[str, Any]) -> str:
    """Unified diff of the readable JSON against the template's current version (empty for a new template)."""
    return unified(active_document(document.get("name", "")), document, "active version", "draft")


def unified(before: dict[str, Any] | None, after: dict[str, Any], old_name: str, new_name: str) -> str:
    old = templates.dump_document(before).splitlines() if before else []
    new = templates.dump_document(after).splitlines()
    return "\n".join(difflib.unified_diff(old, new, old_name, new_name, lineterm=""))


def field_lines(fields: dict[str, str]) -> str:
    return "\n".join(f"{alias} = {path}" for alias, path in fields.items())


def parse_field_lines(text: str) -> tuple[dict[str, str], list[str]]:
    """`alias = dotted.path` per line (what clicking a sample value writes) → fields, problems."""
    fields, problems = {}, []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        alias, sep, path = line.partition("=")
        if not sep or not alias.strip().isidentifier() or not path.strip():
            problems.append(f"line {number}: write 'name = dotted.path' (got {line.strip()!r})")
            continue
        fields[alias.strip()] = path.strip()
    return fields, problems


def pretty(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False)

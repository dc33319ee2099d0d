"""Saving and exporting analysis templates: the one path used by the console, the API and the CLI.

A document is validated by the same `compile_template` the job uses, so a template that saves is a
template that runs. Versions are immutable; saving an identical document (same fingerprint) is a no-op,
which makes imports idempotent.
"""
import json
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from jobs.sessionize.logic.template import TemplateError, compile_template, document_fingerprint

from ..models import AnalysisTemplate, Session, TemplateVersion
from ..signals import version_saved
from . import json_documents, source_locations


@dataclass(frozen=True)
class SaveResult:
    """What a save did: the version now current and whether it is new."""

    version: TemplateVersion
    created: bool
    rollout: tuple[str, ...] = ()  # what happened to the template's running jobs (hot update or restart needed)


def validate_document(document: Any) -> None:
    """Raise ValidationError listing every problem (the analyst fixes them all in one round)."""
    if not isinstance(document, dict):
        raise ValidationError(["The template document must be a JSON object."])
    try:
        json_documents.check(document)
    except json_documents.DocumentError as exc:
        raise ValidationError([str(exc)]) from None
    errors: list[str] = []
    try:
        compile_template(document)
    except TemplateError as exc:
        errors.extend(exc.errors)
    errors.extend(source_locations.problems(document))
    if errors:
        raise ValidationError(errors)


def save_template(document: Any, user: Any = None) -> SaveResult:
    """Validate and store; a new version only when the document differs from the current one."""
    validate_document(document)
    fingerprint = document_fingerprint(document)
    with transaction.atomic():
        template, _ = AnalysisTemplate.objects.select_for_update().get_or_create(
            name=document["name"], defaults={"description": document.get("description", "")}
        )
        current = template.versions.order_by("-number").first()
        if current is not None and current.fingerprint == fingerprint:
            return SaveResult(current, created=False)
        version = TemplateVersion.objects.create(
            template=template,
            number=(current.number + 1) if current else 1,
            document=document,
            fingerprint=fingerprint,
            created_by=user if user is not None and user.is_authenticated else None,
        )
        if template.description != document.get("description", ""):
            template.description = document.get("description", "")
            template.save(update_fields=["description", "updated_at"])
    notes = version_saved.send(sender=TemplateVersion, version=version)  # job operations offer it to running jobs
    return SaveResult(version, created=True, rollout=tuple(note for _, answer in notes for note in answer or ()))


def save_template_version(document: dict[str, Any], user: Any = None) -> TemplateVersion:
    """The version that is current after saving `document` (see `save_template`)."""
    return save_template(document, user).version


def get_version(name: str, number: int | None = None) -> TemplateVersion:
    """A template's version `number`, or its current one; raises TemplateVersion.DoesNotExist."""
    versions = TemplateVersion.objects.select_related("template").filter(template__name=name)
    if number is not None:
        return versions.get(number=number)
    version = versions.order_by("-number").first()
    if version is None:
        raise TemplateVersion.DoesNotExist(f"template {name!r} has no versions")
    return version


def export_template(name: str, version: int | None = None) -> dict[str, Any]:
    """The stored document, exactly as imported (re-importing it creates no new version)."""
    return get_version(name, version).document


def export_filename(version: TemplateVersion) -> str:
    return f"{version.template.name}-v{version.number}.json"


def dump_document(document: dict[str, Any]) -> str:
    """Readable JSON for files and downloads; key order kept as the author wrote it."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def template_summaries() -> QuerySet[AnalysisTemplate]:
    """Templates with version number, version count and session count, in one query (for the list page)."""
    latest = TemplateVersion.objects.filter(template=OuterRef("pk")).order_by("-number").values("number")[:1]
    sessions = (
        Session.objects.filter(template=OuterRef("pk")).order_by().values("template").annotate(n=Count("pk")).values("n")
    )
    return AnalysisTemplate.objects.annotate(
        current_number=Subquery(latest, output_field=IntegerField()),
        version_count=Count("versions", distinct=True),
        session_count=Coalesce(Subquery(sessions, output_field=IntegerField()), 0),
    ).order_by("name")

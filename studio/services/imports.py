"""Import of a template document (the templates page, `POST /api/templates/`, `manage.py import_template`)
goes through review like any studio change: by default it becomes a draft that opens in the wizard at its
review step (dry run, backtest, propose), and only an admin activates it.

Activating on import is explicit: for a person it is propose + approve + activate in one step, so the
maker/checker rule applies (an admin approving their own change needs LUNA_STUDIO_SINGLE_ADMIN); for
automation it is the command's `--activate` (whoever runs manage.py has the server), audited as such.
Re-importing the current document changes nothing (no draft, no version).
"""
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction

from jobs.sessionize.logic.template import document_fingerprint
from sessions.choices import Role
from sessions.models import TemplateVersion
from sessions.services import templates

from ..models import AuditEntry, Draft
from . import review

AUTOMATION = "import_template --activate (automation)"


@dataclass(frozen=True)
class Imported:
    outcome: str  # "draft", "activated" or "unchanged"
    name: str
    version: TemplateVersion | None = None  # the current version (activated or unchanged)
    draft: Draft | None = None
    job: str = ""  # activated: hot update, restart needed or no running job
    rollout: tuple[str, ...] = ()  # what happened to the template's running jobs

    @property
    def wizard_url(self) -> str:
        return f"/studio/drafts/{self.draft.pk}/?step=review" if self.draft else ""


def _unchanged(document: dict[str, Any]) -> TemplateVersion | None:
    try:
        current = templates.get_version(document["name"])
    except TemplateVersion.DoesNotExist:
        return None
    return current if current.fingerprint == document_fingerprint(document) else None


def import_document(document: Any, user: Any, activate: bool = False) -> Imported:
    """Validate (ValidationError lists every problem), then a draft, or — asked explicitly — an activation.

    `user` None is automation (the command): only `activate` makes sense for it, and it is audited as such."""
    templates.validate_document(document)
    name = document["name"]
    current = _unchanged(document)
    if current is not None:
        return Imported("unchanged", name, version=current)
    if user is None:
        return _automation(document) if activate else _draft(document, None)
    review.require(user, Role.ADMIN if activate else Role.EDITOR)
    if not activate:
        return _draft(document, user)
    if not getattr(settings, "LUNA_STUDIO_SINGLE_ADMIN", False):
        raise PermissionDenied("Activating on import would approve your own change (maker/checker): import it as a "
                               "draft, propose it, and another admin approves and activates it.")
    with transaction.atomic():
        draft = Draft.objects.create(name=name, owner=user, document=document, step="review")
        proposal = review.propose(draft, user)
        review.approve(proposal, user, "imported and activated in one step")
        activation = review.activate(proposal, user)
    return Imported("activated", name, version=activation.version, job=activation.outcome, rollout=activation.messages)


def _draft(document: dict[str, Any], user: Any) -> Imported:
    draft = Draft.objects.create(name=document["name"], owner=user, document=document, step="review")
    AuditEntry.objects.create(actor=user, action=AuditEntry.Action.IMPORTED, template_name=draft.name,
                              detail=f"imported as draft {draft.pk}")
    return Imported("draft", draft.name, draft=draft)


def _automation(document: dict[str, Any]) -> Imported:
    activation = review.save_activation(document, None)
    AuditEntry.objects.create(actor=None, action=AuditEntry.Action.ACTIVATED, template_name=document["name"],
                              version=activation.version.number,
                              detail=f"{AUTOMATION}: {activation.outcome}. " + " ".join(activation.messages))
    return Imported("activated", document["name"], version=activation.version, job=activation.outcome,
                    rollout=activation.messages)

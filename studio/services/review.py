"""Versions with review (maker/checker): an editor proposes, an admin who is not the author approves and
activates; every step is an audit row. Activation saves the version through `sessions.services.templates`
(which publishes it to the running job as a hot update, or leaves a "restart needed" notice) and says which.

`LUNA_STUDIO_SINGLE_ADMIN = True` lets an admin approve their own proposal: for a deployment with one admin,
where the rule would otherwise make activation impossible (every such approval is still audited as such).
"""
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from sessions.choices import Role
from sessions.models import AnalysisTemplate, TemplateVersion
from sessions.permissions import has_role
from operations.services import job_control
from sessions.services import templates

from ..models import AuditEntry, Draft, Proposal
from . import drafts


class ReviewError(ValueError):
    """The action is not possible in the proposal's state (the message says why)."""


@dataclass(frozen=True)
class Activation:
    version: TemplateVersion
    outcome: str  # "hot update", "restart needed" or "no running job"
    messages: tuple[str, ...]


def _audit(user: Any, action: str, name: str, proposal: Proposal | None = None, version: int | None = None, detail: str = "") -> None:
    AuditEntry.objects.create(actor=user, action=action, template_name=name, proposal=proposal, version=version, detail=detail)


def require(user: Any, role: str) -> None:
    if not has_role(user, role):
        raise PermissionDenied(f"This needs the {role} role.")


def _active_number(name: str) -> int | None:
    try:
        return templates.get_version(name).number
    except TemplateVersion.DoesNotExist:
        return None


def propose(draft: Draft, user: Any) -> Proposal:
    """The draft becomes a proposal (it must compile as a whole); the draft is consumed."""
    require(user, Role.EDITOR)
    templates.validate_document(draft.document)  # ValidationError listing every problem
    with transaction.atomic():
        proposal = Proposal.objects.create(template_name=draft.name, document=draft.document, author=user,
                                           base_version=_active_number(draft.name))
        _audit(user, AuditEntry.Action.PROPOSED, draft.name, proposal, detail=f"draft {draft.pk}")
        draft.delete()
    return proposal


def _locked(proposal: Proposal, *states: str) -> Proposal:
    current = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if current.status not in states:
        raise ReviewError(f"proposal {current.pk} is {current.status}; this needs it {' or '.join(states)}")
    return current


def approve(proposal: Proposal, user: Any, comment: str = "") -> Proposal:
    require(user, Role.ADMIN)
    single = bool(getattr(settings, "LUNA_STUDIO_SINGLE_ADMIN", False))
    if proposal.author_id == user.pk and not single:
        raise PermissionDenied("An admin cannot approve their own proposal (maker/checker); another admin must.")
    with transaction.atomic():
        current = _locked(proposal, Proposal.Status.PROPOSED)
        current.status, current.reviewer, current.reviewed_at, current.comment = (
            Proposal.Status.APPROVED, user, timezone.now(), comment)
        current.save()
        own = " (own proposal: single-admin setting)" if current.author_id == user.pk else ""
        _audit(user, AuditEntry.Action.APPROVED, current.template_name, current, detail=(comment + own).strip())
    return current


def reject(proposal: Proposal, user: Any, comment: str = "") -> Proposal:
    require(user, Role.ADMIN)
    with transaction.atomic():
        current = _locked(proposal, Proposal.Status.PROPOSED, Proposal.Status.APPROVED)
        current.status, current.reviewer, current.reviewed_at, current.comment = (
            Proposal.Status.REJECTED, user, timezone.now(), comment)
        current.save()
        _audit(user, AuditEntry.Action.REJECTED, current.template_name, current, detail=comment)
    return current


def save_activation(document: dict[str, Any], user: Any) -> Activation:
    try:
        result = templates.save_template(document, user)
    except ValidationError as exc:
        raise ReviewError("; ".join(exc.messages)) from None
    text = " ".join(result.rollout)
    if not result.rollout:
        outcome = "no running job"
    elif "needs a restart" in text:
        outcome = "restart needed"
    else:
        outcome = "hot update"
    return Activation(result.version, outcome, result.rollout)


def activate(proposal: Proposal, user: Any) -> Activation:
    """Save the approved document as the template's new version and push it to the running job."""
    require(user, Role.ADMIN)
    with transaction.atomic():
        current = _locked(proposal, Proposal.Status.APPROVED)
        activation = save_activation(current.document, user)
        current.status, current.version, current.outcome = Proposal.Status.ACTIVATED, activation.version.number, activation.outcome
        current.save(update_fields=["status", "version", "outcome"])
        _audit(user, AuditEntry.Action.ACTIVATED, current.template_name, current, activation.version.number,
               f"{activation.outcome}. " + " ".join(activation.messages))
    return activation


def rollback(name: str, number: int, user: Any) -> Activation:
    """Make an earlier version's document current again (a new version, pushed like any activation)."""
    require(user, Role.ADMIN)
    try:
        old = templates.get_version(name, number)
    except TemplateVersion.DoesNotExist:
        raise ReviewError(f"template {name!r} has no version {number}") from None
    activation = save_activation(old.document, user)
    _audit(user, AuditEntry.Action.ROLLED_BACK, name, version=activation.version.number,
           detail=f"back to the document of v{number}: {activation.outcome}. " + " ".join(activation.messages))
    return activation


def restart(name: str, user: Any) -> str:
    """On the admin's confirmation: stop the job with a savepoint (if running) and start the current version.

    A restart is needed exactly when sources, key or watermark bound changed, so the old state does not fit the
    new version: the new run starts fresh (job_control.start), like the Jobs page's Stop then Start."""
    require(user, Role.ADMIN)
    template = AnalysisTemplate.objects.get(name=name)
    stopped = ""
    if job_control.active_run(template.pk) is not None:
        run = job_control.stop(template.pk)
        stopped = f"stopped run {run.pk} with a savepoint; "
    run = job_control.start(template.pk)
    message = f"{stopped}started v{run.version.number} as run {run.pk}"
    _audit(user, AuditEntry.Action.RESTARTED, name, version=run.version.number, detail=message)
    return message


def diff(proposal: Proposal) -> str:
    return drafts.diff(proposal.document)


def version_diffs(name: str) -> list[tuple[TemplateVersion, str]]:
    """Every version of a template (newest first) with its author, time and the diff from the one before."""
    versions = list(TemplateVersion.objects.filter(template__name=name).select_related("created_by").order_by("number"))
    out, previous = [], None
    for version in versions:
        out.append((version, drafts.unified(previous.document if previous else None, version.document,
                                            f"v{previous.number}" if previous else "(none)", f"v{version.number}")))
        previous = version
    return out[::-1]

"""Case work: open (or find) the case of a session, assign it, move its status, comment, judge its conclusions.
Every change is a CaseEvent with its author, so the case page reads as an audit trail."""
from django.db import transaction

from sessions.models import Session

from ..models import Case, CaseEvent, CaseStatus, Verdict, VerdictKind


class CaseError(ValueError):
    """A request the case cannot take (e.g. a verdict on a conclusion the session does not carry)."""


def case_for(session: Session, user=None) -> Case:
    case, _ = Case.objects.get_or_create(
        session_id=session.pk,
        defaults={"template_id": session.template_id, "session_key": session.session_key,
                  "conclusion": session.primary_conclusion, "opened_by": user},
    )
    return case


@transaction.atomic
def assign(session: Session, assignee, by) -> Case:
    case = case_for(session, by)
    case.assignee = assignee
    case.save(update_fields=["assignee", "updated_at"])
    CaseEvent.objects.create(case=case, author=by, kind="assign", text=f"assigned to {assignee.get_username() if assignee else 'nobody'}")
    return case


@transaction.atomic
def set_status(session: Session, status: str, by) -> Case:
    if status not in CaseStatus.values:
        raise CaseError(f"unknown status {status!r}: use one of {', '.join(CaseStatus.values)}")
    case = case_for(session, by)
    previous, case.status = case.status, status
    case.save(update_fields=["status", "updated_at"])
    CaseEvent.objects.create(case=case, author=by, kind="status", text=f"{previous} → {status}")
    return case


def comment(session: Session, text: str, by) -> CaseEvent:
    text = (text or "").strip()
    if not text:
        raise CaseError("a comment needs some text")
    if len(text) > 5000:
        raise CaseError("a comment is at most 5,000 characters")
    case = case_for(session, by)
    case.save(update_fields=["updated_at"])
    return CaseEvent.objects.create(case=case, author=by, kind="comment", text=text)


@transaction.atomic
def give_verdict(session: Session, conclusion: str, verdict: str, by) -> Verdict:
    """Confirmed or false positive, for a conclusion the session carries now; a second verdict replaces the first."""
    if verdict not in VerdictKind.values:
        raise CaseError(f"unknown verdict {verdict!r}: use one of {', '.join(VerdictKind.values)}")
    if not session.conclusions.filter(name=conclusion).exists():
        raise CaseError(f"the session does not carry the conclusion {conclusion!r}")
    row, _ = Verdict.objects.update_or_create(
        session_id=session.pk, conclusion=conclusion,
        defaults={"template_id": session.template_id, "template_version": session.template_version, "verdict": verdict, "author": by},
    )
    case = case_for(session, by)
    case.save(update_fields=["updated_at"])
    CaseEvent.objects.create(case=case, author=by, kind="verdict", text=f"{conclusion}: {VerdictKind(verdict).label}")
    return row


def queue(user=None, conclusion: str = "", status: str = "", template: str = ""):
    """The cases of an analyst (or everyone's), optionally one conclusion or status: newest activity first."""
    cases = Case.objects.select_related("template", "assignee")
    if user is not None:
        cases = cases.filter(assignee=user)
    if conclusion:
        cases = cases.filter(conclusion=conclusion)
    if status:
        cases = cases.filter(status=status)
    if template:
        cases = cases.filter(template__name=template)
    return cases.order_by("-updated_at")

"""One entry point for every case and split action, shared by the console forms and the API: it resolves the
session and the user named in the request and turns domain errors into one error type with a clear message."""
from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404

from sessions.models import Session

from . import cases, splits

ActionError = (cases.CaseError, splits.SplitError)


def session(pk: int) -> Session:
    return get_object_or_404(Session.objects.select_related("template"), pk=pk)


def user_named(username: str):
    if not username:
        return None
    found = get_user_model().objects.filter(username=username, is_active=True).first()
    if found is None:
        raise cases.CaseError(f"no active user {username!r}")
    return found


def run(action: str, session_pk: int, data: dict, by) -> tuple[str, int]:
    """Do `action` on the session; returns what to tell the user and the session to show next (a merge keeps one
    of the two ids). Raises one of ActionError."""
    target = session(session_pk)
    if action == "assign":
        case = cases.assign(target, user_named(data.get("assignee", "")), by)
        return f"Assigned to {case.assignee.get_username() if case.assignee else 'nobody'}.", target.pk
    if action == "status":
        return f"Case {cases.set_status(target, data.get('status', ''), by).status}.", target.pk
    if action == "comment":
        cases.comment(target, data.get("text", ""), by)
        return "Comment added.", target.pk
    if action == "verdict":
        verdict = cases.give_verdict(target, data.get("conclusion", ""), data.get("verdict", ""), by)
        return f"{verdict.conclusion}: {verdict.get_verdict_display()}.", target.pk
    if action in ("merge", "keep"):
        other_pk = str(data.get("other", "")).strip()
        if not other_pk.isdigit():
            raise splits.SplitError("name the other half of the split pair (its session id)")
        other = session(int(other_pk))
        if action == "keep":
            splits.keep(target, other, by)
            return "Kept as two sessions.", target.pk
        decision = splits.merge(target, other, by)
        return "Merged the two parts into one session (revision history: merge).", decision.merged_id
    raise cases.CaseError(f"unknown action {action!r}")

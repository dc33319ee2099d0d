"""Split pairs (SPEC §4): a session cut by a gap is fired as two halves linked to each other; an analyst merges
them (one session with both halves' events, recomputed by the job's own assembly and written by its sink) or keeps
them apart. Both decisions are recorded with the halves as they were."""
from django.db import transaction

from jobs.sessionize.logic.assemble import assemble
from jobs.sessionize.logic.sessions import Emission
from sessions.models import Session
from sessions.services import session_page, session_store

from ..models import SplitDecision, SplitDecisionKind


class SplitError(ValueError):
    """Not a split pair that can be decided (message says why)."""


def split_pair(first: Session, second: Session) -> tuple[Session, Session]:
    """The pair in time order, checked: same template and key, linked to each other, neither still open."""
    if first.start_ms > second.start_ms:
        first, second = second, first
    if first.template_id != second.template_id or first.session_key != second.session_key:
        raise SplitError("the two sessions are not halves of one split: different template or key")
    if first.next_id != second.pk and second.prev_id != first.pk:
        raise SplitError("the two sessions are not linked as a split pair")
    if "open" in (first.status, second.status):
        raise SplitError("a half is still open: wait until the job has closed both")
    return first, second


def _snapshot(session: Session) -> dict:
    return {"id": session.pk, "revision": session.revision, "start_ms": session.start_ms, "end_ms": session.end_ms,
            "status": session.status, "primary_conclusion": session.primary_conclusion,
            "conclusions": list(session.conclusions.values_list("name", flat=True)),
            "nodes": list(session.nodes.values_list("node", flat=True))}


def merge(first: Session, second: Session, by) -> SplitDecision:
    first, second = split_pair(first, second)
    version = session_page.producing_version(first)
    tpl = version.compile()
    events = session_store.stored_events([first, second], tpl)
    baseline = sorted((e for e in events if not e.supplement), key=lambda e: (e.ts, e.uid))
    supplements = sorted((e for e in events if e.supplement), key=lambda e: (e.ts, e.uid))
    if not baseline:
        raise SplitError("the halves hold no baseline event the template still reads")
    document = assemble(tpl, first.session_key, baseline, supplements, True, first.prev_id, second.next_id)
    revision = max(first.revision, second.revision) + 1
    gone = [pk for pk in (first.pk, second.pk) if pk != document["uid"]]
    with transaction.atomic():
        decision = SplitDecision.objects.create(
            template_id=first.template_id, session_key=first.session_key, first_id=first.pk, second_id=second.pk,
            decision=SplitDecisionKind.MERGE, merged_id=document["uid"], halves=[_snapshot(first), _snapshot(second)], author=by)
    session_store.write(first.template_id, [Emission(revision, document, gone, cause="merge")])
    return decision


def keep(first: Session, second: Session, by) -> SplitDecision:
    first, second = split_pair(first, second)
    return SplitDecision.objects.create(
        template_id=first.template_id, session_key=first.session_key, first_id=first.pk, second_id=second.pk,
        decision=SplitDecisionKind.KEEP, halves=[_snapshot(first), _snapshot(second)], author=by)


def decisions_for(session_id: int) -> list[SplitDecision]:
    return list(SplitDecision.objects.filter(first_id=session_id) | SplitDecision.objects.filter(second_id=session_id)
                | SplitDecision.objects.filter(merged_id=session_id))

"""Panels the sessions pages include: the case of a session (with its actions) and the precision of each rule."""
from django import template

from sessions.choices import Role
from sessions.permissions import has_role

from ..models import Case, CaseStatus, Verdict, VerdictKind
from ..services import precision, splits

register = template.Library()


@register.inclusion_tag("investigation/_case_panel.html", takes_context=True)
def case_panel(context, session):
    user = context["request"].user
    case = Case.objects.filter(session_id=session.pk).select_related("assignee").first()
    verdicts = {v.conclusion: v for v in Verdict.objects.filter(session_id=session.pk).select_related("author")}
    return {
        "request": context["request"], "csrf_token": context.get("csrf_token"), "session": session, "case": case,
        "events": list(case.events.select_related("author")) if case else [],
        "conclusions": [(c, verdicts.get(c.name)) for c in session.conclusions.all()],
        "statuses": CaseStatus.choices, "verdict_kinds": VerdictKind.choices,
        "can_merge": has_role(user, Role.EDITOR) and session.split and session.status != "open",
        "decisions": splits.decisions_for(session.pk),
    }


@register.inclusion_tag("investigation/_precision.html")
def rule_precision(template_obj):
    return {"rows": precision.rule_precision(template_obj.pk)}

"""Feedback from verdicts: the precision of each conclusion rule per template version (confirmed share of the
judged sessions), shown on the template page and available to backtests to flag rules that got worse."""
from dataclasses import dataclass

from django.db.models import Count, Q

from ..models import Verdict, VerdictKind


@dataclass(frozen=True)
class RulePrecision:
    conclusion: str
    template_version: int | None
    confirmed: int
    false_positive: int

    @property
    def judged(self) -> int:
        return self.confirmed + self.false_positive

    @property
    def precision(self) -> float | None:
        return round(self.confirmed / self.judged, 4) if self.judged else None


def rule_precision(template_id: int) -> list[RulePrecision]:
    rows = (Verdict.objects.filter(template_id=template_id).values("conclusion", "template_version")
            .annotate(confirmed=Count("id", filter=Q(verdict=VerdictKind.CONFIRMED)),
                      false_positive=Count("id", filter=Q(verdict=VerdictKind.FALSE_POSITIVE)))
            .order_by("conclusion", "-template_version"))
    return [RulePrecision(r["conclusion"], r["template_version"], r["confirmed"], r["false_positive"]) for r in rows]


@dataclass(frozen=True)
class Label:
    """One verdict as a label on a stored session (a backtest checks what a draft does to it)."""

    session_id: int
    conclusion: str
    verdict: str


def labels(template_id: int) -> list[Label]:
    rows = Verdict.objects.filter(template_id=template_id).values_list("session_id", "conclusion", "verdict")
    return [Label(*row) for row in rows]

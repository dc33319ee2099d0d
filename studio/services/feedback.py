"""Feedback from verdicts in a backtest (issue 12): for each conclusion rule, the live version's precision from
the analysts' verdicts, and what the draft does to the verdict-labelled sessions of the range — confirmed
sessions that lose the conclusion, false positives that keep or gain it, and the rule's precision on those
sessions before and after. A rule is flagged when the draft makes any of these worse.

Labels are matched to backtest sessions by (session key, start), which a replay of the same lines reproduces."""
from dataclasses import asdict, dataclass, field
from typing import Any

from investigation.models import VerdictKind
from investigation.services import precision
from sessions.models import AnalysisTemplate, Session


@dataclass
class RuleFeedback:
    conclusion: str
    live_precision: float | None  # from every verdict on the live version's sessions
    live_judged: int
    judged_in_range: int = 0  # labelled sessions of this rule that the backtest replayed
    confirmed_lost: int = 0
    false_positive_kept: int = 0
    false_positive_gained: int = 0
    false_positive_dropped: int = 0
    precision_before: float | None = None  # on the labelled sessions of the range: live version
    precision_after: float | None = None  # the same sessions: draft
    worse: bool = False
    reasons: list[str] = field(default_factory=list)


def _share(confirmed: int, false_positive: int) -> float | None:
    return round(confirmed / (confirmed + false_positive), 4) if confirmed + false_positive else None


def _has(doc: dict[str, Any] | None, name: str) -> bool:
    return doc is not None and any(c["name"] == name for c in doc["conclusions"])


def for_backtest(template_name: str, live_version: int, before: dict[tuple, dict], after: dict[tuple, dict]) -> list[dict[str, Any]]:
    """One row per conclusion rule of either side that has verdicts (none: an empty list)."""
    template = AnalysisTemplate.objects.filter(name=template_name).first()
    if template is None:
        return []
    labels = precision.labels(template.pk)
    keys = dict((pk, (key, start)) for pk, key, start in Session.objects.filter(
        pk__in={label.session_id for label in labels}).values_list("pk", "session_key", "start_ms"))
    live = {(p.conclusion): p for p in precision.rule_precision(template.pk) if p.template_version == live_version}
    rules: dict[str, RuleFeedback] = {}
    counts: dict[str, list[int]] = {}  # conclusion -> [confirmed before, fp before, confirmed after, fp after]
    for label in labels:
        key = keys.get(label.session_id)
        if key not in before and key not in after:
            continue  # outside the range, or gone from the live tables
        name = label.conclusion
        known = live.get(name)
        row = rules.setdefault(name, RuleFeedback(name, known.precision if known else None, known.judged if known else 0))
        tally = counts.setdefault(name, [0, 0, 0, 0])
        had, has = _has(before.get(key), name), _has(after.get(key), name)
        row.judged_in_range += 1
        confirmed = label.verdict == VerdictKind.CONFIRMED
        tally[0 if confirmed else 1] += had
        tally[2 if confirmed else 3] += has
        if confirmed and had and not has:
            row.confirmed_lost += 1
        if not confirmed:
            row.false_positive_kept += had and has
            row.false_positive_gained += has and not had
            row.false_positive_dropped += had and not has
    for name, row in rules.items():
        tally = counts[name]
        row.precision_before, row.precision_after = _share(tally[0], tally[1]), _share(tally[2], tally[3])
        if row.confirmed_lost:
            row.reasons.append(f"{row.confirmed_lost} confirmed session(s) lose it")
        if row.false_positive_gained:
            row.reasons.append(f"{row.false_positive_gained} false positive(s) gain it")
        if None not in (row.precision_before, row.precision_after) and row.precision_after < row.precision_before:
            row.reasons.append(f"precision on judged sessions {row.precision_before:.0%} → {row.precision_after:.0%}")
        row.worse = bool(row.reasons)
    return [asdict(rules[name]) for name in sorted(rules)]

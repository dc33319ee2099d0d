"""Alert evaluation (Celery beat): count the rule's sessions in the last window, fire, notify, resolve.

The counts are macro queries, so they come from the rollups when the filters allow (window aligned to minutes).
"""
import json
import logging
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone as dj_timezone

from ..models import AlertFiring, AlertRule
from ..query.spec import MacroQuery
from . import macro

log = logging.getLogger(__name__)
MINUTE_MS = 60_000
WEBHOOK_TIMEOUT_S = 5


@dataclass
class Reading:
    value: float
    numerator: int
    denominator: int | None
    since_ms: int
    until_ms: int

    @property
    def defined(self) -> bool:
        return self.denominator is None or self.denominator > 0


def read(rule: AlertRule, now_ms: int) -> Reading:
    until = now_ms - now_ms % MINUTE_MS  # whole minutes: the minute rollups can answer
    since = until - rule.window_minutes * MINUTE_MS
    numerator = _count(rule, rule.numerator, since, until)
    if not rule.is_ratio:
        return Reading(float(numerator), numerator, None, since, until)
    denominator = _count(rule, rule.denominator, since, until)
    return Reading(round(100 * numerator / denominator, 4) if denominator else 0.0, numerator, denominator, since, until)


def _count(rule: AlertRule, filters: list, since: int, until: int) -> int:
    query = MacroQuery(template=rule.template.name, measures=[{"kind": "sessions"}], filters=filters, since_ms=since, until_ms=until)
    series = macro.run(query).series  # no dimension: one point, or none when nothing is in the window
    return int(series[0].values[0][0]) if series else 0


def evaluate(now: datetime | None = None) -> dict[str, int]:
    """Every enabled rule once; returns how many fired and resolved."""
    now = now or dj_timezone.now()
    now_ms = int(now.timestamp() * 1000)
    fired = resolved = 0
    for rule in AlertRule.objects.filter(enabled=True).select_related("template"):
        reading = read(rule, now_ms)
        breach = reading.defined and reading.value > rule.threshold
        with transaction.atomic():
            open_firing = rule.firings.select_for_update().filter(resolved_at__isnull=True).first()
            if breach and open_firing is None:
                firing = AlertFiring.objects.create(
                    rule=rule, fired_at=now, window_start_ms=reading.since_ms, window_end_ms=reading.until_ms, value=reading.value,
                    numerator=reading.numerator, denominator=reading.denominator)
                fired += 1
            elif not breach and open_firing is not None:
                resolve(open_firing, "condition cleared", now)
                resolved += 1
                continue
            else:
                continue
        firing.notified = notify(rule, firing, now)
        firing.save(update_fields=["notified"])
    return {"fired": fired, "resolved": resolved}


def resolve(firing: AlertFiring, by: str, now: datetime | None = None) -> None:
    firing.resolved_at, firing.resolved_by = now or dj_timezone.now(), by[:150]
    firing.save(update_fields=["resolved_at", "resolved_by"])


def silence(rule: AlertRule, minutes: int) -> None:
    rule.silenced_until = dj_timezone.now() + dj_timezone.timedelta(minutes=minutes) if minutes > 0 else None
    rule.save(update_fields=["silenced_until"])


def describe(rule: AlertRule, firing: AlertFiring) -> str:
    unit = "%" if rule.is_ratio else " sessions"
    window = datetime.fromtimestamp(firing.window_end_ms / 1000, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (f"{rule.name} ({rule.template.name}): {firing.value:g}{unit} in the {rule.window_minutes} min to {window}, "
            f"above {rule.threshold:g}{unit}")


def notify(rule: AlertRule, firing: AlertFiring, now: datetime) -> dict[str, str]:
    """E-mail (Django's mail backend) and webhook; each channel's outcome is recorded, none raises."""
    if rule.silenced_until and rule.silenced_until > now:
        return {"silenced": f"until {rule.silenced_until.isoformat()}"}
    text, result = describe(rule, firing), {}
    recipients = [a.strip() for a in rule.emails.split(",") if a.strip()]
    if recipients:
        try:
            send_mail(f"[Luna] {rule.name}", text, settings.DEFAULT_FROM_EMAIL, recipients)
            result["email"] = "sent"
        except Exception as exc:  # a notification channel must not stop evaluation of the other rules
            result["email"] = f"failed: {exc}"[:300]
    if rule.webhook_url:
        payload = {"rule": rule.name, "template": rule.template.name, "value": firing.value, "threshold": rule.threshold,
                   "ratio": rule.is_ratio, "window_start_ms": firing.window_start_ms, "window_end_ms": firing.window_end_ms,
                   "text": text}
        request = urllib.request.Request(rule.webhook_url, json.dumps(payload).encode(), {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_S) as response:
                result["webhook"] = f"HTTP {response.status}"
        except Exception as exc:
            result["webhook"] = f"failed: {exc}"[:300]
    return result

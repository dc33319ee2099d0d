"""Test data builders: sessions stored the way the sink writes them, users in role groups."""
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from analytics.services.facts import backfill
from sessions.models import AnalysisTemplate, Session, SessionConclusion, SessionField, SessionNode

DEMO_PATH = Path(__file__).resolve().parent.parent / "sessions" / "demo" / "mobile-pay.json"
T0 = 1714550400000  # 2024-05-01T08:00:00Z
SECOND, MINUTE, HOUR, DAY = 1000, 60_000, 3_600_000, 86_400_000
PASSWORD = "luna-test-password"


@dataclass
class Event:
    """One stored node event: `at` is the offset from the session start in ms."""

    node: str
    at: int
    source: str
    raw: dict[str, Any]
    supplement: bool = False
    seq: int = 0


@dataclass
class SessionSpec:
    key: str
    start: int
    events: list[Event]
    fields: dict[str, Any]
    conclusions: list[str]
    status: str = "complete"
    completeness: float = 1.0
    revision: int = 1
    extra: dict[str, Any] = field(default_factory=dict)


def make_session(template: AnalysisTemplate, spec: SessionSpec, pk: int) -> Session:
    """Write one session the way the sink does: core row, field rows (typed), node rows, conclusion rows."""
    rules = {c["name"]: c for c in template.current_version.document["conclusions"]}
    severity_rank = ["info", "low", "medium", "high", "critical"]
    primary = max(spec.conclusions, key=lambda n: severity_rank.index(rules[n]["severity"]), default="")
    end = spec.start + max(e.at for e in spec.events)
    session = Session.objects.create(
        id=pk, template=template, session_key=spec.key, start_ms=spec.start, end_ms=end, duration_ms=end - spec.start,
        status=spec.status, revision=spec.revision, completeness=spec.completeness, primary_conclusion=primary,
        updated_ms=end + MINUTE, **spec.extra,
    )
    SessionField.objects.bulk_create(
        SessionField(
            session=session, template=template, name=name,
            str_value=None if isinstance(value, (int, float)) else str(value),
            num_value=float(value) if isinstance(value, (int, float)) else None,
        )
        for name, value in spec.fields.items()
    )
    SessionNode.objects.bulk_create(
        SessionNode(
            session=session, node=e.node, seq=e.seq, source=e.source, event_ms=spec.start + e.at, supplement=e.supplement,
            event_uid=f"{pk}-{e.node}-{e.seq}", raw=json.dumps(e.raw),
        )
        for e in spec.events
    )
    SessionConclusion.objects.bulk_create(
        SessionConclusion(
            session=session, template=template, name=name, label=rules[name]["label"], severity=rules[name]["severity"],
            start_ms=spec.start,
        )
        for name in spec.conclusions
    )
    backfill(template, ids=[pk])  # the fact row the sink writes in the same transaction
    return session


def payment_events(order_id: str, trans_id: str, *, verified: bool = True, callback: bool = True, deliveries: int = 1) -> list[Event]:
    """The baseline steps of the demo flow, then the supplements joined by trans_id."""
    events = [
        Event("order", 0, "billing", {"type": "order_created", "order": {"id": order_id, "amount": {"value": 6}}}),
        Event("pay_page", 5 * SECOND, "client", {"event": "pay_page_open", "oid": order_id}),
    ]
    if verified:
        events += [
            Event("voucher", 30 * SECOND, "client", {"event": "voucher_upload", "oid": order_id, "txn": {"id": trans_id}}),
            Event("verified", 32_500, "billing", {"type": "voucher_verified", "order": {"id": order_id}, "trans_id": trans_id, "result": "OK"}),
        ]
    if verified and callback:
        events.append(Event("callback", 34 * SECOND, "channel", {"transaction": {"id": trans_id}, "status": "SUCCESS"}, supplement=True))
    for seq in range(deliveries if verified else 0):
        events.append(Event("delivery", 40 * SECOND + seq * 55 * SECOND, "gamesvr", {"trans_id": trans_id, "item": {"sku": "gems-60"}, "delivery_no": seq + 1}, supplement=True, seq=seq))
    return events


def make_user(username: str, role: str | None):
    """A user in exactly one role group (or none)."""
    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    if role:
        user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


def logged_in(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client

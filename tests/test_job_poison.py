"""A real (bounded, mini-cluster) Flink run over poison lines between valid orders: the job finishes, every valid
session is stored, and each poison line is a dead letter or a rule error (SPEC §7)."""
import json

import pytest

from sessions.models import DeadLetter, Session, SessionRuleError
from operations.services.launch import run_job
from sessions.services.templates import save_template_version
from tests.flows import T0, demo_document, in_time_order, payment_flow

pytestmark = [pytest.mark.flink, pytest.mark.django_db(transaction=True)]


def billing(record: dict, extra: str = "") -> str:
    text = json.dumps({"time": "2024-05-01 10:30:00.000000", "type": "order_created", **record})
    return text[:-1] + extra + "}" if extra else text


POISON_BILLING = [
    billing({"order": {"id": "P-missing"}}),                                                  # a missing field
    billing({"order": {"id": "P-zero", "amount": {"value": 0}}}),                             # a zero divisor
    billing({"order": {"id": "P-nan"}}, ', "channel": NaN, "order": {"id": "P-nan", "amount": {"value": NaN}}'),  # NaN
    billing({"order": {"id": "P-surrogate"}}, ', "user": {"id": "\\udc80"}'),                 # a lone surrogate
    "{ not json",
]


def test_poison_lines_neither_stop_the_job_nor_lose_a_valid_session(tmp_path, settings):
    settings.LUNA_DATA_DIR = str(tmp_path / "data")
    document = demo_document()
    document["fields"].append({"name": "per_unit", "expr": "100 / int(order.amount)", "type": "number"})
    version = save_template_version(document)
    valid = [line for order in range(6) for line in in_time_order(payment_flow(f"V-{order}", T0 + order * 10 * 60_000))]
    by_source: dict[str, list[str]] = {}
    for source, text in valid:
        by_source.setdefault(source, []).append(text)
    by_source["billing"][1:1] = POISON_BILLING  # between valid orders of the same file
    for source, lines in by_source.items():
        folder = tmp_path / "data" / "mobile-pay" / source
        folder.mkdir(parents=True)
        (folder / "part-0.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")

    run = run_job(version, bounded=True, target="local")

    assert run.state == "finished", run.error
    keys = set(Session.objects.values_list("session_key", flat=True))
    assert {f"V-{i}" for i in range(6)} | {"P-missing", "P-zero", "P-nan"} <= keys
    assert all(Session.objects.get(session_key=f"V-{i}").primary_conclusion == "delivered" for i in range(6))
    errors = set(SessionRuleError.objects.values_list("session__session_key", "rule"))
    assert {("P-missing", "fields.amount_value.expr"), ("P-zero", "fields.per_unit.expr"), ("P-nan", "fields.amount_value.expr")} <= errors
    reasons = list(DeadLetter.objects.values_list("reason", flat=True))
    assert any("lone surrogate" in r for r in reasons) and any(r.startswith("bad JSON") for r in reasons)
    assert not any(r.startswith("job error") for r in reasons)

"""Builders for raw log lines and whole payment flows of the demo template (no Django here).

Every builder returns the exact JSON line the source would ship, so tests exercise parsing too. Times are
epoch milliseconds (UTC); each builder renders them in its source's own `time.format`.
"""
import copy
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable

from jobs.sessionize.logic.engine import Correlator
from jobs.sessionize.logic.template import CompiledTemplate, compile_template

DEMO_PATH = Path(__file__).resolve().parent.parent / "sessions" / "demo" / "mobile-pay.json"

SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE

# 2024-05-01 10:00:00 +08:00
T0 = int(datetime(2024, 5, 1, 2, 0, 0, tzinfo=timezone.utc).timestamp() * 1000)

_CST = timezone(timedelta(hours=8))

Line = tuple[str, str]  # (source, raw line)


def demo_document() -> dict[str, Any]:
    """A fresh copy of the demo template document (safe to mutate)."""
    return json.loads(DEMO_PATH.read_text(encoding="utf-8"))


_COMPILED: CompiledTemplate | None = None


def demo_template() -> CompiledTemplate:
    """The compiled demo template (compiled once; CompiledTemplate is never mutated by the logic)."""
    global _COMPILED
    if _COMPILED is None:
        _COMPILED = compile_template(demo_document())
    return _COMPILED


def mutated(change) -> dict[str, Any]:
    """The demo document after `change(doc)` (which mutates in place)."""
    doc = demo_document()
    change(doc)
    return doc


def _dumps(record: dict[str, Any]) -> str:
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False)


def _billing_time(ts: int) -> str:
    return datetime.fromtimestamp(ts / 1000, tz=_CST).strftime("%Y-%m-%d %H:%M:%S.%f")


def _iso_time(ts: int) -> str:
    moment = datetime.fromtimestamp(ts / 1000, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts % 1000:03d}Z"


# -- single lines -------------------------------------------------------------------------------------------
def order_line(ts: int, order_id: str, amount: float = 6.0, channel: str = "alipay", region: str = "cn-east",
               user_id: str = "u1") -> Line:
    return "billing", _dumps({
        "time": _billing_time(ts), "type": "order_created", "channel": channel,
        "order": {"id": order_id, "amount": {"value": amount, "currency": "CNY"}},
        "user": {"id": user_id, "region": region},
    })


def verified_line(ts: int, order_id: str, trans_id: str, result: str = "OK") -> Line:
    return "billing", _dumps({
        "time": _billing_time(ts), "type": "voucher_verified", "order": {"id": order_id},
        "trans_id": trans_id, "result": result,
    })


def client_line(ts: int, order_id: str | None, event: str, trans_id: str | None = None, extra: str = "") -> Line:
    record: dict[str, Any] = {"ts": ts, "event": event, "device": {"model": "P40", "app": "3.2.1"}}
    if order_id is not None:
        record["oid"] = order_id
    if trans_id is not None:
        record["txn"] = {"id": trans_id}
    if extra:
        record["extra"] = extra
    return "client", _dumps(record)


def pay_page_line(ts: int, order_id: str, extra: str = "") -> Line:
    return client_line(ts, order_id, "pay_page_open", extra=extra)


def voucher_line(ts: int, order_id: str, trans_id: str) -> Line:
    return client_line(ts, order_id, "voucher_upload", trans_id)


def callback_line(ts: int, trans_id: str, status: str = "SUCCESS", amount: float = 6.0) -> Line:
    return "channel", _dumps({
        "notify_time": _iso_time(ts), "status": status, "transaction": {"id": trans_id, "amount": amount},
    })


def delivery_line(ts: int, trans_id: str, item: str = "gem_60", role: str = "r1") -> Line:
    return "gamesvr", _dumps({"t": round(ts / 1000, 3), "trans_id": trans_id, "item": {"sku": item}, "role": role})


# -- flows ----------------------------------------------------------------------------------------------------
STEPS = ("order", "pay_page", "voucher", "verified", "callback", "delivery")


def payment_flow(order_id: str, start: int, trans_id: str | None = None, steps: Iterable[str] = STEPS,
                 delays: dict[str, int] | None = None, result: str = "OK") -> list[tuple[int, Line]]:
    """One order's lines as (event time, line): by default every step, a few seconds apart."""
    trans_id = trans_id or f"T-{order_id}"
    offsets = {"order": 0, "pay_page": 5 * SECOND, "voucher": 40 * SECOND, "verified": 45 * SECOND,
               "callback": 50 * SECOND, "delivery": 55 * SECOND}
    offsets.update(delays or {})
    builders = {
        "order": lambda ts: order_line(ts, order_id),
        "pay_page": lambda ts: pay_page_line(ts, order_id),
        "voucher": lambda ts: voucher_line(ts, order_id, trans_id),
        "verified": lambda ts: verified_line(ts, order_id, trans_id, result),
        "callback": lambda ts: callback_line(ts, trans_id),
        "delivery": lambda ts: delivery_line(ts, trans_id),
    }
    flow = [(start + offsets[step], builders[step](start + offsets[step])) for step in steps]
    return sorted(flow, key=lambda item: item[0])


def in_time_order(timed: Iterable[tuple[int, Line]]) -> list[Line]:
    return [line for _, line in sorted(timed, key=lambda item: item[0])]


# -- running ----------------------------------------------------------------------------------------------------
def correlate(lines: Iterable[Line], template: CompiledTemplate | None = None, finish: bool = True) -> Correlator:
    corr = Correlator(template or demo_template())
    corr.feed_lines(lines)
    if finish:
        corr.finish()
    return corr


def documents(corr: Correlator) -> dict[int, dict[str, Any]]:
    """The store's documents by uid (revision left out: it depends on how often a session was emitted)."""
    return {uid: copy.deepcopy(stored.document) for uid, stored in corr.store.items()}


def by_key(corr: Correlator) -> dict[str, list[dict[str, Any]]]:
    """Stored documents grouped by session key, each list ordered by start time."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for stored in corr.store.values():
        grouped.setdefault(stored.document["session_key"], []).append(stored.document)
    return {key: sorted(docs, key=lambda d: d["start_ms"]) for key, docs in grouped.items()}


def only_session(corr: Correlator, key: str) -> dict[str, Any]:
    docs = by_key(corr).get(key, [])
    assert len(docs) == 1, f"expected one session for {key!r}, got {len(docs)}"
    return docs[0]


def node_names(document: dict[str, Any]) -> list[str]:
    return [n["node"] for n in document["nodes"]]

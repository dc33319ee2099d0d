"""Demo log batches for the tests that run the real job, and what the database holds of them."""
import json
from datetime import datetime
from pathlib import Path

from django.core.management import call_command

from sessions.models import Session
from tests.factories import DEMO_PATH


def write_batch(data_dir: Path, *, orders: int, seed: int, end: datetime, first: bool) -> tuple[list[dict], int]:
    """Demo logs for `orders` orders ending at `end`: the manifest's orders and how many lines the files hold.

    The demo template with a 3 s quiet-source timeout (instead of 30 s): the sessions of the newest 20 minutes
    of event time are written by the timeout, and the tests wait for them.
    """
    document = json.loads(DEMO_PATH.read_text())
    document["session"]["timeout"] = "3s"
    template = data_dir.parent / "mobile-pay-fast.json"
    template.write_text(json.dumps(document))
    manifest = data_dir / "mobile-pay" / "expected.jsonl"
    manifest.unlink(missing_ok=True)
    call_command("demo_data", orders=orders, seed=seed, data_dir=data_dir, days=0.05, end=end.isoformat(),
                 template=template, no_import=not first)
    rows = [json.loads(line) for line in manifest.read_text().splitlines()]
    summary = next(row for row in rows if row.get("summary"))
    return [row for row in rows if "order_id" in row], sum(summary["lines"].values())


def stored_conclusions(keys: set[str]) -> dict[str, list[str]]:
    stored: dict[str, list[str]] = {}
    for key, conclusion in Session.objects.filter(session_key__in=keys).order_by("start_ms").values_list("session_key", "primary_conclusion"):
        stored.setdefault(key, []).append(conclusion)
    return stored


def all_stored(orders: list[dict]) -> bool:
    """Every order has exactly its expected sessions with the planted conclusions (none lost, none doubled)."""
    return stored_conclusions({o["order_id"] for o in orders}) == {o["order_id"]: o["expected"] for o in orders}


def missing_report(orders: list[dict]) -> str:
    """What differs between the stored sessions and the manifest (for a failing assertion's message)."""
    stored = stored_conclusions({o["order_id"] for o in orders})
    wrong = {o["order_id"]: (o["expected"], stored.get(o["order_id"])) for o in orders if stored.get(o["order_id"]) != o["expected"]}
    return f"{len(wrong)} of {len(orders)} orders differ (expected, stored): {dict(list(wrong.items())[:10])}"

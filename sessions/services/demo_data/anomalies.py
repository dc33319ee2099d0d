"""What goes wrong in the demo data and what the template must conclude for it (the ground truth), and the
counters a generation keeps for the manifest's summary line."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .catalog import SOURCES

# -- anomalies and what the template must conclude for them ---------------------------------------------
NORMAL = "normal"
ABANDONED = "abandoned"
INVALID_VOUCHER = "invalid_voucher"
LOST = "lost"
DUPLICATE_DELIVERY = "duplicate_delivery"
CALLBACK_MISSING = "callback_missing"
SPLIT = "crash_resume"

DEFAULT_MIX: dict[str, float] = {
    NORMAL: 0.76,
    ABANDONED: 0.08,
    INVALID_VOUCHER: 0.04,
    LOST: 0.04,
    DUPLICATE_DELIVERY: 0.03,
    CALLBACK_MISSING: 0.03,
    SPLIT: 0.02,
}

# anomaly -> one (primary conclusion, status) per session the template must produce, in time order.
EXPECTED: dict[str, tuple[tuple[str, str], ...]] = {
    NORMAL: (("delivered", "complete"),),
    ABANDONED: (("abandoned", "closed"),),
    INVALID_VOUCHER: (("invalid_voucher", "closed"),),
    LOST: (("lost_order", "closed"),),
    DUPLICATE_DELIVERY: (("duplicate_delivery", "complete"),),
    CALLBACK_MISSING: (("callback_missing", "closed"),),
    # first half: order + pay page (abandoned); second half has no `order` node, so it is never "complete".
    SPLIT: (("abandoned", "closed"), ("delivered", "closed")),
}

MALFORMED_KINDS = ("bad_json", "missing_key", "bad_time")


@dataclass
class Stats:
    """What a generation produced (the manifest's summary line)."""

    orders: int = 0
    lines: Counter = field(default_factory=Counter)  # every line written, per source
    malformed: dict[str, Counter] = field(default_factory=lambda: {s: Counter() for s in SOURCES})
    duplicates: Counter = field(default_factory=Counter)  # identical re-shipped copies, per source
    ignored: Counter = field(default_factory=Counter)  # valid lines that feed no node (client browsing)
    anomalies: Counter = field(default_factory=Counter)
    sessions: int = 0  # sessions the template should produce

    def as_dict(self) -> dict[str, Any]:
        return {
            "orders": self.orders,
            "sessions": self.sessions,
            "lines": {s: self.lines[s] for s in SOURCES},
            "malformed": {s: sum(self.malformed[s].values()) for s in SOURCES},
            "malformed_kinds": {s: dict(sorted(self.malformed[s].items())) for s in SOURCES},
            "duplicates": {s: self.duplicates[s] for s in SOURCES},
            "ignored": {s: self.ignored[s] for s in SOURCES},
            "anomalies": {a: self.anomalies[a] for a in DEFAULT_MIX},
        }

"""Demo data for the worked example (SPEC §1): realistic payment-flow logs for the `mobile-pay` template.

The core (`PaymentFlowSimulator`, `backlog`) is pure Python — no Django — and streams: orders are produced
in creation-time order and each source's lines leave a small heap as soon as no later order can still put a
line before them, so memory is bounded by the longest flow (about an hour of traffic), not by the number of
orders. Everything is drawn from one seeded RNG, so a seed (plus the same time range) reproduces the files
byte for byte.

What one order looks like in the four sources of sessions/demo/mobile-pay.json:

    billing  {"time": "2025-11-20 21:05:12.345000", "type": "order_created", "order": {"id": …, "amount": …}, …}
    client   {"ts": 1763643913123, "event": "pay_page_open", "oid": …}            (epoch ms)
    client   {"ts": …, "event": "voucher_upload", "oid": …, "txn": {"id": <trans_id>, …}}
    billing  {"time": …, "type": "voucher_verified", "order": {"id": …}, "trans_id": …, "result": "OK"}
    channel  {"notify_time": "2025-11-20T21:06:01.200+08:00", "transaction": {"id": <trans_id>, …}, …}
    gamesvr  {"t": 1763643963.52, "trans_id": …, "item": {"sku": …}, "role": …}   (epoch seconds)

Anomalies (`DEFAULT_MIX`, `EXPECTED`) come with their expected conclusions; identical lines are re-shipped
(at-least-once delivery), a few lines are malformed, and each file is in time order except for a local
shuffle bounded by `shuffle_window_ms`. `write_backlog` writes one file per source plus the ground truth
`expected.jsonl` (one line per order, one per malformed line, and a summary line).

Modules: `catalog` (sources, time units, the business), `anomalies` (anomalies, expected conclusions,
`Stats`), `clock` (time/line rendering), `simulator` (`PaymentFlowSimulator`), `traffic` (creation times,
`backlog`), `files` (backlog and live files, manifest, reading back), `importing` (the template).
"""
from .anomalies import (
    ABANDONED,
    CALLBACK_MISSING,
    DEFAULT_MIX,
    DUPLICATE_DELIVERY,
    EXPECTED,
    INVALID_VOUCHER,
    LOST,
    MALFORMED_KINDS,
    NORMAL,
    SPLIT,
    Stats,
)
from .catalog import (
    ANDROID_DEVICES,
    APP_VERSIONS,
    BILLING,
    BILLING_OFFSET_MS,
    CHANNEL,
    CHANNEL_OFFSET,
    CHANNEL_STATUS,
    CHANNELS,
    CLIENT,
    CURRENCY,
    DAY,
    GAMESVR,
    HOUR,
    HOURLY_WEIGHT,
    IOS_DEVICES,
    IOS_SHARE,
    LOOKBACK_MS,
    MINUTE,
    NETWORKS,
    PRICES,
    REGIONS,
    SECOND,
    SKUS,
    SOURCES,
    VERIFY_ERRORS,
)
from .files import (
    LiveFeed,
    Manifest,
    Summary,
    default_run_id,
    manifest_dir,
    read_manifest,
    source_locations,
    write_backlog,
)
from .importing import check_template, import_template
from .simulator import PaymentFlowSimulator
from .traffic import backlog, creation_times

__all__ = [
    # catalog
    "SOURCES", "BILLING", "CLIENT", "CHANNEL", "GAMESVR", "SECOND", "MINUTE", "HOUR", "DAY",
    "REGIONS", "IOS_SHARE", "CURRENCY", "CHANNELS", "PRICES", "SKUS", "IOS_DEVICES", "ANDROID_DEVICES",
    "APP_VERSIONS", "NETWORKS", "CHANNEL_STATUS", "CHANNEL_OFFSET", "VERIFY_ERRORS", "HOURLY_WEIGHT",
    "BILLING_OFFSET_MS", "LOOKBACK_MS",
    # anomalies
    "NORMAL", "ABANDONED", "INVALID_VOUCHER", "LOST", "DUPLICATE_DELIVERY", "CALLBACK_MISSING", "SPLIT",
    "DEFAULT_MIX", "EXPECTED", "MALFORMED_KINDS", "Stats",
    # simulator, traffic
    "PaymentFlowSimulator", "creation_times", "backlog",
    # files
    "source_locations", "Summary", "manifest_dir", "default_run_id", "write_backlog", "Manifest", "read_manifest",
    "LiveFeed",
    # importing
    "check_template", "import_template",
]

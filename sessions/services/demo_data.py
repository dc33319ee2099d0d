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

Anomalies (see `DEFAULT_MIX` and `EXPECTED`) are mixed in with their expected conclusions, identical lines
are re-shipped (at-least-once delivery) and a few lines are malformed. Within each source file, lines are in
time order except for a local shuffle bounded by `shuffle_window_ms` (well inside the template's
`out_of_orderness`). `write_backlog` writes one file per source plus a ground-truth manifest
(`expected.jsonl`: one line per order with its anomaly and expected primary conclusion per session, one
line per malformed line, and a summary line with the counts per source).
"""
from __future__ import annotations

import bisect
import heapq
import json
import math
import os
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

SOURCES = ("billing", "client", "channel", "gamesvr")
BILLING, CLIENT, CHANNEL, GAMESVR = range(4)

SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR

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

# -- the business ---------------------------------------------------------------------------------------
REGIONS = (("cn-east", 0.38), ("cn-south", 0.27), ("sea", 0.16), ("na", 0.11), ("eu", 0.08))
IOS_SHARE = {"cn-east": 0.30, "cn-south": 0.24, "sea": 0.27, "na": 0.55, "eu": 0.46}
CURRENCY = {"cn-east": "CNY", "cn-south": "CNY", "sea": "USD", "na": "USD", "eu": "EUR"}
CHANNELS = {  # (china?, ios?) -> channel weights
    (True, False): (("alipay", 0.55), ("wechat", 0.42), ("card", 0.03)),
    (True, True): (("apple_iap", 0.55), ("alipay", 0.25), ("wechat", 0.20)),
    (False, False): (("google_play", 0.78), ("card", 0.22)),
    (False, True): (("apple_iap", 0.85), ("card", 0.15)),
}
PRICES = {  # currency -> (amount, weight) by tier; tier i buys SKUS[i]
    "CNY": ((6, 0.34), (30, 0.24), (68, 0.16), (128, 0.11), (198, 0.06), (328, 0.05), (648, 0.04)),
    "USD": ((0.99, 0.30), (4.99, 0.26), (9.99, 0.18), (19.99, 0.12), (49.99, 0.08), (99.99, 0.06)),
    "EUR": ((0.99, 0.30), (5.49, 0.26), (10.99, 0.18), (21.99, 0.12), (54.99, 0.08), (109.99, 0.06)),
}
SKUS = ("gems_60", "month_pass", "gems_680", "gems_1280", "gems_1980", "gems_3280", "gems_6480")
IOS_DEVICES = ("iPhone16,2", "iPhone15,3", "iPhone15,2", "iPhone14,5", "iPhone13,2", "iPad13,18")
ANDROID_DEVICES = ("SM-S928B", "SM-A546E", "Pixel 8", "M2102J20SG", "V2227A", "CPH2451", "22081212C", "SM-G991B")
APP_VERSIONS = (("5.12.3", 0.55), ("5.12.1", 0.25), ("5.11.8", 0.15), ("5.10.2", 0.05))
NETWORKS = (("wifi", 0.58), ("5g", 0.22), ("4g", 0.19), ("3g", 0.01))
CHANNEL_STATUS = {"alipay": "TRADE_SUCCESS", "wechat": "SUCCESS", "apple_iap": "PURCHASED",
                  "google_play": "PURCHASED", "card": "succeeded"}
CHANNEL_OFFSET = {"alipay": "+08:00", "wechat": "+08:00", "apple_iap": "Z", "google_play": "-08:00", "card": "Z"}
VERIFY_ERRORS = (("SIGN_INVALID", 0.35), ("RECEIPT_REUSED", 0.25), ("AMOUNT_MISMATCH", 0.2),
                 ("RECEIPT_EXPIRED", 0.12), ("CHANNEL_TIMEOUT", 0.08))
# Order volume by local hour (+08:00): quiet before dawn, peaks in the evening.
HOURLY_WEIGHT = (0.55, 0.35, 0.22, 0.15, 0.12, 0.14, 0.25, 0.45, 0.70, 0.85, 0.95, 1.00,
                 1.10, 1.05, 0.95, 0.95, 1.00, 1.05, 1.15, 1.35, 1.55, 1.70, 1.50, 0.95)

BILLING_OFFSET_MS = 8 * HOUR  # the billing source logs local time in +08:00 (template: "tz": "+08:00")
LOOKBACK_MS = 2 * MINUTE  # an order's lines start at most this long before its creation (shop browsing)
_EPOCH = datetime(1970, 1, 1)


def _cumulative(weighted) -> tuple[tuple, list[float]]:
    values = tuple(v for v, _ in weighted)
    total, cum = 0.0, []
    for _, w in weighted:
        total += w
        cum.append(total)
    return values, [c / total for c in cum]


def _pick(table, u: float):
    values, cum = table
    return values[min(bisect.bisect_right(cum, u), len(values) - 1)]


_REGION_T = _cumulative(REGIONS)
_CHANNEL_T = {k: _cumulative(v) for k, v in CHANNELS.items()}
_PRICE_T = {k: _cumulative([((i, a), w) for i, (a, w) in enumerate(v)]) for k, v in PRICES.items()}
_APP_T = _cumulative(APP_VERSIONS)
_NET_T = _cumulative(NETWORKS)
_ERROR_T = _cumulative(VERIFY_ERRORS)


def _hash01(n: int, salt: int) -> float:
    """A stable pseudo-uniform in [0, 1) for a user attribute (same user, same region/device every time)."""
    x = (n * 0x9E3779B97F4A7C15 + salt * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    x ^= x >> 31
    x = (x * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    x ^= x >> 29
    return (x & 0xFFFFFFFFFFFF) / float(1 << 48)


# -- time rendering (cached per second: strftime is the costliest part of a line) ------------------------
class _Clock:
    """Renders epoch ms in the sources' text formats; the date part is cached per day (strftime is slow)."""

    def __init__(self):
        self._days: dict[int, str] = {}

    def day(self, local_ms: int) -> str:
        """'YYYY-MM-DD' of a local-time epoch ms."""
        day = local_ms // DAY
        text = self._days.get(day)
        if text is None:
            if len(self._days) > 4096:
                self._days.clear()
            text = self._days[day] = (_EPOCH + timedelta(days=day)).strftime("%Y-%m-%d")
        return text

    def _clock(self, local_ms: int) -> str:
        sec, milli = divmod(local_ms % DAY, 1000)
        minutes, sec = divmod(sec, 60)
        return f"{minutes // 60:02d}:{minutes % 60:02d}:{sec:02d}.{milli:03d}"

    def billing(self, ms: int) -> str:
        """'%Y-%m-%d %H:%M:%S.%f' in +08:00."""
        local = ms + BILLING_OFFSET_MS
        return f"{self.day(local)} {self._clock(local)}000"

    def iso(self, ms: int, offset: str) -> str:
        """ISO-8601 with milliseconds and the given offset ('Z' or '+08:00')."""
        local = ms
        if offset != "Z":
            shift = int(offset[1:3]) * HOUR + int(offset[4:6]) * MINUTE
            local += shift if offset[0] == "+" else -shift
        return f"{self.day(local)}T{self._clock(local)}{offset}"


def _dumps(record: dict) -> str:
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False)


# -- one order's plan -----------------------------------------------------------------------------------
@dataclass
class _User:
    uid: str
    region: str
    ios: bool
    device: str
    app: str
    role: str
    server: str


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


class PaymentFlowSimulator:
    """Turns orders into shuffled, deduplication-testing, partly malformed source lines; streams them out.

    Call `add_order(created_ms)` with non-decreasing creation times; `release(before_ms)` hands back every
    pending line whose arrival key is earlier than `before_ms` (safe once no order created before
    `before_ms + LOOKBACK_MS` remains to be added); `drain()` hands back the rest.
    """

    def __init__(
        self,
        seed: Any,
        *,
        shuffle_window_ms: int = 10 * SECOND,
        shuffle_share: float = 0.2,
        mix: dict[str, float] | None = None,
        duplicate_rate: float = 0.01,
        malformed_rate: float = 0.005,
        browse_rate: float = 0.35,
        user_pool: int = 50_000,
        first_seq: int = 0,
        user_seed: Any = None,
    ):
        self.rng = random.Random(seed)
        # Users (ids, regions, devices) depend on `user_seed` only, so a live feed pays with the backlog's users.
        self.salt = random.Random(f"salt:{seed if user_seed is None else user_seed}").randrange(10**6)
        self.window = int(shuffle_window_ms)
        self.shuffle_share = shuffle_share
        mix = dict(mix or DEFAULT_MIX)
        unknown = set(mix) - set(EXPECTED)
        if unknown:
            raise ValueError(f"unknown anomalies: {sorted(unknown)}")
        self._mix = _cumulative(sorted(mix.items(), key=lambda kv: list(EXPECTED).index(kv[0])))
        non_split = {k: v for k, v in mix.items() if k != SPLIT} or {NORMAL: 1.0}
        self._mix_no_split = _cumulative(sorted(non_split.items(), key=lambda kv: list(EXPECTED).index(kv[0])))
        # Per valid line, one uniform decides: re-shipped identically, or followed by a malformed sibling, or neither.
        self.duplicate_rate = duplicate_rate
        self.malformed_rate = malformed_rate
        self.browse_rate = browse_rate
        self.user_pool = max(1, int(user_pool))
        self.seq = first_seq
        self.clock = _Clock()
        self._users: dict[int, _User] = {}
        self.malformed_lines: list[dict[str, str]] = []  # since the last `take_malformed()`
        self.heap: list[tuple[int, int, int, str]] = []
        self._tie = 0
        self.stats = Stats()
        self.last_created = -(2**62)

    # -- users, prices, ids -------------------------------------------------------------------------
    def _user(self) -> _User:
        n = int(self.user_pool * self.rng.random() ** 1.7)  # a few heavy payers, a long tail
        user = self._users.get(n)
        if user is None:
            if len(self._users) > 200_000:
                self._users.clear()
            user = self._users[n] = self._make_user(n)
        return user

    def _make_user(self, n: int) -> _User:
        region = _pick(_REGION_T, _hash01(n, 1 + self.salt))
        ios = _hash01(n, 2 + self.salt) < IOS_SHARE[region]
        devices = IOS_DEVICES if ios else ANDROID_DEVICES
        device = devices[int(_hash01(n, 3 + self.salt) * len(devices))]
        app = _pick(_APP_T, _hash01(n, 4 + self.salt))
        uid = f"u{(n * 7919 + self.salt) % 10**9:09d}"
        server = f"{region.split('-')[0]}{1 + int(_hash01(n, 5 + self.salt) * 24):02d}"
        return _User(uid, region, ios, device, app, f"{server}-{(n * 104729 + self.salt) % 10**8:08d}", server)

    def _trans_id(self, channel: str, seq: int, ms: int) -> str:
        """Channel-shaped transaction ids, unique per order: a bijective scramble of the sequence number."""
        r = self.rng.randrange(10**4)
        mixed = (seq * 7_654_321_039 + 1_234_567_891 * (1 + self.salt)) % 10**10  # odd, not ×5: a bijection
        day = self.clock.day(ms + BILLING_OFFSET_MS).replace("-", "")
        if channel == "alipay":
            return f"{day}2200{r:04d}{mixed:010d}"
        if channel == "wechat":
            return f"4200{r:04d}{day}{mixed:010d}"
        if channel == "apple_iap":
            return f"2000{r % 1000:03d}{mixed:010d}"
        if channel == "google_play":
            digits = f"33{r % 100:02d}{mixed:010d}{r % 10:01d}{r % 7:1d}{r % 3}"
            return f"GPA.{digits[:4]}-{digits[4:8]}-{digits[8:12]}-{digits[12:]}"
        alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
        x, tail = mixed * 10**4 + r, []
        while x:
            x, d = divmod(x, 62)
            tail.append(alphabet[d])
        return "ch_3" + "".join(reversed(tail)).rjust(12, "0")

    def _delay(self, median_ms: float, sigma: float, lo: int, hi: int) -> int:
        return int(min(hi, max(lo, median_ms * math.exp(sigma * self.rng.gauss(0.0, 1.0)))))

    # -- planning ----------------------------------------------------------------------------------
    def _plan(self, anomaly: str, t0: int) -> list[tuple[str, int]]:
        """(step, ts) for one order; steps: browse, order, pay_page, voucher, verified, callback, delivery."""
        d = self._delay
        steps: list[tuple[str, int]] = []
        if self.rng.random() < self.browse_rate:
            steps.append(("browse", t0 - self.rng.randint(2 * SECOND, 90 * SECOND)))
        steps.append(("order", t0))
        pay = t0 + d(1800, 0.7, 200, 30 * SECOND)
        if anomaly == ABANDONED:
            if self.rng.random() < 0.55:
                steps.append(("pay_page", pay))
            return steps
        steps.append(("pay_page", pay))
        if anomaly == SPLIT:  # the app crashed on the pay page; the player resumed the order much later
            pay = pay + self.rng.randint(25 * MINUTE, 40 * MINUTE)
            steps.append(("pay_page", pay))
        voucher = pay + d(28_000, 0.7, 4 * SECOND, 6 * MINUTE)
        verified = voucher + d(700, 0.8, 80, 20 * SECOND)
        steps += [("voucher", voucher), ("verified", verified)]
        if anomaly == INVALID_VOUCHER:
            return steps
        if anomaly != CALLBACK_MISSING:
            if self.rng.random() < 0.85:
                callback = verified + d(2500, 0.9, 150, 90 * SECOND)
            else:  # the channel's notification overtakes the client's upload/verification
                callback = max(t0 + 1, verified - self.rng.randint(200, 12 * SECOND))
            steps.append(("callback", callback))
        if anomaly != LOST:
            delivery = verified + d(6000, 1.0, 400, 4 * MINUTE)
            steps.append(("delivery", delivery))
            if anomaly == DUPLICATE_DELIVERY:  # the game server retried after a timeout and granted twice
                steps.append(("delivery", delivery + self.rng.randint(2 * SECOND, 3 * MINUTE)))
        return steps

    def _fit(self, anomaly: str, t0: int, latest_ms: int | None) -> tuple[str, list[tuple[str, int]]]:
        """Plan so that no line is later than `latest_ms` (the backlog must not run into the future)."""
        steps = self._plan(anomaly, t0)
        if latest_ms is None:
            return anomaly, steps
        last = max(ts for _, ts in steps)
        if last <= latest_ms:
            return anomaly, steps
        if anomaly == SPLIT:  # no room for a crash-resume at the very end: pick another outcome
            anomaly = _pick(self._mix_no_split, self.rng.random())
            steps = self._plan(anomaly, t0)
            last = max(ts for _, ts in steps)
            if last <= latest_ms:
                return anomaly, steps
        room = max(0, latest_ms - t0)
        scale = room / (last - t0)
        return anomaly, [(step, t0 + int((ts - t0) * scale) if ts > t0 else ts) for step, ts in steps]

    # -- the order ---------------------------------------------------------------------------------
    def add_order(self, created_ms: int, latest_ms: int | None = None, anomaly: str | None = None) -> dict[str, Any]:
        """Generate one order created at `created_ms`; returns its manifest entry (ground truth)."""
        if created_ms < self.last_created:
            raise ValueError("orders must be added in creation-time order")
        self.last_created = created_ms
        rng = self.rng
        seq = self.seq
        self.seq += 1
        if anomaly is None:
            anomaly = _pick(self._mix, rng.random())
        anomaly, steps = self._fit(anomaly, created_ms, latest_ms)
        clock = self.clock

        user = self._user()
        china = user.region.startswith("cn")
        channel = _pick(_CHANNEL_T[(china, user.ios)], rng.random())
        currency = CURRENCY[user.region]
        tier, amount = _pick(_PRICE_T[currency], rng.random())
        sku = SKUS[tier]
        stamp = clock.billing(created_ms)  # order ids start with the local creation time: MPyymmddHHMMSS…
        order_id = f"MP{stamp[2:4]}{stamp[5:7]}{stamp[8:10]}{stamp[11:13]}{stamp[14:16]}{stamp[17:19]}{seq % 10**7:07d}"
        has_voucher = any(step == "voucher" for step, _ in steps)
        trans_id = self._trans_id(channel, seq, created_ms) if has_voucher else None
        net = _pick(_NET_T, rng.random())
        result = _pick(_ERROR_T, rng.random()) if anomaly == INVALID_VOUCHER else "OK"
        deliveries = 0

        # Lines are rendered with f-strings (every value is a number or a string free of quotes/escapes):
        # three times faster than json.dumps, and the tests parse every line back with the template.
        user_s = f'"uid":"{user.uid}","device":{{"model":"{user.device}","os":"{"iOS" if user.ios else "Android"}","app":"{user.app}"}},"net":"{net}"'
        push = self._push
        for step, ts in steps:
            if step == "browse":
                tab = ("recommended", "gems", "bundles")[int(rng.random() * 3)]
                push(CLIENT, ts, f'{{"ts":{ts},"event":"shop_view",{user_s},"tab":"{tab}"}}', ignored=True)
            elif step == "order":
                push(BILLING, ts,
                     f'{{"time":"{clock.billing(ts)}","level":"INFO","type":"order_created","order":{{"id":"{order_id}",'
                     f'"amount":{{"value":{amount},"currency":"{currency}"}},"sku":"{sku}"}},"channel":"{channel}",'
                     f'"user":{{"id":"{user.uid}","region":"{user.region}"}},"host":"billing-{1 + seq % 6}"}}')
            elif step == "pay_page":
                push(CLIENT, ts, f'{{"ts":{ts},"event":"pay_page_open","oid":"{order_id}",{user_s}}}')
            elif step == "voucher":
                push(CLIENT, ts, f'{{"ts":{ts},"event":"voucher_upload","oid":"{order_id}",{user_s},'
                                 f'"txn":{{"id":"{trans_id}","channel":"{channel}"}}}}')
            elif step == "verified":
                push(BILLING, ts,
                     f'{{"time":"{clock.billing(ts)}","level":"{"INFO" if result == "OK" else "WARN"}","type":"voucher_verified",'
                     f'"order":{{"id":"{order_id}"}},"trans_id":"{trans_id}","channel":"{channel}","result":"{result}",'
                     f'"cost_ms":{15 + int(rng.random() * 885)},"host":"billing-{1 + (seq + 3) % 6}"}}')
            elif step == "callback":
                paid = int(round(amount * 100)) if channel == "wechat" else amount  # WeChat Pay reports fen
                push(CHANNEL, ts,
                     f'{{"notify_time":"{clock.iso(ts, CHANNEL_OFFSET[channel])}","notify_id":"n{(seq * 9_876_543_211 + self.salt) % 10**12:012d}",'
                     f'"channel":"{channel}","status":"{CHANNEL_STATUS[channel]}",'
                     f'"transaction":{{"id":"{trans_id}","amount":{paid},"currency":"{currency}"}}}}')
            elif step == "delivery":
                deliveries += 1
                push(GAMESVR, ts,
                     f'{{"t":{ts / 1000!r},"trans_id":"{trans_id}","role":"{user.role}","server":"{user.server}",'
                     f'"item":{{"sku":"{sku}","qty":1}},"delivery_id":"d{seq:010d}{deliveries}"}}')

        expected = EXPECTED[anomaly]
        self.stats.orders += 1
        self.stats.anomalies[anomaly] += 1
        self.stats.sessions += len(expected)
        return {
            "order_id": order_id,
            "trans_id": trans_id,
            "anomaly": anomaly,
            "expected": [c for c, _ in expected],
            "expected_status": [s for _, s in expected],
            "sessions": len(expected),
            "split": len(expected) > 1,
            "created_ms": created_ms,
            "channel": channel,
            "region": user.region,
            "amount": amount,
            "currency": currency,
        }

    def _push(self, source: int, ts: int, line: str, ignored: bool = False) -> None:
        """Queue a line by arrival key; maybe also a re-shipped identical copy or a malformed variant."""
        rng = self.rng
        name = SOURCES[source]
        key = ts + int(rng.random() * self.window) if rng.random() < self.shuffle_share else ts
        self._enqueue(key, source, line)
        if ignored:
            self.stats.ignored[name] += 1
            return
        u = rng.random()
        if u < self.duplicate_rate:  # at-least-once shipping: the very same bytes again, a little later
            self._enqueue(ts + int(rng.random() * self.window), source, line)
            self.stats.duplicates[name] += 1
        elif u < self.duplicate_rate + self.malformed_rate:
            kind = MALFORMED_KINDS[rng.randrange(len(MALFORMED_KINDS))]
            bad = self._corrupt(source, kind, line)
            self._enqueue(ts + int(rng.random() * self.window), source, bad)
            self.stats.malformed[name][kind] += 1
            self.malformed_lines.append({"malformed": kind, "source": name, "raw": bad})

    def _corrupt(self, source: int, kind: str, line: str) -> str:
        """A broken sibling of a real line: the kinds of damage a real pipeline sees."""
        if kind == "bad_json":  # a line cut short (a crashed shipper, a full disk): never valid JSON
            return line[: self.rng.randint(8, len(line) - 2)]
        record = json.loads(line)
        bad = dict(record)
        if kind == "missing_key":  # the logger lost the key field
            if source == BILLING:
                bad["order"] = {k: v for k, v in record["order"].items() if k != "id"}
            elif source == CLIENT:
                del bad["oid"]
            elif source == CHANNEL:
                bad["transaction"] = {k: v for k, v in record["transaction"].items() if k != "id"}
            else:
                del bad["trans_id"]
            return _dumps(bad)
        # bad_time: a time in some other format than the source declares
        if source == BILLING:
            bad["time"] = bad["time"].replace(" ", "T")[:23] + "+08:00"
        elif source == CLIENT:
            bad["ts"] = datetime.fromtimestamp(record["ts"] / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
        elif source == CHANNEL:
            bad["notify_time"] = "{2}/{1}/{0} {3}".format(*bad["notify_time"][:10].split("-"), bad["notify_time"][11:19])
        else:
            bad["t"] = f"{record['t']:.3f}".replace(".", ",")
        return _dumps(bad)

    def _enqueue(self, key: int, source: int, line: str) -> None:
        self._tie += 1
        heapq.heappush(self.heap, (key, self._tie, source, line))
        self.stats.lines[SOURCES[source]] += 1

    # -- output ------------------------------------------------------------------------------------
    def release(self, before_ms: int) -> list[tuple[int, str]]:
        """Pending (source index, line) pairs with an arrival key before `before_ms`, in arrival order."""
        heap, out = self.heap, []
        while heap and heap[0][0] < before_ms:
            _, _, source, line = heapq.heappop(heap)
            out.append((source, line))
        return out

    def drain(self) -> list[tuple[int, str]]:
        out = [(source, line) for _, _, source, line in sorted(self.heap)]
        self.heap.clear()
        return out

    def pending(self) -> int:
        return len(self.heap)

    def take_malformed(self) -> list[dict[str, str]]:
        """Ground truth for the malformed lines generated since the last call."""
        taken, self.malformed_lines = self.malformed_lines, []
        return taken


# -- creation times ---------------------------------------------------------------------------------------
class _DiurnalTime:
    """Maps [0, 1) onto [start, end) so that uniform inputs follow the day's traffic curve (+08:00 hours)."""

    def __init__(self, start_ms: int, end_ms: int):
        bounds, weights = [start_ms], []
        t = start_ms
        while t < end_ms:
            local_hour_start = ((t + BILLING_OFFSET_MS) // HOUR) * HOUR - BILLING_OFFSET_MS
            nxt = min(end_ms, local_hour_start + HOUR)
            weights.append(HOURLY_WEIGHT[((t + BILLING_OFFSET_MS) // HOUR) % 24] * (nxt - t))
            bounds.append(nxt)
            t = nxt
        self.bounds = bounds
        self.cum = [0.0]
        for w in weights:
            self.cum.append(self.cum[-1] + w)
        self.total = self.cum[-1]

    def __call__(self, u: float) -> int:
        target = u * self.total
        i = min(max(bisect.bisect_right(self.cum, target) - 1, 0), len(self.bounds) - 2)
        span = self.cum[i + 1] - self.cum[i]
        frac = (target - self.cum[i]) / span if span else 0.0
        return int(self.bounds[i] + frac * (self.bounds[i + 1] - self.bounds[i]))


def creation_times(rng: random.Random, n: int, start_ms: int, end_ms: int) -> Iterator[int]:
    """`n` sorted creation times over [start, end), streamed (sorted uniforms by the descending-product method)."""
    if n <= 0:
        return
    warp = _DiurnalTime(start_ms, end_ms) if end_ms > start_ms else (lambda u: start_ms)
    top = 1.0
    for k in range(n, 0, -1):
        top *= rng.random() ** (1.0 / k)  # the largest of k uniforms below `top`
        yield min(end_ms, warp(1.0 - top))


def backlog(
    orders: int,
    seed: int,
    start_ms: int,
    end_ms: int,
    **options: Any,
) -> Iterator[tuple[str, Any]]:
    """Stream a backlog: ("lines", [(source index, line), ...]) chunks in per-source arrival order,
    ("order", manifest entry) and ("malformed", {"malformed": kind, "source", "raw"}) items.
    No line is timed after `end_ms`. Ends with ("stats", Stats)."""
    sim = PaymentFlowSimulator(seed, **options)
    times_rng = random.Random(f"times:{seed}")
    for created in creation_times(times_rng, orders, start_ms, end_ms):
        chunk = sim.release(created - LOOKBACK_MS)
        if chunk:
            yield "lines", chunk
        yield "order", sim.add_order(created, latest_ms=end_ms)
        for bad in sim.take_malformed():
            yield "malformed", bad
    yield "lines", sim.drain()
    yield "stats", sim.stats


# -- files ------------------------------------------------------------------------------------------------
def source_locations(document: dict[str, Any]) -> dict[str, str]:
    """source name -> location for the four demo sources; fails clearly if the template does not fit."""
    locations = {s["name"]: s["location"] for s in document.get("sources", [])}
    missing = [s for s in SOURCES if s not in locations]
    if missing:
        raise ValueError(f"the template has no source(s) {missing}: the demo generator writes {list(SOURCES)}")
    return {s: locations[s] for s in SOURCES}


def check_template(document: dict[str, Any]) -> None:
    """Make sure the generated records mean to this template what the manifest says (paths, times, nodes,
    conclusions): a tiny flow of each anomaly is parsed with the template's own parser."""
    from jobs.sessionize.logic.records import Event, parse_line
    from jobs.sessionize.logic.template import compile_template

    tpl = compile_template(document)
    source_locations(document)
    names = {c.name for c in tpl.conclusions}
    wanted = {c for outcome in EXPECTED.values() for c, _ in outcome}
    if not wanted <= names:
        raise ValueError(f"the template lacks conclusions {sorted(wanted - names)} the demo data is built to show")
    sim = PaymentFlowSimulator(0, duplicate_rate=0, malformed_rate=0, browse_rate=0)
    t0 = 1_700_000_000_000
    nodes_by_step = {"order": "order", "pay_page": "pay_page", "voucher": "voucher", "verified": "verified",
                     "callback": "callback", "delivery": "delivery"}
    entry = sim.add_order(t0, anomaly=DUPLICATE_DELIVERY)
    lines = sim.drain()
    seen = []
    for source, line in lines:
        parsed = parse_line(tpl, SOURCES[source], line)
        if not isinstance(parsed, Event):
            raise ValueError(f"template {tpl.name!r} does not read a generated {SOURCES[source]} line: {parsed}")
        key = parsed.session_key if not parsed.supplement else parsed.join_key
        if key not in (entry["order_id"], entry["trans_id"]):
            raise ValueError(f"template {tpl.name!r} extracts key {key!r} from a generated {SOURCES[source]} line")
        seen.append(parsed.node)
    if set(seen) != set(nodes_by_step.values()):
        raise ValueError(f"template {tpl.name!r} routes generated lines to nodes {sorted(set(seen))}")


@dataclass
class Summary:
    run_id: str
    seed: int
    orders: int
    start_ms: int
    end_ms: int
    files: dict[str, str]
    manifest: str
    stats: Stats
    seconds: float

    @property
    def total_lines(self) -> int:
        return sum(self.stats.lines.values())

    @property
    def lines_per_second(self) -> float:
        return self.total_lines / self.seconds if self.seconds else 0.0


class _AtomicFile:
    """Written under a hidden name ('.' prefix, which Flink's file source skips), renamed when complete."""

    def __init__(self, path: Path):
        self.path = path
        self.hidden = path.with_name("." + path.name)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = open(self.hidden, "w", encoding="utf-8", newline="\n", buffering=1 << 20)

    def write_lines(self, lines: list[str]) -> None:
        if lines:
            self.handle.write("\n".join(lines))
            self.handle.write("\n")

    def commit(self) -> None:
        self.handle.close()
        os.replace(self.hidden, self.path)

    def abort(self) -> None:
        self.handle.close()
        self.hidden.unlink(missing_ok=True)


def manifest_dir(document: dict[str, Any]) -> str:
    """Where the ground truth goes: the common parent of the source locations (not a source directory)."""
    locations = list(source_locations(document).values())
    common = os.path.commonpath(locations) if all(not os.path.isabs(p) for p in locations) else ""
    if common in locations or not common:
        common = document.get("name", "demo")
    return common


def default_run_id(seed: int) -> str:
    return f"{datetime.now(timezone.utc):%Y%m%dT%H%M%S}-s{seed}"


def _unique_name(directory: Path, stem: str) -> str:
    name, n = f"{stem}.jsonl", 1
    while (directory / name).exists() or (directory / f".{name}").exists():
        n += 1
        name = f"{stem}-{n}.jsonl"
    return name


def write_backlog(
    document: dict[str, Any],
    data_dir: str | os.PathLike,
    *,
    orders: int,
    seed: int,
    start_ms: int,
    end_ms: int,
    run_id: str | None = None,
    progress: Callable[[int], None] | None = None,
    **options: Any,
) -> Summary:
    """Write `part-<run_id>.jsonl` in every source location and `<parent>/expected.jsonl` (ground truth)."""
    began = time.perf_counter()
    root = Path(data_dir)
    run_id = run_id or default_run_id(seed)
    locations = source_locations(document)
    dirs = [root / locations[s] for s in SOURCES]
    for d in dirs:
        d.mkdir(parents=True, exist_ok=True)
    stem = f"part-{run_id}"
    names = [_unique_name(d, stem) for d in dirs]
    files = [_AtomicFile(d / name) for d, name in zip(dirs, names)]
    manifest = _AtomicFile(root / manifest_dir(document) / "expected.jsonl")
    buffers: list[list[str]] = [[] for _ in SOURCES]
    entries: list[str] = []
    stats = Stats()
    done = 0
    try:
        for kind, payload in backlog(orders, seed, start_ms, end_ms, **options):
            if kind == "lines":
                for source, line in payload:
                    buffers[source].append(line)
                for source, buf in enumerate(buffers):
                    if len(buf) >= 8192:
                        files[source].write_lines(buf)
                        buf.clear()
            elif kind in ("order", "malformed"):
                entries.append(json.dumps(payload, separators=(",", ":"), ensure_ascii=False))
                done += kind == "order"
                if len(entries) >= 8192:
                    manifest.write_lines(entries)
                    entries.clear()
                    if progress:
                        progress(done)
            else:
                stats = payload
        for source, buf in enumerate(buffers):
            files[source].write_lines(buf)
        manifest.write_lines(entries)
        summary_line = {"summary": True, "run_id": run_id, "seed": seed, "start_ms": start_ms, "end_ms": end_ms,
                        "shuffle_window_ms": options.get("shuffle_window_ms", 10 * SECOND),
                        "files": {s: str(Path(locations[s]) / n) for s, n in zip(SOURCES, names)}, **stats.as_dict()}
        manifest.write_lines([json.dumps(summary_line, separators=(",", ":"))])
    except BaseException:
        for f in [*files, manifest]:
            f.abort()
        raise
    for f in files:
        f.commit()
    manifest.commit()
    return Summary(
        run_id=run_id, seed=seed, orders=stats.orders, start_ms=start_ms, end_ms=end_ms,
        files={s: str(f.path) for s, f in zip(SOURCES, files)}, manifest=str(manifest.path), stats=stats,
        seconds=time.perf_counter() - began,
    )


@dataclass
class Manifest:
    orders: list[dict[str, Any]]
    malformed: list[dict[str, str]]
    summary: dict[str, Any]


def read_manifest(path: str | os.PathLike) -> Manifest:
    """An expected.jsonl: one entry per order, one per malformed line, and the summary (last line)."""
    manifest = Manifest([], [], {})
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            item = json.loads(line)
            if item.get("summary"):
                manifest.summary = item
            elif "malformed" in item:
                manifest.malformed.append(item)
            else:
                manifest.orders.append(item)
    return manifest


# -- live mode --------------------------------------------------------------------------------------------
class LiveFeed:
    """After the backlog: every `tick()` writes one new small file per source with the lines of current-time
    orders that are due by now (orders are planned `LOOKBACK_MS` ahead, so a line that is due never comes
    after a later one: each file continues the previous one's time order within the shuffle window).
    Lines of orders still in flight when the feed stops are never written (`pending()` counts them)."""

    def __init__(self, document: dict[str, Any], data_dir: str | os.PathLike, *, seed: int, rate_per_s: float,
                 run_id: str, first_seq: int = 0, now: Callable[[], float] = time.time, **options: Any):
        self.root = Path(data_dir)
        self.locations = source_locations(document)
        self.sim = PaymentFlowSimulator(f"live:{seed}", first_seq=first_seq, user_seed=seed, **options)
        self.rng = random.Random(f"live:{seed}")
        self.rate = max(rate_per_s, 1e-9)
        self.run_id = run_id
        self.now = now
        self.ticks = 0
        self.next_order = int(self.now() * 1000) - LOOKBACK_MS  # orders already under way show at once
        self.stats = self.sim.stats

    def tick(self) -> dict[str, int]:
        """Plan orders up to now + lookback, write what is due; returns lines written per source."""
        now_ms = int(self.now() * 1000)
        while self.next_order <= now_ms + LOOKBACK_MS:
            self.sim.add_order(self.next_order)
            self.next_order += max(1, int(self.rng.expovariate(self.rate) * 1000))
        due = self.sim.release(now_ms)
        self.sim.take_malformed()  # the live feed keeps no ground truth beyond its counters
        self.ticks += 1
        per_source: list[list[str]] = [[] for _ in SOURCES]
        for source, line in due:
            per_source[source].append(line)
        written = {}
        for source, lines in enumerate(per_source):
            if not lines:
                continue
            directory = self.root / self.locations[SOURCES[source]]
            directory.mkdir(parents=True, exist_ok=True)
            out = _AtomicFile(directory / _unique_name(directory, f"part-{self.run_id}-live-{self.ticks:06d}"))
            out.write_lines(lines)
            out.commit()
            written[SOURCES[source]] = len(lines)
        return written

    def pending(self) -> int:
        return self.sim.pending()


# -- reading back in arrival order ------------------------------------------------------------------------
def merge_in_time_order(template: Any, streams: dict[str, Iterable[str]]) -> Iterator[tuple[str, str]]:
    """Interleave per-source line streams the way per-source watermarks would: always take the source whose
    next line is earliest. Disorder of the result is bounded by the worst disorder within one source.
    A line without a readable time takes the time of the last readable line of its source."""
    from jobs.sessionize.logic.records import dig

    def timed(name: str, lines: Iterable[str]) -> Iterator[tuple[int, str]]:
        src = template.sources[name]
        last = -(2**62)
        for raw in lines:
            line = raw.rstrip("\n")
            try:
                last = src.parse_time(dig(json.loads(line), src.time_path))
            except Exception:  # malformed: keep its position in the file
                pass
            yield last, line

    iterators = {name: timed(name, lines) for name, lines in streams.items()}
    heap = []
    order = {name: i for i, name in enumerate(streams)}
    for name, it in iterators.items():
        head = next(it, None)
        if head is not None:
            heap.append((head[0], order[name], name, head[1]))
    heapq.heapify(heap)
    while heap:
        _, rank, name, line = heap[0]
        yield name, line
        head = next(iterators[name], None)
        if head is None:
            heapq.heappop(heap)
        else:
            heapq.heapreplace(heap, (head[0], rank, name, head[1]))


# -- database (Django needed only here) -------------------------------------------------------------------
def import_template(document: dict[str, Any], user: Any = None) -> tuple[Any, bool]:
    """Store the template document as its current version; (TemplateVersion, created?).

    Uses `sessions.services.templates.save_template_version` when it exists (the one path the console and
    the API use); otherwise writes the rows directly, with the same validation and fingerprint idempotence.
    """
    from django.db import transaction

    from jobs.sessionize.logic.template import document_fingerprint
    from sessions.models import AnalysisTemplate, TemplateVersion

    fingerprint = document_fingerprint(document)
    before = (
        TemplateVersion.objects.filter(template__name=document.get("name"), fingerprint=fingerprint)
        .order_by("-number").values_list("pk", flat=True).first()
    )
    try:
        from sessions.services.templates import save_template_version
    except ImportError:
        save_template_version = None
    if save_template_version is not None:
        version = save_template_version(document, user=user)
        return version, version.pk != before
    with transaction.atomic():
        template, _ = AnalysisTemplate.objects.select_for_update().get_or_create(
            name=document["name"], defaults={"description": document.get("description", "")}
        )
        current = template.versions.order_by("-number").first()
        if current is not None and current.fingerprint == fingerprint:
            return current, False
        version = TemplateVersion(
            template=template, number=(current.number + 1) if current else 1, document=document,
            fingerprint=fingerprint, created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        version.clean()  # compiles the document: the same check the console runs
        version.save()
    return version, True

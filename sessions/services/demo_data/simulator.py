"""The payment-flow simulator: one seeded RNG turns orders into source lines (with anomalies, re-shipped
duplicates and malformed siblings) and streams them out in arrival order."""
from __future__ import annotations

import heapq
import json
import math
import random
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from .anomalies import (
    ABANDONED, CALLBACK_MISSING, DEFAULT_MIX, DUPLICATE_DELIVERY, EXPECTED, INVALID_VOUCHER, LOST, MALFORMED_KINDS,
    NORMAL, SPLIT, Stats,
)
from .catalog import (
    _APP_T, _CHANNEL_T, _ERROR_T, _NET_T, _PRICE_T, _REGION_T, ANDROID_DEVICES, BILLING, BILLING_OFFSET_MS,
    CHANNEL, CHANNEL_OFFSET, CHANNEL_STATUS, CLIENT, CURRENCY, GAMESVR, IOS_DEVICES, IOS_SHARE, MINUTE, SECOND,
    SKUS, SOURCES, _cumulative, _hash01, _pick,
)
from .clock import _Clock, _dumps


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

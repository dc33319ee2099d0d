"""The four sources, time units, and the business the demo simulates: regions, channels, prices, devices and
the day's traffic curve, with the weighted-pick helpers that draw from them."""
from __future__ import annotations

import bisect

SOURCES = ("billing", "client", "channel", "gamesvr")
BILLING, CLIENT, CHANNEL, GAMESVR = range(4)

SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR

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

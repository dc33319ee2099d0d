"""Figures: the points' search links (built from kept parts) equal `urlencode` of their parameters."""
from urllib.parse import parse_qsl, urlencode

from django.urls import reverse

from analytics.query.buckets import bucketing
from analytics.query.spec import MacroQuery
from analytics.services.figures import SearchLinks, iso

DAY = 86_400_000
SINCE = 1714521600000  # 2024-05-01T00:00:00Z


def test_search_links_equal_urlencode_of_the_points_filters():
    query = MacroQuery(template="mobile pay & co", since_ms=SINCE, until_ms=SINCE + 3 * DAY, measures=[{"kind": "sessions"}],
                       dimensions=[{"kind": "time", "granularity": "day"}, {"kind": "field", "field": "channel"}],
                       filters=[{"kind": "status", "values": ["closed"]}, {"kind": "field", "field": "region", "values": ["eu/west"]}])
    links = SearchLinks(query, bucketing("day", "UTC", query.since_ms, query.until_ms))
    for point in ({"time": SINCE + DAY, "channel": "card+visa & more"}, {"time": SINCE + 2 * DAY, "channel": None},
                  {"time": SINCE + DAY, "channel": "card+visa & more", "conclusion": "lost_order"}):
        expected = {"template": query.template, "since": iso(point["time"]), "until": iso(point["time"] + DAY),
                    **({"conclusion": point["conclusion"]} if "conclusion" in point else {}), "status": "closed",
                    **({"field": "channel", "value": point["channel"]} if point["channel"] else {"field": "region", "value": "eu/west"})}
        url = links.url(point)
        assert url == f"{reverse('sessions:search')}?{urlencode(expected)}"
        assert dict(parse_qsl(url.split("?", 1)[1])) == expected


def test_a_series_links_equal_its_points_links():
    query = MacroQuery(template="t", since_ms=SINCE, until_ms=SINCE + 3 * DAY, measures=[{"kind": "sessions"}],
                       dimensions=[{"kind": "time", "granularity": "day"}, {"kind": "conclusion"}, {"kind": "field", "field": "channel"}])
    links = SearchLinks(query, bucketing("day", "UTC", query.since_ms, query.until_ms))
    fixed, xs = {"conclusion": "lost_order", "channel": None}, [SINCE, SINCE + DAY]
    assert links.urls(fixed, "time", xs) == [links.url({**fixed, "time": x}) for x in xs]
    assert links.urls({"status": "open"}, "channel", ["card", None]) == [links.url({"status": "open", "channel": c}) for c in ("card", None)]

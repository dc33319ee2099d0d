"""The answer's columnar shape: series from per-point rows and from packed day rows, points back, packed counts."""
import gc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.query.spec import MacroQuery
from analytics.services.answer import MacroResult, collection_paused, hour_series, parse_counts, to_series

DAY, HOUR = 86_400_000, 3_600_000
SINCE = 1714521600000  # 2024-05-01T00:00:00Z


def query(dimensions, **kwargs) -> MacroQuery:
    return MacroQuery(template="t", since_ms=kwargs.pop("since_ms", SINCE), until_ms=kwargs.pop("until_ms", SINCE + 3 * DAY),
                      measures=kwargs.pop("measures", [{"kind": "sessions"}]), dimensions=dimensions, **kwargs)


def result(spec: MacroQuery, series) -> MacroResult:
    names = [d.name for d in spec.dimensions]
    at = next((i for i, d in enumerate(spec.dimensions) if d.kind == "time"), 0 if names else None)
    return MacroResult(names, [m.name for m in spec.measures], None if at is None else names[at],
                       [n for i, n in enumerate(names) if i != at], series, "rollups", "", "sqlite", "", [])


def test_packed_day_rows_become_series_by_start_hour_in_the_range():
    spec = query([{"kind": "conclusion"}, {"kind": "time", "granularity": "hour"}, {"kind": "field", "field": "channel"}],
                 since_ms=SINCE + 22 * HOUR, until_ms=SINCE + DAY + 2 * HOUR)
    day_counts = {(c, day, ch): [(len(c) + day // DAY + len(ch) + h) % 3 for h in range(24)]
                  for c in ("abandoned", "delivered") for day in (SINCE, SINCE + DAY) for ch in ("", "card", "wechat")}
    raw = [(c, day, ch, ",".join(map(str, n)), 0) for (c, day, ch), n in sorted(day_counts.items())]  # as the SQL orders them
    series = hour_series(raw, ["g_conclusion", "g_time", "g_channel", "x_hours", "x_open"], spec)
    expected = sorted(([c, day + h * HOUR, ch or None, n[h]] for (c, day, ch), n in day_counts.items() for h in range(24)
                       if n[h] and spec.since_ms <= day + h * HOUR < spec.until_ms), key=lambda r: (r[0], r[2] or "", r[1]))
    assert [s.key for s in series] == sorted({(r[0], r[2]) for r in expected}, key=lambda k: (k[0], k[1] is not None, k[1] or ""))
    assert [[*s.key[:1], x, *s.key[1:], n] for s in series for x, n in zip(s.x, s.values[0])] == expected
    assert result(spec, series).points() == sorted(expected, key=lambda r: (r[0], r[1], r[2] is not None, r[2] or ""))
    assert all(isinstance(x, int) and isinstance(n, int) for s in series for x, n in zip(s.x, s.values[0]))  # JSON-ready


values = st.one_of(st.none(), st.sampled_from(["a", "b", "c"]))


@given(st.dictionaries(st.tuples(st.integers(0, 5), values, values), st.integers(1, 9), max_size=30))
@settings(max_examples=60)
def test_rows_become_series_and_points_give_them_back(cells):
    spec = query([{"kind": "conclusion"}, {"kind": "time", "granularity": "day"}, {"kind": "status"}])
    rows = sorted(([c, SINCE + t * DAY, s, n] for (t, c, s), n in cells.items()),
                  key=lambda r: [(v is not None, v) for v in r[:3]])  # SQL order: every dimension ascending
    series = to_series(rows, spec)
    assert len(series) == len({(r[0], r[2]) for r in rows})
    assert all(s.x == sorted(s.x) for s in series)
    assert result(spec, series).points() == rows


def test_an_answer_without_dimensions_is_one_point_and_a_first_dimension_is_the_x_axis():
    spec = query([])
    assert result(spec, to_series([[7]], spec)).points() == [[7]]
    by_conclusion = query([{"kind": "conclusion"}, {"kind": "status"}])
    series = to_series([["a", "closed", 1], ["a", "open", 2], ["b", "closed", 3]], by_conclusion)
    assert [(s.key, s.x, s.values) for s in series] == [(("closed",), ["a", "b"], [[1, 3]]), (("open",), ["a"], [[2]])]


def test_packed_counts_parse_in_exponent_form_and_refuse_what_is_not_a_number():
    assert parse_counts("1,0,2e+15,3", 4).tolist() == [1, 0, 2 * 10**15, 3]
    with pytest.raises(ValueError):
        parse_counts("1,x,3", 3)


def test_the_collector_pauses_while_an_answer_is_built_and_resumes_even_after_an_error():
    assert gc.isenabled()
    with pytest.raises(ZeroDivisionError), collection_paused():
        assert not gc.isenabled()
        1 / 0
    assert gc.isenabled()

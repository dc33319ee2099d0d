"""Epoch-ms display is total: no stored integer can break a page."""
from hypothesis import given, strategies as st

from sessions import timefmt
from sessions.templatetags.luna import ms_datetime, ms_iso


def test_in_range_values_read_as_utc():
    assert timefmt.iso(1714550400000) == "2024-05-01T08:00:00.000Z"
    assert ms_datetime(1714550400123) == "2024-05-01 08:00:00.123Z"
    assert timefmt.iso(timefmt.MAX_EPOCH_MS) == "9999-12-31T23:59:59.999Z"


def test_out_of_range_values_show_as_numbers():
    assert timefmt.iso(10**15) == str(10**15)
    assert "out of range" in ms_datetime(10**15)
    assert timefmt.to_datetime(11637418300536274944) is None


@given(st.one_of(st.integers(min_value=-(2**63), max_value=2**64), st.none(), st.text(max_size=5)))
def test_every_value_renders(value):
    assert isinstance(ms_datetime(value), str)
    assert isinstance(ms_iso(value), str)

"""The reference engine's input ordering: sources interleaved by event time, each source's own order kept."""
from hypothesis import given, settings, strategies as st

from jobs.sessionize.logic.ordering import merge_in_time_order
from tests.flows import T0, callback_line, demo_template, order_line


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 10_000), max_size=30), st.lists(st.integers(0, 10_000), max_size=30))
def test_sorted_sources_come_out_merged_by_time(billing_offsets, channel_offsets):
    billing = [order_line(T0 + ms, f"O{i}")[1] for i, ms in enumerate(sorted(billing_offsets))]
    channel = [callback_line(T0 + ms, f"T{i}")[1] for i, ms in enumerate(sorted(channel_offsets))]
    merged = list(merge_in_time_order(demo_template(), {"billing": billing, "channel": channel}))
    assert [line for source, line in merged if source == "billing"] == billing
    assert [line for source, line in merged if source == "channel"] == channel
    times = sorted([("billing", ms) for ms in billing_offsets] + [("channel", ms) for ms in channel_offsets],
                   key=lambda item: (item[1], item[0] != "billing"))
    assert [source for source, _ in merged] == [source for source, _ in times]


def test_an_unreadable_line_keeps_its_place_in_its_source():
    billing = [order_line(T0 + 5, "A")[1], "{not json", order_line(T0 + 9, "B")[1]]
    channel = [callback_line(T0 + 7, "T")[1]]
    merged = [line for _, line in merge_in_time_order(demo_template(), {"billing": billing, "channel": channel})]
    assert merged == [billing[0], billing[1], channel[0], billing[2]]

"""Event-time parsing for every `time.format` of SPEC §2 → epoch milliseconds (UTC)."""
from datetime import datetime, timedelta, timezone

import pytest

from jobs.sessionize.logic.timeparse import make_time_parser, parse_offset

# 2024-05-01 02:00:00.250 UTC
MOMENT = datetime(2024, 5, 1, 2, 0, 0, 250_000, tzinfo=timezone.utc)
MS = 1714528800250


def test_the_reference_moment_is_what_the_tests_think_it_is():
    assert int(MOMENT.timestamp() * 1000) == MS


# -- epoch formats ------------------------------------------------------------------------------------------
def test_it_parses_epoch_ms_from_numbers_and_strings():
    parse = make_time_parser("epoch_ms")
    assert parse(MS) == MS
    assert parse(str(MS)) == MS
    assert parse(float(MS)) == MS


def test_it_parses_epoch_s_keeping_milliseconds():
    parse = make_time_parser("epoch_s")
    assert parse(MS // 1000) == MS - 250
    assert parse(MS / 1000) == MS
    assert parse("1714528800.25") == MS
    assert parse(1714528800.0004) == MS - 250  # sub-millisecond noise rounds away


def test_epoch_formats_ignore_the_time_zone():
    assert make_time_parser("epoch_ms", "+08:00")(MS) == MS
    assert make_time_parser("epoch_s", "-05:00")(MS / 1000) == MS


@pytest.mark.parametrize("fmt", ["epoch_s", "epoch_ms"])
@pytest.mark.parametrize("bad", ["yesterday", "", True, None, [1], {"s": 1}])
def test_epoch_formats_reject_non_numbers(fmt, bad):
    with pytest.raises(ValueError) as excinfo:
        make_time_parser(fmt)(bad)
    assert str(excinfo.value)


def test_epoch_formats_name_the_bad_value():
    with pytest.raises(ValueError, match="expected a number, got True"):
        make_time_parser("epoch_ms")(True)
    with pytest.raises(ValueError, match="yesterday"):
        make_time_parser("epoch_s")("yesterday")


# -- ISO-8601 ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "2024-05-01T02:00:00.250Z",
        "2024-05-01T02:00:00.250+00:00",
        "2024-05-01T10:00:00.250+08:00",
        "2024-04-30T21:00:00.250-05:00",
        "2024-05-01 10:00:00.250+08:00",
    ],
)
def test_it_parses_iso8601_with_z_or_an_offset(text):
    assert make_time_parser("iso8601")(text) == MS


def test_an_explicit_offset_wins_over_the_sources_tz():
    assert make_time_parser("iso8601", "+03:00")("2024-05-01T02:00:00.250Z") == MS


def test_naive_iso8601_uses_the_sources_tz():
    assert make_time_parser("iso8601", "+08:00")("2024-05-01T10:00:00.250") == MS
    assert make_time_parser("iso8601")("2024-05-01T02:00:00.250") == MS  # no tz → UTC


def test_iso8601_rejects_garbage_and_non_strings():
    parse = make_time_parser("iso8601")
    with pytest.raises(ValueError, match="Invalid isoformat string: 'yesterday'"):
        parse("yesterday")
    with pytest.raises(ValueError, match="month must be in 1..12"):
        parse("2024-13-45T09:00:00")
    with pytest.raises(ValueError, match="ISO-8601"):
        parse(1714528800)


# -- strftime patterns ---------------------------------------------------------------------------------------
def test_it_parses_a_strftime_pattern_in_the_sources_tz():
    parse = make_time_parser("%Y-%m-%d %H:%M:%S.%f", "+08:00")
    assert parse("2024-05-01 10:00:00.250000") == MS


def test_a_strftime_pattern_without_tz_is_utc():
    assert make_time_parser("%d/%m/%Y %H:%M:%S")("01/05/2024 02:00:00") == MS - 250


def test_a_pattern_with_its_own_offset_ignores_the_sources_tz():
    parse = make_time_parser("%Y-%m-%dT%H:%M:%S.%f%z", "+08:00")
    assert parse("2024-05-01T02:00:00.250000+0000") == MS


def test_negative_offsets_and_compact_offsets_work():
    assert make_time_parser("%Y-%m-%d %H:%M:%S", "-0530")("2024-04-30 20:30:00") == MS - 250


def test_strftime_rejects_a_value_that_does_not_match():
    parse = make_time_parser("%Y-%m-%d %H:%M:%S.%f", "+08:00")
    with pytest.raises(ValueError, match="does not match format"):
        parse("01/05/2024 10:00")
    with pytest.raises(ValueError, match="expected a time string matching"):
        parse(1714528800)


def test_times_before_1970_round_to_the_nearest_millisecond():
    assert make_time_parser("iso8601")("1969-12-31T23:59:59.999Z") == -1


# -- configuration errors -------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["yyyy-MM-dd", "epoch", "iso", "unix"])
def test_it_rejects_an_unknown_format_naming_the_choices(fmt):
    with pytest.raises(ValueError) as excinfo:
        make_time_parser(fmt)
    message = str(excinfo.value)
    assert repr(fmt) in message
    assert "epoch_s" in message and "epoch_ms" in message and "iso8601" in message and "strftime" in message


@pytest.mark.parametrize(
    ("tz", "hours"),
    [(None, 0), ("", 0), ("UTC", 0), ("Z", 0), ("+08:00", 8), ("+0800", 8), ("-05:00", -5), ("+05:30", 5.5), (" +01:00 ", 1)],
)
def test_it_reads_fixed_offsets(tz, hours):
    assert parse_offset(tz).utcoffset(None) == timedelta(hours=hours)


@pytest.mark.parametrize("tz", ["Asia/Shanghai", "CST", "+8", "+08", "08:00", "+08:00:00", "   ", "+08:75", "+24:00"])
def test_it_rejects_named_zones_and_malformed_offsets(tz):
    with pytest.raises(ValueError) as excinfo:
        parse_offset(tz)
    assert "bad time zone" in str(excinfo.value) or "offset" in str(excinfo.value)


def test_a_bad_tz_is_reported_when_the_parser_is_built():
    with pytest.raises(ValueError, match="bad time zone 'Asia/Shanghai'"):
        make_time_parser("iso8601", "Asia/Shanghai")


@pytest.mark.parametrize(("fmt", "value"), [("epoch_s", 1e300), ("epoch_ms", 1e20), ("epoch_ms", float("inf")),
                                            ("epoch_s", float("-inf")), ("epoch_s", float("nan")), ("epoch_ms", "1e400")])
def test_epoch_formats_reject_times_out_of_range(fmt, value):
    with pytest.raises(ValueError, match="out of range"):
        make_time_parser(fmt)(value)


def test_epoch_formats_accept_the_whole_calendar_range():
    assert make_time_parser("epoch_ms")(253_402_300_799_999) == 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
    assert make_time_parser("epoch_s")(-62_135_596_800) == -62_135_596_800_000  # 0001-01-01T00:00:00Z

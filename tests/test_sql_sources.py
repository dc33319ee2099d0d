"""Event time in SQL must equal the Python parser's, to the millisecond, or the watermark drifts from the data."""
import json

import pytest

from jobs.sessionize.logic.timeparse import make_time_parser
from jobs.sessionize.sql_sources import day_to_second, filesystem_options, json_path, source_ddl, sql_offset, time_expression

CASES = [
    ("epoch_ms", None, [1795226400123, "1795226400123", 1795226400123.0, "nope", 1e300]),
    ("epoch_s", None, [1795226400.1234, "1795226400", 1795226400, "x", -1e300]),
    ("iso8601", None, ["2026-11-21T02:00:00Z", "2026-11-21T10:00:00.5+08:00", "2026-11-21 02:00:00.123456",
                       "2026-11-21T02:00:00-05:30", "21/11/2026", "2026-11-21T02:00:00.9999995Z"]),
    ("iso8601", "+08:00", ["2026-11-21T10:00:00", "2026-11-21T10:00:00Z"]),
    ("%Y-%m-%d %H:%M:%S.%f", "+08:00", ["2026-11-21 10:00:00.123000", "2026-11-21 10:00:00.5", "2026-11-21T10:00:00.1", "bad"]),
    ("%Y-%m-%d %H:%M:%S", "-0300", ["2026-11-21 10:00:00", "2026-11-21 10:00:00.1"]),
]


def python_ms(fmt, tz, value):
    try:
        return make_time_parser(fmt, tz)(value)
    except (ValueError, OverflowError, OSError):
        return None


def test_paths_offsets_and_intervals_are_printed_for_flink():
    assert json_path("order.amount.value") == "$.order.amount.value"
    assert json_path("items.0.sku") == "$.items[0].sku"
    assert [sql_offset(t) for t in (None, "UTC", "+08:00", "-0530", "Asia/Shanghai")] == ["Z", "Z", "+08:00", "-05:30", None]
    assert day_to_second(30_000) == "INTERVAL '0 00:00:30.000' DAY TO SECOND"
    assert day_to_second(2 * 86_400_000 + 7_200_500) == "INTERVAL '2 02:00:00.500' DAY TO SECOND"


def test_a_pattern_sql_cannot_express_falls_back_to_python():
    assert time_expression("v", "%d/%m/%Y %H:%M", None) is None
    assert time_expression("v", "iso8601", "Asia/Shanghai") is None
    source = {"name": "x", "time": {"path": "t", "format": "%d/%m/%Y"}, "fields": {}}
    ddl, sql_watermark = source_ddl("src_x", source, filesystem_options("/data/x", "1s"), 30_000)
    assert not sql_watermark and "WATERMARK" not in ddl and "'source.monitor-interval' = '1s'" in ddl


def test_the_ddl_declares_rowtime_and_watermark_and_quotes_options():
    source = {"name": "billing", "time": {"path": "meta.time", "format": "epoch_ms"}, "fields": {}}
    ddl, sql_watermark = source_ddl("src_billing", source, filesystem_options("/data/it's", None), 30_000)
    assert sql_watermark
    assert "JSON_VALUE(line, '$.meta.time')" in ddl
    assert "WATERMARK FOR rt AS rt - INTERVAL '0 00:00:30.000' DAY TO SECOND" in ddl
    assert "'path' = '/data/it''s'" in ddl and "source.monitor-interval" not in ddl


@pytest.mark.flink
def test_sql_event_time_equals_the_python_parser(tmp_path):
    """One batch query over every case; a value Python rejects must give NULL (time 0), never a wrong time."""
    from pyflink.table import EnvironmentSettings, TableEnvironment

    env = TableEnvironment.create(EnvironmentSettings.in_batch_mode())
    env.get_config().set("table.local-time-zone", "UTC")
    expected = {}
    for index, (fmt, tz, values) in enumerate(CASES):
        folder = tmp_path / f"s{index}"
        folder.mkdir()
        (folder / "part.jsonl").write_text("".join(json.dumps({"i": i, "t": v}) + "\n" for i, v in enumerate(values)))
        source = {"name": f"s{index}", "time": {"path": "t", "format": fmt, "tz": tz}, "fields": {}}
        ddl, sql_watermark = source_ddl(f"s{index}", source, filesystem_options(str(folder), None), 1000)
        assert sql_watermark, (fmt, tz)
        env.execute_sql(ddl.replace("CREATE TEMPORARY TABLE", "CREATE TABLE"))
        for i, value in enumerate(values):
            expected[(index, i)] = python_ms(fmt, tz, value)
    union = " UNION ALL ".join(
        f"SELECT {index} AS s, CAST(JSON_VALUE(line, '$.i') AS INT) AS i, CAST(rt AS STRING) AS rt FROM s{index}"
        for index in range(len(CASES))
    )
    from datetime import datetime, timezone

    got = {}
    with env.execute_sql(union).collect() as rows:
        for s, i, rt in rows:
            ms = int(datetime.fromisoformat(rt).replace(tzinfo=timezone.utc).timestamp() * 1000 + 0.5)
            got[(s, i)] = ms or None
    mismatches = {key: (CASES[key[0]][0], CASES[key[0]][2][key[1]], expected[key], got.get(key))
                  for key in expected if expected[key] != got.get(key)}
    assert not mismatches

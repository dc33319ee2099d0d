"""Event time in SQL must equal the Python parser's, to the millisecond, or the watermark drifts from the data."""
import json

import pytest

from jobs.sessionize.logic.timeparse import make_time_parser
from jobs.sessionize.sql_sources import (day_to_second, filesystem_options, json_path, kafka_options, source_ddl, sql_offset,
                                         time_expression)

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


KAFKA = {"bootstrap_servers": "kafka-1:9092,kafka-2:9092", "group_id": "luna-mobile-pay", "connector_jar": "/opt/flink/kafka.jar"}


def test_a_kafka_source_reads_raw_lines_from_its_topic_with_committed_offsets():
    source = {"name": "billing", "time": {"path": "time", "format": "epoch_ms"}, "fields": {}}
    ddl, sql_watermark = source_ddl("src_billing", source, kafka_options("pay.billing", KAFKA, bounded=False), 30_000)
    assert sql_watermark and "WATERMARK FOR rt" in ddl
    for option in ("'connector' = 'kafka'", "'topic' = 'pay.billing'", "'format' = 'raw'",
                   "'properties.bootstrap.servers' = 'kafka-1:9092,kafka-2:9092'", "'properties.group.id' = 'luna-mobile-pay'",
                   "'scan.startup.mode' = 'group-offsets'", "'properties.auto.offset.reset' = 'earliest'"):
        assert option in ddl
    assert "scan.bounded.mode" not in ddl and "file.path" not in ddl
    # dead letters name the record's place in the log, as files name their path
    assert "origin AS CONCAT(kafka_topic, ':', CAST(kafka_partition AS STRING), ':', CAST(kafka_offset AS STRING))" in ddl
    assert kafka_options("pay.billing", KAFKA, bounded=True)["scan.bounded.mode"] == "latest-offset", "a backfill ends"


def test_the_job_picks_kafka_when_configured_and_topics_default_to_source_names(tmp_path):
    from jobs.sessionize.config import JobConfig
    from jobs.sessionize.pipeline import source_options

    config = JobConfig(template={}, template_id=1, version=1, database_url="sqlite://", data_dir=str(tmp_path), kafka=KAFKA)
    assert source_options(config, {"name": "client", "location": "mobile-pay/client"})["topic"] == "client"
    assert source_options(config, {"name": "client", "location": "x", "topic": "app.client"})["topic"] == "app.client"
    files = JobConfig(template={}, template_id=1, version=1, database_url="sqlite://", data_dir=str(tmp_path))
    assert source_options(files, {"name": "client", "location": "mobile-pay/client"})["path"] == str(tmp_path / "mobile-pay" / "client")


@pytest.mark.flink
def test_flink_accepts_the_kafka_ddl_and_only_misses_the_connector_jar():
    """Kafka cannot run here: Flink's own parser and planner check the generated DDL up to the connector lookup."""
    from pyflink.table import EnvironmentSettings, TableEnvironment

    env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    source = {"name": "billing", "time": {"path": "time", "format": "%Y-%m-%d %H:%M:%S.%f", "tz": "+08:00"}, "fields": {}}
    ddl, _ = source_ddl("src_billing", source, kafka_options("pay.billing", KAFKA, bounded=False), 30_000)
    env.execute_sql(ddl)
    columns = env.from_path("src_billing").get_schema().get_field_names()
    assert columns == ["line", "kafka_topic", "kafka_partition", "kafka_offset", "origin", "rt"]
    with pytest.raises(Exception, match="factory for identifier 'kafka'"):
        env.explain_sql("SELECT origin, rt FROM src_billing")

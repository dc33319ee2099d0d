"""Template source → Flink SQL table: raw lines, the file path, and the event time computed in SQL with a
WATERMARK, so Flink's own (Java) watermark machinery — with its idle-source handling — drives event time.

The SQL time expressions reproduce `logic.timeparse` to the millisecond (checked line by line against the Python
parser on 597,355 demo lines; docs/research-issue4-throughput.md). A strftime pattern SQL cannot express returns
None from `time_expression`, and the pipeline falls back to a Python timestamp assigner for that source. Lines the
expression cannot read get time 0, which never advances a watermark; Python still decides whether they are rejected.
"""
import re

MAX_ABS_MS = 253_402_300_800_000  # year 9999, the range Python accepts
_ISO = r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})?$"  # Python truncates past 6
_STRFTIME = {"%Y-%m-%d %H:%M:%S": r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", "%Y-%m-%dT%H:%M:%S": r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}"}
_OFFSET = re.compile(r"^[+-]\d{2}:\d{2}$")


def quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def json_path(dotted: str) -> str:
    """`order.id` → `$.order.id`; list indexes (`items.0.sku`) → `$.items[0].sku`."""
    return "$" + "".join(f"[{part}]" if part.isdigit() else f".{part}" for part in dotted.split("."))


def sql_offset(tz: str | None) -> str | None:
    """The template's offset as SQL's XXX pattern wants it ('Z' or '+08:00'); None when not expressible."""
    if tz in (None, "", "UTC", "Z", "utc"):
        return "Z"
    text = tz.strip()
    if _OFFSET.match(text):
        return text
    if re.fullmatch(r"[+-]\d{4}", text):
        return f"{text[:3]}:{text[3:]}"
    return None


def time_expression(value: str, fmt: str, tz: str | None) -> str | None:
    """SQL BIGINT epoch-ms for the string expression `value`, NULL where Python would reject the value."""
    if fmt in ("epoch_ms", "epoch_s"):
        number = f"TRY_CAST({value} AS DOUBLE)"
        ms = number if fmt == "epoch_ms" else f"{number} * 1000"
        cast = f"CAST({number} AS BIGINT)" if fmt == "epoch_ms" else f"CAST(ROUND({ms}, 0) AS BIGINT)"
        return f"CASE WHEN ABS({ms}) < {MAX_ABS_MS} THEN {cast} END"
    offset = sql_offset(tz)
    if offset is None:
        return None
    if fmt == "iso8601":
        pattern = quote(_ISO)
        seconds = (f"UNIX_TIMESTAMP(CONCAT(SUBSTR({value}, 1, 10), ' ', SUBSTR({value}, 12, 8), "
                   f"COALESCE(REGEXP_EXTRACT({value}, {pattern}, 4), {quote(offset)})), 'yyyy-MM-dd HH:mm:ssXXX')")
        fraction = f"COALESCE(CAST(RPAD(SUBSTR(REGEXP_EXTRACT({value}, {pattern}, 3), 2, 6), 6, '0') AS BIGINT), 0)"
        return f"CASE WHEN REGEXP({value}, {pattern}) THEN {seconds} * 1000 + ({fraction} + 500) / 1000 END"
    base, with_fraction = (fmt[:-3], True) if fmt.endswith(".%f") else (fmt, False)
    if base not in _STRFTIME:
        return None
    regex = quote("^" + _STRFTIME[base] + (r"\.\d{1,6}" if with_fraction else "") + "$")
    fraction = f"CAST(RPAD(SUBSTR({value}, 21), 6, '0') AS BIGINT)" if with_fraction else "0"
    seconds = (f"UNIX_TIMESTAMP(CONCAT(SUBSTR({value}, 1, 10), ' ', SUBSTR({value}, 12, 8), {quote(offset)}), "
               f"'yyyy-MM-dd HH:mm:ssXXX')")
    return f"CASE WHEN REGEXP({value}, {regex}) THEN {seconds} * 1000 + ({fraction} + 500) / 1000 END"


def day_to_second(ms: int) -> str:
    """A SQL interval literal for any duration (`INTERVAL '7200' SECOND` overflows SECOND's precision of 2)."""
    seconds, millis = divmod(ms, 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    return f"INTERVAL '{days} {hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}' DAY TO SECOND"


def filesystem_options(path: str, monitor_interval: str | None) -> dict[str, str]:
    options = {"connector": "filesystem", "path": path, "format": "raw", "raw.charset": "UTF-8"}
    if monitor_interval:
        options["source.monitor-interval"] = monitor_interval
    return options


def kafka_options(topic: str, kafka: dict[str, str], bounded: bool) -> dict[str, str]:
    """A Kafka topic of raw JSON lines (production input; the connector jar comes from `pipeline.jars`).

    Committed group offsets make a restarted job resume where it left off; a bounded run (backfill) reads up to
    the offsets current at its start and ends.
    """
    options = {
        "connector": "kafka", "topic": topic, "format": "raw", "raw.charset": "UTF-8",
        "properties.bootstrap.servers": kafka["bootstrap_servers"],
        "properties.group.id": kafka.get("group_id", "luna-sessionize"),
        "properties.auto.offset.reset": "earliest",
        "scan.startup.mode": "group-offsets",
    }
    if bounded:
        options["scan.bounded.mode"] = "latest-offset"
    return options


ORIGIN_COLUMNS = {
    "filesystem": ["origin STRING NOT NULL METADATA FROM 'file.path' VIRTUAL"],
    "kafka": ["kafka_topic STRING NOT NULL METADATA FROM 'topic' VIRTUAL",
              "kafka_partition INT NOT NULL METADATA FROM 'partition' VIRTUAL",
              "kafka_offset BIGINT NOT NULL METADATA FROM 'offset' VIRTUAL",
              "origin AS CONCAT(kafka_topic, ':', CAST(kafka_partition AS STRING), ':', CAST(kafka_offset AS STRING))"],
}


def source_ddl(table: str, source: dict, options: dict[str, str], out_of_orderness_ms: int) -> tuple[str, bool]:
    """CREATE TABLE for one template source; returns (ddl, has_sql_watermark).

    Columns: the raw line, `origin` (file path, or topic:partition:offset) for dead letters, and — when the
    time format is expressible in SQL — the event time `rt` with the source's WATERMARK.
    """
    value = f"JSON_VALUE(line, {quote(json_path(source['time']['path']))})"
    ts = time_expression(value, source["time"]["format"], source["time"].get("tz"))
    with_clause = ", ".join(f"{quote(k)} = {quote(v)}" for k, v in options.items())
    columns = ["line STRING", *ORIGIN_COLUMNS[options["connector"]]]
    if ts is not None:
        # A time SQL reads but TIMESTAMP_LTZ cannot hold (e.g. year −5000) is NULL there, and a NULL rowtime fails the job.
        columns += [f"rt AS COALESCE(TO_TIMESTAMP_LTZ(COALESCE({ts}, 0), 3), TO_TIMESTAMP_LTZ(0, 3))", f"WATERMARK FOR rt AS rt - {day_to_second(out_of_orderness_ms)}"]
    return f"CREATE TEMPORARY TABLE `{table}` ({', '.join(columns)}) WITH ({with_clause})", ts is not None


def union_query(sources: list[str]) -> str:
    """All SQL-timed sources as one narrow stream (source, line, origin, rt): the "union + keyBy" pattern, with
    the watermark of the union the minimum over the live sources."""
    return "\nUNION ALL\n".join(f"SELECT {quote(name)} AS source, line, origin, rt FROM `src_{name}`" for name in sources)


def template_updates_ddl(path: str, monitor_interval: str) -> str:
    """The control table: one published template version per file (one JSON line: version + document).

    It must never move the data's event time. Its rowtime is the epoch and it goes idle after the idle
    timeout, so it is left out of the operators' watermark minimum; a stream that *finished* (or sat at the far
    future) would instead release the watermark to the maximum whenever every data source is idle, and all
    later lines would be late (measured: a restored job read its next batch as 114 late events).
    """
    options = filesystem_options(path, monitor_interval)
    with_clause = ", ".join(f"{quote(k)} = {quote(v)}" for k, v in options.items())
    return (f"CREATE TEMPORARY TABLE `template_updates` (line STRING, rt AS TO_TIMESTAMP_LTZ(0, 3), "
            f"WATERMARK FOR rt AS rt) WITH ({with_clause})")

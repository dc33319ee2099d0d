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


def source_ddl(table: str, source: dict, options: dict[str, str], out_of_orderness_ms: int) -> tuple[str, bool]:
    """CREATE TABLE for one template source; returns (ddl, has_sql_watermark)."""
    value = f"JSON_VALUE(line, {quote(json_path(source['time']['path']))})"
    ts = time_expression(value, source["time"]["format"], source["time"].get("tz"))
    with_clause = ", ".join(f"{quote(k)} = {quote(v)}" for k, v in options.items())
    columns = ["line STRING", "origin STRING NOT NULL METADATA FROM 'file.path' VIRTUAL"]
    if ts is not None:
        columns += [f"rt AS TO_TIMESTAMP_LTZ(COALESCE({ts}, 0), 3)", f"WATERMARK FOR rt AS rt - {day_to_second(out_of_orderness_ms)}"]
    return f"CREATE TEMPORARY TABLE `{table}` ({', '.join(columns)}) WITH ({with_clause})", ts is not None

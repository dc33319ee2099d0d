"""Pipeline wiring: sources → parse → watermarks → join-value routing → session correlation → sink.

    files per source (SQL filesystem table, raw lines + file path)
      └─ ParseLine (Python) ── rejected ─────────────────────────────────────────────┐
           └─ watermarks per source (bounded out-of-orderness)                        │
                └─ union ─┬─ baseline ─────────────── keyBy(session key) ─┐           │
                          └─ RouteInput → keyBy(join value)               │           │
                               RouteSupplements ── routed supplements ────┤           │
                                                                           CorrelateSessions
                                                                               └─ keyBy(partition) WriteBatches ← ┘
"""
from pyflink.common import Duration, Types, WatermarkStrategy
from pyflink.datastream import StreamExecutionEnvironment
from pyflink.table import StreamTableEnvironment

from .config import JobConfig
from .functions import REJECTED, CorrelateSessions, EventTime, ParseLine, RouteInput, RouteSupplements, WriteBatches, sink_partition

PICKLED = Types.PICKLED_BYTE_ARRAY()


def source_ddl(table: str, path: str, monitor_interval: str | None) -> str:
    """A filesystem table of raw lines with the file path; `monitor_interval` makes it continuous."""
    options = {"connector": "filesystem", "path": path, "format": "raw", "raw.charset": "UTF-8"}
    if monitor_interval:
        options["source.monitor-interval"] = monitor_interval
    with_clause = ", ".join(f"'{k}' = '{v.replace(chr(39), chr(39) * 2)}'" for k, v in options.items())
    return f"CREATE TEMPORARY TABLE `{table}` (line STRING, origin STRING NOT NULL METADATA FROM 'file.path' VIRTUAL) WITH ({with_clause})"


def build(env: StreamExecutionEnvironment, config: JobConfig) -> None:
    """Add the sessionize topology for one template to `env`."""
    tenv = StreamTableEnvironment.create(env)
    tpl = config.template
    ooo = Duration.of_millis(_ms(tpl["session"].get("out_of_orderness", "10s")))
    parsed_streams, rejected_streams = [], []
    for source in tpl["sources"]:
        # source
        table = f"src_{source['name']}"
        tenv.execute_sql(source_ddl(table, config.source_path(source["location"]), None if config.bounded else config.monitor_interval))
        lines = tenv.to_data_stream(tenv.from_path(table))
        parsed = lines.process(ParseLine(tpl, source["name"]), output_type=PICKLED).name(f"parse:{source['name']}")
        rejected_streams.append(parsed.get_side_output(REJECTED))
        # watermarks, per source so a slow source holds the watermark back instead of making others late.
        # No `with_idleness`: in PyFlink 2.3 it stalls the watermark at Long.MIN for good (measured); a quiet
        # source is covered by the processing-time timeout, which emits the sessions it holds back.
        strategy = WatermarkStrategy.for_bounded_out_of_orderness(ooo).with_timestamp_assigner(EventTime())
        parsed_streams.append(parsed.assign_timestamps_and_watermarks(strategy))

    events = parsed_streams[0].union(*parsed_streams[1:]) if len(parsed_streams) > 1 else parsed_streams[0]
    if config.extra.get("parse_only"):  # benchmark ceiling: sources + parsing + watermarks, nothing after
        events.filter(lambda e: False).print()
        return
    # supplements: keyed by join value
    routed = (
        events.flat_map(RouteInput(tpl), output_type=PICKLED).name("route-input")
        .key_by(lambda item: item[1], key_type=Types.STRING())
        .process(RouteSupplements(tpl), output_type=PICKLED).name("route-supplements")
    )
    # baseline: keyed by session key
    baseline = events.filter(lambda e: not e.supplement).map(lambda e: (e.session_key, e), output_type=PICKLED)
    outputs = (
        baseline.union(routed)
        .key_by(lambda item: item[0], key_type=Types.STRING())
        .process(CorrelateSessions(tpl), output_type=PICKLED).name("correlate-sessions")
    )
    # sink
    sink_input = outputs.union(*rejected_streams)
    (
        sink_input.key_by(sink_partition, key_type=Types.INT())
        .process(WriteBatches(config.template_id, config.database_url, config.flush_rows, config.flush_interval_ms), output_type=PICKLED)
        .name("write-sessions")
    )


def _ms(text: str) -> int:
    from .logic.durations import parse_duration_ms

    return parse_duration_ms(text)

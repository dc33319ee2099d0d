"""Pipeline wiring: sources → parse → watermarks → join-value routing → session correlation → sink.

    files per source (SQL filesystem table: raw line, file path, event time + WATERMARK in SQL)
      └─ ParseLine (Python) ── rejected ─────────────────────────────────────────────┐
           (watermarks per source, idle sources released after the template's timeout) │
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
from .sql_sources import filesystem_options, source_ddl
from .functions import REJECTED, CorrelateSessions, EventTime, ParseLine, RouteInput, RouteSupplements, WriteBatches, sink_partition

PICKLED = Types.PICKLED_BYTE_ARRAY()


def build(env: StreamExecutionEnvironment, config: JobConfig) -> None:
    """Add the sessionize topology for one template to `env`."""
    tenv = StreamTableEnvironment.create(env)
    tpl = config.template
    ooo_ms = _ms(tpl["session"].get("out_of_orderness", "10s"))
    tenv.get_config().set("table.local-time-zone", "UTC")
    # A source without new lines for the template's timeout stops holding the watermark back (SQL sources
    # handle idleness in Java; PyFlink's own `with_idleness` pins the watermark at Long.MIN, measured).
    tenv.get_config().set("table.exec.source.idle-timeout", f"{_ms(tpl['session'].get('timeout', '30s'))} ms")
    parsed_streams, rejected_streams = [], []
    for source in tpl["sources"]:
        # source, with event time and watermark computed in SQL when its time format is expressible there
        table = f"src_{source['name']}"
        options = filesystem_options(config.source_path(source["location"]), None if config.bounded else config.monitor_interval)
        ddl, sql_watermark = source_ddl(table, source, options, ooo_ms)
        tenv.execute_sql(ddl)
        lines = tenv.to_data_stream(tenv.from_path(table))  # keeps the rowtime: records carry their event time
        parsed = lines.process(ParseLine(tpl, source["name"]), output_type=PICKLED).name(f"parse:{source['name']}")
        rejected_streams.append(parsed.get_side_output(REJECTED))
        if not sql_watermark:  # a strftime pattern SQL cannot express: Python assigns, per source as well
            strategy = WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_millis(ooo_ms)).with_timestamp_assigner(EventTime())
            parsed = parsed.assign_timestamps_and_watermarks(strategy)
        parsed_streams.append(parsed)

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

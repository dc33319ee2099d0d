"""Pipeline wiring: sources → parse/route → join-value routing → session correlation → sink.

    one SQL table per source (filesystem or Kafka: raw line, origin, event time + WATERMARK in SQL)
      └─ UNION ALL (source, line, origin, rt) ─ ParseLine ── rejected ─────────────────────────────┐
           keyBy(join value, or session key when the event has none)                                │
             RouteSupplements: registers owners, passes baseline on, forwards supplements           │
               keyBy(session key) CorrelateSessions ─ emissions, late, orphans                      │
                 keyBy(partition) WriteBatches ←─────────────────────────────────────────────────────┘
    template_updates (published versions) ─ timeless ══ broadcast ══> ParseLine, RouteSupplements, CorrelateSessions

The control stream takes no part in event time (Wiring.timeless: idle from the start, its watermarks dropped):
with it in the watermark minimum the correlate stage's watermark lagged the data by more than the session
timeout, so sessions were written open by the timeout and closed only by the next batch.

A source whose strftime pattern SQL cannot express gets its own ParseLine and a Python timestamp assigner.
With `engine="jvm"` the two keyed stages are Java (jobs/sessionize/jvm: RouteFunction, SessionFunction, keyed in
Java), ParseRows hands them rows, RevisionBatches (Java) makes the sink's batches and keeps each session's newest
revision of a batch, and AssembleRevisions (Python, once per kept revision) builds the documents.
"""
import json
import os
import tempfile

from pyflink.common import Duration, Types, WatermarkStrategy
from pyflink.datastream import DataStream, KeyedStream, StreamExecutionEnvironment
from pyflink.java_gateway import get_gateway
from pyflink.table import StreamTableEnvironment
from pyflink.util.java_utils import to_jarray

from .config import JobConfig
from .functions import (PICKLED, REJECTED, SINK_BYTES, TEMPLATE_UPDATES, CorrelateSessions, EventTime, ParseLine,
                        RouteSupplements, SinkPartition, WriteBatches, sink_record)
from .jvm.functions import PARSED_ROW, SPEC_ROW, AssembleRevisions, ParseRows, RowEventTime, spec_update
from .jvm import ensure_jar, rules_spec
from .logic.durations import parse_duration_ms
from .logic.template import compile_template
from .sql_classify import address_spec, plan_source
from .sql_sources import filesystem_options, kafka_options, source_ddl, template_updates_ddl, union_query

UPDATE_TYPE = Types.TUPLE([Types.INT(), Types.STRING()])


HELD_WATERMARK_MS = 99 * 86_400_000  # the largest DAY TO SECOND interval of Flink SQL's default precision

def build(env: StreamExecutionEnvironment, config: JobConfig) -> None:
    """Add the sessionize topology for one template to `env`."""
    # Both engines: the control stream's Timeless is Java. Before the table environment: its class loader must see
    # the SQL function (the client's class loader now, the cluster's through pipeline.jars).
    env.add_jars(ensure_jar().as_uri())
    tenv = StreamTableEnvironment.create(env)
    tpl = config.template
    session = tpl["session"]
    ooo_ms = HELD_WATERMARK_MS if config.hold_watermark else parse_duration_ms(session.get("out_of_orderness", "10s"))
    tenv.get_config().set("table.local-time-zone", "UTC")
    # A source without new lines for the template's timeout stops holding the watermark back (SQL sources
    # handle idleness in Java; PyFlink's own `with_idleness` pins the watermark at Long.MIN, measured).
    tenv.get_config().set("table.exec.source.idle-timeout", f"{parse_duration_ms(session.get('timeout', '30s'))} ms")
    update_stream = template_updates(env, tenv, config)
    updates = update_stream.broadcast(TEMPLATE_UPDATES)

    sql_timed, python_timed = [], []
    for source in tpl["sources"]:
        ddl, has_sql_time = source_ddl(f"src_{source['name']}", source, source_options(config, source), ooo_ms)
        tenv.execute_sql(ddl)
        (sql_timed if has_sql_time else python_timed).append(source["name"])
    jvm = config.engine == "jvm"
    parse, parsed_type, event_time = (ParseRows, PARSED_ROW, RowEventTime) if jvm else (ParseLine, PICKLED, EventTime)
    parsed: list[DataStream] = []  # (routing key, kind, event) per parse operator, as a tuple or a row
    rejected: list[DataStream] = []
    # Classified in SQL, addressed in Java; Python parses only the lines SQL left open (bounded and continuous runs).
    # extra["parse"] = "python": every line through the Python parser (the benchmarks' comparison).
    if jvm and sql_timed and config.extra.get("parse") != "python":
        addressed, open_rows, sql_timed = classify_in_sql(tenv, config, sql_timed)
        if addressed is not None:
            parsed.append(addressed)
            stream = open_rows.connect(updates).process(parse(tpl, config.version), output_type=parsed_type).name("parse-open-rows")
            parsed.append(stream)
            rejected.append(stream.get_side_output(REJECTED))
    if sql_timed:  # rows keep their rowtime: records carry event time and the union's watermark
        rows = tenv.to_data_stream(tenv.sql_query(union_query(sql_timed)))
        stream = rows.connect(updates).process(parse(tpl, config.version), output_type=parsed_type).name("parse")
        parsed.append(stream)
        rejected.append(stream.get_side_output(REJECTED))
    for name in python_timed:  # a strftime pattern SQL cannot express: Python assigns, per source
        rows = tenv.to_data_stream(tenv.from_path(f"src_{name}"))
        stream = rows.connect(updates).process(parse(tpl, config.version, name), output_type=parsed_type).name(f"parse:{name}")
        strategy = WatermarkStrategy.for_bounded_out_of_orderness(Duration.of_millis(ooo_ms)).with_timestamp_assigner(event_time())
        parsed.append(stream.assign_timestamps_and_watermarks(strategy))
        rejected.append(stream.get_side_output(REJECTED))

    if config.extra.get("parse_only"):  # benchmark ceiling: sources + parsing + watermarks, nothing after
        if jvm:
            get_gateway().jvm.luna.sessionize.Wiring.discard(java_union(parsed)._j_data_stream)
        else:
            union(parsed).filter(lambda item: False).print()
        return
    outputs = correlate_in_jvm(env, java_union(parsed), update_stream, updates, config) if jvm else correlate_in_python(union(parsed), updates, config)
    partition = SinkPartition(config.parallelism)
    if jvm:  # the sink's records as SINK_BYTES: the dead letters of the Python parsers too (few)
        rejected = [stream.map(sink_record, output_type=SINK_BYTES).name("dead-letters") for stream in rejected]
    records = outputs.union(*rejected)
    (
        (sink_keyed(records, config.parallelism) if jvm else records.key_by(partition, key_type=Types.INT()))
        .process(WriteBatches(config.template_id, config.database_url, config.flush_rows, config.flush_interval_ms, config.bounded,
                              partition), output_type=PICKLED)
        .name("write-sessions")
    )


def sink_keyed(records: DataStream, partitions: int) -> KeyedStream:
    """SINK_BYTES keyed by the partition their first 2 bytes carry, in Java: PyFlink's key_by would run a Python
    map operator for it (≈ 3 % of the job's CPU at 20k orders, in the interpreter the Python operators share)."""
    gateway = get_gateway()
    with_key = gateway.jvm.luna.sessionize.Wiring.sinkKeys(records._j_data_stream, partitions)
    return KeyedStream(with_key.keyBy(gateway.jvm.KeyByKeySelector(), Types.ROW([Types.INT()]).get_java_type_info()),
                       SINK_BYTES, records)


def correlate_in_python(events: DataStream, updates, config: JobConfig) -> DataStream:
    tpl = config.template
    routed = (
        events.key_by(lambda item: item[0], key_type=Types.STRING()).connect(updates)
        .process(RouteSupplements(tpl, config.version), output_type=PICKLED).name("route-by-join-value")
    )
    return (
        routed.key_by(lambda item: item[0], key_type=Types.STRING()).connect(updates)
        .process(CorrelateSessions(tpl, config.version, timeouts=not config.hold_watermark), output_type=PICKLED)
        .name("correlate-sessions")
    )


def correlate_in_jvm(env: StreamExecutionEnvironment, events: DataStream, update_stream: DataStream, updates,
                     config: JobConfig) -> DataStream:
    """Join-value and session stages in Java (keyed there too: no Python key selector), then Python once per
    revision for the document. Published versions reach the Java stages as rules specs (their own broadcast)."""
    compiled = compile_template(config.template, config.version)
    specs = update_stream.map(spec_update, output_type=SPEC_ROW).name("rules-updates")
    wiring = get_gateway().jvm.luna.sessionize.Wiring
    revisions = wiring.correlate(events._j_data_stream, specs._j_data_stream, rules_spec(compiled), not config.hold_watermark)
    # the sink's batches are made here, before assembly: a revision the sink would fold is never assembled
    rows_per_batch, interval_ms = batching(config)
    rows = DataStream(wiring.batches(revisions, config.parallelism, rows_per_batch, interval_ms, config.bounded))
    return rows.connect(updates).process(AssembleRevisions(config.template, config.version, SinkPartition(config.parallelism)), output_type=SINK_BYTES).name("assemble-revisions")


BACKFILL_BATCH_ROWS, BACKFILL_BATCH_MS = 5000, 5000


def batching(config: JobConfig) -> tuple[int, int]:
    """RevisionBatches' size and interval: the sink's flush settings, or for a backfill (nobody waits for its rows)
    at least 5000 rows and 5 s, so that more of a session's revisions fold into one: at 1 M events a 500 ms batch
    held ≈ 250 rows and 1.67 revisions a session were written (1.0 at 20k orders, where batches fill up)."""
    if not config.bounded:
        return config.flush_rows, config.flush_interval_ms
    return max(config.flush_rows, BACKFILL_BATCH_ROWS), max(config.flush_interval_ms, BACKFILL_BATCH_MS)


def source_options(config: JobConfig, source: dict) -> dict[str, str]:
    """Kafka when the platform configured it (the topic is the source's `topic`, else its name), else files."""
    if config.kafka:
        return kafka_options(source.get("topic") or source["name"], config.kafka, config.bounded)
    return filesystem_options(config.source_path(source["location"]), None if config.bounded else config.monitor_interval)


def template_updates(env: StreamExecutionEnvironment, tenv: StreamTableEnvironment, config: JobConfig) -> DataStream:
    """Published template versions as (version, document JSON), read from the run's updates directory.

    A bounded run keeps its version: one no-op element from a collection that finishes at once. A continuous run
    must not use a finished input (see template_updates_ddl), so it always gets the control table, on a private
    directory when the platform gave none. Either way the stream is `timeless`: its consumers' watermark is the
    data's alone (measured: with the control source in the minimum, the correlate stage's watermark stayed at
    Long.MIN for many seconds after the data's had advanced)."""
    if config.bounded:
        return timeless(env.from_collection([(0, "")], type_info=UPDATE_TYPE))
    updates_dir = config.updates_dir or tempfile.mkdtemp(prefix="luna-updates-")
    if "://" not in updates_dir:
        os.makedirs(updates_dir, exist_ok=True)
    tenv.execute_sql(template_updates_ddl(updates_dir, config.monitor_interval))
    lines = tenv.to_data_stream(tenv.sql_query("SELECT line FROM template_updates"))
    return timeless(lines.map(parse_update, output_type=UPDATE_TYPE).name("template-updates"))


def timeless(control: DataStream) -> DataStream:
    """The control stream without event time: its consumers take their watermark from the data alone."""
    return DataStream(get_gateway().jvm.luna.sessionize.Wiring.timeless(control._j_data_stream))


def parse_update(row) -> tuple[int, str]:
    try:
        update = json.loads(row[0])
        return int(update["version"]), json.dumps(update["document"])
    except (ValueError, KeyError, TypeError):  # not a published version: ignored (version 0 never applies)
        return 0, ""


def classify_in_sql(tenv: StreamTableEnvironment, config: JobConfig,
                    sql_timed: list[str]) -> tuple[DataStream | None, DataStream | None, list[str]]:
    """The SQL-timed sources SQL can classify → the addressed events (Java) and the rows SQL left open (for the
    Python parser), with the sources left wholly to the Python parser."""
    template = compile_template(config.template, config.version)
    plans = [plan for name in sql_timed if (plan := plan_source(template, template.sources[name], f"src_{name}"))]
    if not plans:
        return None, None, sql_timed
    tenv.create_java_temporary_system_function("luna_record", "luna.sessionize.RecordTokens")
    rows = tenv.to_data_stream(tenv.sql_query("\nUNION ALL\n".join(plan.query for plan in plans)))
    wiring, spec = get_gateway().jvm.luna.sessionize.Wiring, address_spec(template, plans)
    planned = {plan.source for plan in plans}
    return (DataStream(wiring.address(rows._j_data_stream, spec)), DataStream(wiring.open(rows._j_data_stream, spec)),
            [name for name in sql_timed if name not in planned])


def java_union(streams: list[DataStream]) -> DataStream:
    """Python's and Java's rows for the JVM stages in one stream (their type infos differ in class, not shape)."""
    return DataStream(get_gateway().jvm.luna.sessionize.Wiring.union(to_jarray(
        get_gateway().jvm.org.apache.flink.streaming.api.datastream.DataStream, [s._j_data_stream for s in streams])))


def union(streams: list[DataStream]) -> DataStream:
    return streams[0].union(*streams[1:]) if len(streams) > 1 else streams[0]

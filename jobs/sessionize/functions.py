"""Flink function classes: thin adapters that hold state and timers and delegate to the pure logic."""
import json
import logging
import pickle
import time
import zlib
from typing import Any, Iterable

from pyflink.common import Row
from pyflink.common.time import Time
from pyflink.common.typeinfo import Types
from pyflink.common.watermark_strategy import TimestampAssigner
from pyflink.datastream import (BroadcastProcessFunction, KeyedBroadcastProcessFunction, KeyedProcessFunction, OutputTag,
                                RuntimeContext, TimeDomain)
from pyflink.datastream.state import ListStateDescriptor, MapStateDescriptor, StateTtlConfig, ValueStateDescriptor

from .logic.errors import job_error
from .logic.records import Event, Rejection, parse_line
from .logic.router import JoinKeyState, routing_key
from .logic.sessions import Emission, Late, SessionKeyState
from .logic.template import CompiledTemplate, TemplateError, compile_template
from .profiling import OperatorProfile

log = logging.getLogger("luna.sessionize")

PICKLED = Types.PICKLED_BYTE_ARRAY()
# What reaches the sink from the JVM design: each record pickled once, by the operator that makes it. As PICKLED it
# was unpickled and pickled again by every hop (key selector, WriteBatches' input, its buffer state): ≈ 350 µs an
# emission, profiled; as bytes the hops copy them and WriteBatches unpickles once, when it writes.
SINK_BYTES = Types.PRIMITIVE_ARRAY(Types.BYTE())
REJECTED = OutputTag("rejected", PICKLED)
SUPPLEMENT, BASELINE, OWNER, PASS = "supplement", "baseline", "owner", "pass"  # what ParseLine addresses
# The template versions published to a running job (rollout.py says which saves qualify), as broadcast state:
# a version that arrived before a checkpoint is back after a restore, although the control file is not re-read.
TEMPLATE_UPDATES = MapStateDescriptor("template-updates", Types.STRING(), PICKLED)
CURRENT = "current"
TIMEOUT_GRANULARITY_MS = 1000


class FollowsTemplate:
    """Holds the compiled template of one version and swaps in a newer one from the broadcast control stream."""

    def init_template(self, document: dict[str, Any], version: int) -> None:
        self.document, self.version = document, version

    def open_template(self) -> None:
        self.template: CompiledTemplate = compile_template(self.document, self.version)
        self.synced = False

    def template_for(self, ctx: Any) -> CompiledTemplate:
        """The newest version: after a restore the broadcast state may hold one newer than the config's."""
        if not self.synced:
            self.synced = True
            stored = ctx.get_broadcast_state(TEMPLATE_UPDATES).get(CURRENT)
            if stored is not None:
                self._apply(*stored)
        return self.template

    def process_broadcast_element(self, value: tuple[int, str], ctx: Any) -> Iterable:
        version, text = value
        if version > self.version and self._apply(version, text):
            ctx.get_broadcast_state(TEMPLATE_UPDATES).put(CURRENT, (version, text))
        return []

    def _apply(self, version: int, text: str) -> bool:
        if version <= self.version:
            return False
        try:
            document = json.loads(text)
            compiled = compile_template(document, version)
        except (ValueError, TemplateError) as exc:  # the platform validates before publishing; keep running
            log.error("template update v%s ignored: %s", version, exc)
            return False
        self.document, self.version, self.template = document, version, compiled
        log.info("template %s now at v%s", compiled.name, version)
        return True


class ParseLine(FollowsTemplate, BroadcastProcessFunction):
    """(source, raw line, file path) → Event, addressed for the join-value stage: (routing key, kind, event).

    Supplements go to their join value; a baseline event goes to its (first) join value, where it registers as
    the value's owner and passes on to its session, or straight through keyed by its session key when it has
    none. One output, no side output for routing: a PyFlink side output costs ~150 µs a record (profiled),
    ten times a main-output record. Bad lines go to REJECTED with their reason (rare)."""

    def __init__(self, template: dict[str, Any], version: int, source: str | None = None):
        self.init_template(template, version)
        self.source = source  # None: the row's first column names the source (the SQL union of sources)

    def open(self, runtime_context: RuntimeContext) -> None:
        self.open_template()

    def process_element(self, value: Row, ctx: Any) -> Iterable:
        try:
            yield from self._address(value, ctx)
        except Exception as exc:  # a record no parser path foresaw: a dead letter, never a failed job
            row = (value[0], value[1], value[2]) if self.source is None else (self.source, value[0], value[1])
            yield REJECTED, job_error(row, exc, "ParseLine")

    def _address(self, value: Row, ctx: Any) -> Iterable:
        template = self.template_for(ctx)
        source, line, origin = (value[0], value[1], value[2]) if self.source is None else (self.source, value[0], value[1])
        parsed = parse_line(template, source, line, origin or "")
        if isinstance(parsed, Rejection):
            yield REJECTED, parsed
        elif isinstance(parsed, Event):
            if parsed.supplement:
                yield routing_key(template.nodes[parsed.node].join.on, parsed.join_key), SUPPLEMENT, parsed
            elif not parsed.joins:
                yield parsed.session_key, PASS, parsed
            else:
                joins = iter(parsed.joins.items())
                yield routing_key(*next(joins)), BASELINE, parsed
                for join_field, join_value in joins:  # a second join field: register the owner there too
                    yield routing_key(join_field, join_value), OWNER, (parsed.session_key, parsed.ts)
        # Ignored: a valid record no node uses (counted by the preview, not stored)


class EventTime(TimestampAssigner):
    """Event time of a parsed record (Python-timed sources only)."""

    def extract_timestamp(self, value: Any, record_timestamp: int) -> int:
        item = value[-1]
        return item.ts if isinstance(item, Event) else item[1]


def lifecycle_ttl_ms(template: CompiledTemplate) -> int:
    """State TTL, the lifecycle bound of a key: twice the longest event-time life a key can need (gap + allowed
    lateness + join reach), at least an hour, in processing time. Event-time timers purge state on time; the
    TTL reclaims what they cannot (a watermark that stalls for good, e.g. a source that is never read again)."""
    return max(2 * (template.gap_ms + template.lateness_ms + max(template.max_join_reach_ms, template.join_hold_ms)), 3_600_000)


class _PickledState:
    """One ValueState per key holding (logic state, armed event-time timer, armed timeout) pickled together.

    Every call into Flink's state or timer service costs 20–40 µs from embedded Python (profiled), more than the
    logic itself: one read and one write per record, timers registered only when they move (a moved event
    timer is deleted, not left to fire and re-pickle the state for nothing), processing time from Python's
    clock (the same wall clock Flink's processing time reads)."""

    def open_state(self, runtime_context: RuntimeContext, name: str, template: CompiledTemplate) -> None:
        descriptor = ValueStateDescriptor(name, PICKLED)
        # Explicit incremental cleanup: PyFlink's default background strategies build a java Duration through a
        # py4j gateway, which a TaskManager does not have (the job failed on the standalone cluster, measured).
        ttl = (StateTtlConfig.new_builder(Time.milliseconds(lifecycle_ttl_ms(template)))
               .disable_cleanup_in_background().cleanup_incrementally(5, False).build())
        descriptor.enable_time_to_live(ttl)
        self.state = runtime_context.get_state(descriptor)

    def load(self) -> tuple[Any, int | None, int | None]:
        return self.state.value() or (None, None, None)

    def store(self, ctx: Any, state: Any, event_timer: int | None, armed: int | None,
              timeout: int | None = None, armed_timeout: int | None = None) -> None:
        """Keep the state and move its timers, or forget the key (and its pending event timer)."""
        timers = ctx.timer_service()
        forget = state.is_empty()
        if forget:
            event_timer = None
        if event_timer != armed:
            if armed is not None:
                timers.delete_event_time_timer(armed)
            if event_timer is not None:
                timers.register_event_time_timer(event_timer)
        if forget:
            self.state.clear()
            return
        if timeout is not None and timeout != armed_timeout:  # the quiet period restarts: one timeout pending
            if armed_timeout is not None:
                timers.delete_processing_time_timer(armed_timeout)
            timers.register_processing_time_timer(timeout)
        else:
            timeout = armed_timeout
        self.state.update((state, event_timer, timeout))


class RouteSupplements(FollowsTemplate, _PickledState, KeyedBroadcastProcessFunction):
    """Keyed by join value (e.g. trans_id): registers baseline events as the value's owners and passes them on,
    forwards supplements to the session keys that own their value; baseline events without a join value pass."""

    def __init__(self, template: dict[str, Any], version: int):
        self.init_template(template, version)

    def open(self, runtime_context: RuntimeContext) -> None:
        self.open_template()
        self.open_state(runtime_context, "join-key", self.template)

    def process_element(self, value: tuple, ctx: Any) -> Iterable:
        try:
            yield from self._route(value, ctx)
        except Exception as exc:  # passes through the session stage to the sink as a dead letter
            yield "", job_error(value[2], exc, "RouteSupplements")

    def _route(self, value: tuple, ctx: Any) -> Iterable:
        _, kind, payload = value
        if kind == PASS:
            yield payload.session_key, payload
            return
        template = self.template_for(ctx)
        state, armed, _ = self.load()
        state = state or JoinKeyState()
        if kind == SUPPLEMENT:
            routed = state.on_supplement(template, payload, ctx.timer_service().current_watermark())
        elif kind == BASELINE:
            yield payload.session_key, payload
            routed = state.on_baseline(payload.session_key, payload.ts)
        else:
            routed = state.on_baseline(*payload)
        for item in routed:
            yield ("", item) if isinstance(item, Late) else (item.session_key, item.event)
        self.store(ctx, state, state.next_timer(template), armed)

    def on_timer(self, timestamp: int, ctx: Any) -> Iterable:
        try:
            yield from self._expire(timestamp, ctx)
        except Exception as exc:
            yield "", job_error({"join_key": ctx.get_current_key(), "timer": timestamp}, exc, "RouteSupplements.on_timer")

    def _expire(self, timestamp: int, ctx: Any) -> Iterable:
        template = self.template_for(ctx)
        state, armed, _ = self.load()
        if state is None:
            return
        for orphan in state.expire(template, ctx.timer_service().current_watermark()):
            yield "", orphan
        self.store(ctx, state, state.next_timer(template), None if armed == timestamp else armed)


class CorrelateSessions(FollowsTemplate, _PickledState, KeyedBroadcastProcessFunction):
    """Keyed by session key: the SessionKeyState machine, event-time timers for close/purge, a processing-
    time timer for the quiet-source timeout. Emits Emission / Late / Orphan objects for the sink. `timeouts` is off
    for a backfill that holds event time until its end (provisional emissions would only be rewritten)."""

    def __init__(self, template: dict[str, Any], version: int, timeouts: bool = True):
        self.init_template(template, version)
        self.timeouts = timeouts

    def open(self, runtime_context: RuntimeContext) -> None:
        self.open_template()
        self.open_state(runtime_context, "session-key", self.template)

    def process_element(self, value: tuple, ctx: Any) -> Iterable:
        try:
            yield from self._correlate(value, ctx)
        except Exception as exc:  # the event becomes a dead letter; the key's state is left as it was
            yield job_error(value[1], exc, "CorrelateSessions")

    def _correlate(self, value: tuple, ctx: Any) -> Iterable:
        session_key, event = value
        if not session_key:  # an orphan, late supplement or job error reported by the router passes straight through
            yield event
            return
        template = self.template_for(ctx)
        state, armed, armed_timeout = self.load()
        state = state or SessionKeyState(session_key)
        yield from state.add(template, event, ctx.timer_service().current_watermark())
        now = int(time.time() * 1000)
        timeout = (now + template.timeout_ms) // TIMEOUT_GRANULARITY_MS * TIMEOUT_GRANULARITY_MS + TIMEOUT_GRANULARITY_MS
        if not self.timeouts:
            timeout = None
        self.store(ctx, state, state.next_event_timer(template), armed, timeout, armed_timeout)

    def on_timer(self, timestamp: int, ctx: Any) -> Iterable:
        try:
            yield from list(self._fire(timestamp, ctx))  # all or nothing: a failure emits no half of the key's work
        except Exception as exc:
            yield job_error({"session_key": ctx.get_current_key(), "timer": timestamp}, exc, "CorrelateSessions.on_timer")

    def _fire(self, timestamp: int, ctx: Any) -> Iterable:
        template = self.template_for(ctx)
        state, armed, armed_timeout = self.load()
        if state is None:
            return
        watermark = ctx.timer_service().current_watermark()
        if ctx.time_domain() == TimeDomain.PROCESSING_TIME:
            yield from state.on_timeout(template, watermark)
            armed_timeout = None if armed_timeout == timestamp else armed_timeout
        else:
            yield from state.on_watermark(template, watermark)
            armed = None if armed == timestamp else armed
        self.store(ctx, state, state.next_event_timer(template), armed, None, armed_timeout)


class WriteBatches(KeyedProcessFunction):
    """Buffers sink records in keyed ListState and writes them in batches: on size, on a short processing-time
    timer, and (bounded runs) at the end of input through an event-time timer at the final watermark; in the JVM
    design also on each end-of-batch record, since the batch was made before assembly (RevisionBatches.java).

    The buffer is Flink state, so a checkpoint taken while records wait here carries them: after a restore the
    restored timers write them. A batch written after the checkpoint is written again on replay, and the sink's
    revision guard makes that re-write change nothing (effectively exactly-once).
    """

    END_OF_INPUT = 2**63 - 2  # fires when a bounded job's final watermark (Long.MAX) arrives

    def __init__(self, template_id: int, database_url: str, flush_rows: int, flush_interval_ms: int, bounded: bool = False,
                 partition: "SinkPartition | None" = None):
        self.template_id, self.database_url = template_id, database_url
        self.flush_rows, self.flush_interval_ms, self.bounded = flush_rows, flush_interval_ms, bounded
        self.partition = partition or SinkPartition(1)  # the key, computed here: ctx.get_current_key() costs ~26 µs

    def open(self, runtime_context: RuntimeContext) -> None:
        from .sink.dialects import connect
        from .sink.writer import SessionWriter

        dialect, factory = connect(self.database_url)
        self.writer = SessionWriter(self.template_id, dialect, factory)
        self.buffer = runtime_context.get_list_state(ListStateDescriptor("sink-buffer", PICKLED))
        self.pending: dict[int, int] = {}  # rows buffered per partition since its last flush (a hint, not state)
        self.profile = OperatorProfile("write-sessions")
        self.profile.start()

    def process_element(self, value: Any, ctx: KeyedProcessFunction.Context) -> Iterable:
        partition = self.partition(value)
        if isinstance(value, (bytes, bytearray)) and len(value) == END_OF_BATCH_BYTES:  # its batch is complete: write
            self.flush(partition)
            return []
        self.buffer.add(value)  # a sink record, or its pickled bytes (SINK_BYTES): both are kept as they came
        count = self.pending.get(partition, 0) + 1
        if count >= self.flush_rows:
            self.flush(partition)
            return []
        self.pending[partition] = count
        if count == 1:
            timers = ctx.timer_service()
            timers.register_processing_time_timer(timers.current_processing_time() + self.flush_interval_ms)
            if self.bounded:
                timers.register_event_time_timer(self.END_OF_INPUT)
        return []

    def on_timer(self, timestamp: int, ctx: KeyedProcessFunction.OnTimerContext) -> Iterable:
        self.flush(ctx.get_current_key())  # once per batch
        return []

    def flush(self, partition: int) -> None:
        batch = [sink_item(value) for value in self.buffer.get() or []]
        self.pending.pop(partition, None)
        if batch:
            self.writer.write(batch)
            self.buffer.clear()

    def close(self) -> None:
        if getattr(self, "writer", None) is not None:
            self.writer.close()
        if getattr(self, "profile", None) is not None:
            self.profile.stop()


class SinkPartition:
    """Spreads sink records over `partitions` keys (one per sink subtask) by session key: every row of one key
    reaches the same writer in emission order, which the writer's fragment clean-up relies on; one key per
    subtask keeps each buffer large enough to batch well (64 keys at p=1 made batches of 7 rows, profiled)."""

    def __init__(self, partitions: int):
        self.partitions = max(1, partitions)

    def __call__(self, value: Any) -> int:
        if self.partitions == 1:
            return 0
        if isinstance(value, (bytes, bytearray)):  # SINK_BYTES carry the partition their maker computed
            return int.from_bytes(value[:2], "big") % self.partitions
        return self.of(value)

    def of(self, value: Any) -> int:
        if isinstance(value, Emission):
            return zlib.crc32(value.document["session_key"].encode()) % self.partitions
        if isinstance(value, Late):
            return zlib.crc32(value.event.uid.encode()) % self.partitions
        return 0


def sink_record(item: Any, partition: SinkPartition | None = None) -> bytes:
    """A sink record as SINK_BYTES: its sink partition (2 bytes), then the pickle. The maker, which holds the
    object, computes the partition; the key selector then reads two bytes instead of unpickling the record."""
    number = partition.of(item) if partition is not None and partition.partitions > 1 else 0
    return number.to_bytes(2, "big") + pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)


END_OF_BATCH_BYTES = 2  # a sink record of its partition alone: the batch before it is complete (RevisionBatches.java)


def end_of_batch(partition: int) -> bytes:
    """What tells WriteBatches to write its partition's batch now: the batch was made (and its revisions folded) in
    Java before assembly, so waiting for the sink's own timer would only add latency."""
    return partition.to_bytes(END_OF_BATCH_BYTES, "big")


def sink_item(value: Any) -> Any:
    """The sink record of SINK_BYTES (records that came as objects pass unchanged)."""
    return pickle.loads(memoryview(value)[2:]) if isinstance(value, (bytes, bytearray)) else value

"""Flink function classes: thin adapters that hold state and timers and delegate to the pure logic."""
import json
import logging
from typing import Any, Iterable

from pyflink.common import Row
from pyflink.common.typeinfo import Types
from pyflink.common.watermark_strategy import TimestampAssigner
from pyflink.datastream import (BroadcastProcessFunction, KeyedBroadcastProcessFunction, KeyedProcessFunction, OutputTag,
                                RuntimeContext, TimeDomain)
from pyflink.datastream.state import ListStateDescriptor, MapStateDescriptor, ValueStateDescriptor

from .logic.records import Event, Rejection, parse_line
from .logic.router import JoinKeyState, routing_key
from .logic.sessions import Emission, Late, SessionKeyState
from .logic.template import CompiledTemplate, TemplateError, compile_template

log = logging.getLogger("luna.sessionize")

PICKLED = Types.PICKLED_BYTE_ARRAY()
REJECTED = OutputTag("rejected", PICKLED)
ROUTE = OutputTag("route", PICKLED)  # supplements and join-value registrations, for the join-value stage
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
        self.template: CompiledTemplate = compile_template(self.document)
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
            compiled = compile_template(document)
        except (ValueError, TemplateError) as exc:  # the platform validates before publishing; keep running
            log.error("template update v%s ignored: %s", version, exc)
            return False
        self.document, self.version, self.template = document, version, compiled
        log.info("template %s now at v%s", compiled.name, version)
        return True


class ParseLine(FollowsTemplate, BroadcastProcessFunction):
    """(source, raw line, file path) → Event, routed: baseline events on the main output keyed for the session
    stage, supplements and join-value registrations on ROUTE, bad lines on REJECTED with their reason.
    One Python operator does all three, so a record crosses from Java to Python once here."""

    def __init__(self, template: dict[str, Any], version: int, source: str | None = None):
        self.init_template(template, version)
        self.source = source  # None: the row's first column names the source (the SQL union of sources)

    def open(self, runtime_context: RuntimeContext) -> None:
        self.open_template()

    def process_element(self, value: Row, ctx: Any) -> Iterable:
        template = self.template_for(ctx)
        source, line, origin = (value[0], value[1], value[2]) if self.source is None else (self.source, value[0], value[1])
        parsed = parse_line(template, source, line, origin or "")
        if isinstance(parsed, Rejection):
            yield REJECTED, parsed
        elif isinstance(parsed, Event):
            if parsed.supplement:
                yield ROUTE, ("supplement", routing_key(template.nodes[parsed.node].join.on, parsed.join_key), parsed)
                return
            yield parsed.session_key, parsed
            for join_field, join_value in parsed.joins.items():
                yield ROUTE, ("owner", routing_key(join_field, join_value), (parsed.session_key, parsed.ts))
        # Ignored: a valid record no node uses (counted by the preview, not stored)


class EventTime(TimestampAssigner):
    """Event time of a parsed record in any of ParseLine's output shapes (Python-timed sources only)."""

    def extract_timestamp(self, value: Any, record_timestamp: int) -> int:
        item = value[-1]
        return item.ts if isinstance(item, Event) else item[1]


class _PickledState:
    """A ValueState holding one pickled Python object per key, cleared when the object is empty."""

    def open_state(self, runtime_context: RuntimeContext, name: str) -> None:
        self.state = runtime_context.get_state(ValueStateDescriptor(name, PICKLED))

    def store(self, state: Any, ctx: Any, next_timer: int | None) -> bool:
        """Keep (and arm the next event-time timer) or forget; False when the key's state was cleared."""
        if state.is_empty():
            self.state.clear()
            return False
        self.state.update(state)
        if next_timer is not None:
            ctx.timer_service().register_event_time_timer(next_timer)
        return True


class RouteSupplements(FollowsTemplate, _PickledState, KeyedBroadcastProcessFunction):
    """Keyed by join value (e.g. trans_id): forwards supplements to the session keys that own the value."""

    def __init__(self, template: dict[str, Any], version: int):
        self.init_template(template, version)

    def open(self, runtime_context: RuntimeContext) -> None:
        self.open_template()
        self.open_state(runtime_context, "join-key")

    def process_element(self, value: tuple, ctx: Any) -> Iterable:
        template = self.template_for(ctx)
        state: JoinKeyState = self.state.value() or JoinKeyState()
        kind, _, payload = value
        watermark = ctx.timer_service().current_watermark()
        routed = state.on_supplement(template, payload, watermark) if kind == "supplement" else state.on_baseline(*payload)
        for item in routed:
            yield ("", item) if isinstance(item, Late) else (item.session_key, item.event)
        self.store(state, ctx, None if state.is_empty() else state.next_timer(template))

    def on_timer(self, timestamp: int, ctx: Any) -> Iterable:
        template = self.template_for(ctx)
        state: JoinKeyState = self.state.value()
        if state is None:
            return
        for orphan in state.expire(template, ctx.timer_service().current_watermark()):
            yield "", orphan
        self.store(state, ctx, None if state.is_empty() else state.next_timer(template))


class CorrelateSessions(FollowsTemplate, _PickledState, KeyedBroadcastProcessFunction):
    """Keyed by session key: the SessionKeyState machine, event-time timers for close/purge, a processing-
    time timer for the quiet-source timeout. Emits Emission / Late / Orphan objects for the sink."""

    def __init__(self, template: dict[str, Any], version: int):
        self.init_template(template, version)

    def open(self, runtime_context: RuntimeContext) -> None:
        self.open_template()
        self.open_state(runtime_context, "session-key")

    def process_element(self, value: tuple, ctx: Any) -> Iterable:
        session_key, event = value
        if not session_key:  # an orphan or late supplement reported by the router passes straight through
            yield event
            return
        template = self.template_for(ctx)
        state: SessionKeyState = self.state.value() or SessionKeyState(session_key)
        yield from state.add(template, event, ctx.timer_service().current_watermark())
        self._save(template, state, ctx, arm_timeout=True)

    def on_timer(self, timestamp: int, ctx: Any) -> Iterable:
        template = self.template_for(ctx)
        state: SessionKeyState = self.state.value()
        if state is None:
            return
        watermark = ctx.timer_service().current_watermark()
        if ctx.time_domain() == TimeDomain.PROCESSING_TIME:
            yield from state.on_timeout(template, watermark)
        else:
            yield from state.on_watermark(template, watermark)
        self._save(template, state, ctx, arm_timeout=False)

    def _save(self, template: CompiledTemplate, state: SessionKeyState, ctx: Any, arm_timeout: bool) -> None:
        kept = self.store(state, ctx, None if state.is_empty() else state.next_event_timer(template))
        if kept and arm_timeout:
            now = ctx.timer_service().current_processing_time()
            at = (now + template.timeout_ms) // TIMEOUT_GRANULARITY_MS * TIMEOUT_GRANULARITY_MS + TIMEOUT_GRANULARITY_MS
            ctx.timer_service().register_processing_time_timer(at)


class WriteBatches(KeyedProcessFunction):
    """Buffers sink records in keyed ListState and writes them in batches: on size, on a short processing-time
    timer, and (bounded runs) at the end of input through an event-time timer at the final watermark.

    The buffer is Flink state, so a checkpoint taken while records wait here carries them: after a restore the
    restored timers write them. A batch written after the checkpoint is written again on replay, and the sink's
    revision guard makes that re-write change nothing (effectively exactly-once).
    """

    END_OF_INPUT = 2**63 - 2  # fires when a bounded job's final watermark (Long.MAX) arrives

    def __init__(self, template_id: int, database_url: str, flush_rows: int, flush_interval_ms: int, bounded: bool = False):
        self.template_id, self.database_url = template_id, database_url
        self.flush_rows, self.flush_interval_ms, self.bounded = flush_rows, flush_interval_ms, bounded

    def open(self, runtime_context: RuntimeContext) -> None:
        from .sink.dialects import connect
        from .sink.writer import SessionWriter

        dialect, factory = connect(self.database_url)
        self.writer = SessionWriter(self.template_id, dialect, factory)
        self.buffer = runtime_context.get_list_state(ListStateDescriptor("sink-buffer", PICKLED))
        self.pending: dict[int, int] = {}  # rows buffered per partition since its last flush (a hint, not state)

    def process_element(self, value: Any, ctx: KeyedProcessFunction.Context) -> Iterable:
        self.buffer.add(value)
        partition = ctx.get_current_key()
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
        self.flush(ctx.get_current_key())
        return []

    def flush(self, partition: int) -> None:
        batch = list(self.buffer.get() or [])
        self.pending.pop(partition, None)
        if batch:
            self.writer.write(batch)
            self.buffer.clear()

    def close(self) -> None:
        if getattr(self, "writer", None) is not None:
            self.writer.close()


def sink_partition(value: Any) -> int:
    """Spread sink records; one session's revisions always go to the same writer (ordering)."""
    if isinstance(value, Emission):
        return value.document["uid"] % 64
    if isinstance(value, Late):
        return int(value.event.uid[:8], 16) % 64
    return 0


"""Flink function classes: thin adapters that hold state and timers and delegate to the pure logic."""
from typing import Any, Iterable

from pyflink.common import Row
from pyflink.common.typeinfo import Types
from pyflink.common.watermark_strategy import TimestampAssigner
from pyflink.datastream import FlatMapFunction, KeyedProcessFunction, OutputTag, ProcessFunction, RuntimeContext, TimeDomain
from pyflink.datastream.state import ValueStateDescriptor

from .logic.records import Event, Rejection, parse_line
from .logic.router import JoinKeyState, routing_key
from .logic.sessions import Emission, Late, SessionKeyState
from .logic.template import CompiledTemplate, compile_template

REJECTED = OutputTag("rejected", Types.PICKLED_BYTE_ARRAY())
TIMEOUT_GRANULARITY_MS = 1000


class ParseLine(ProcessFunction):
    """Raw line (+ file path) → Event; bad lines go to the `rejected` side output with their reason."""

    def __init__(self, template: dict[str, Any], source: str):
        self.document, self.source = template, source
        self.template: CompiledTemplate | None = None

    def open(self, runtime_context: RuntimeContext) -> None:
        self.template = compile_template(self.document)

    def process_element(self, value: Row, ctx: ProcessFunction.Context) -> Iterable:
        parsed = parse_line(self.template, self.source, value[0], value[1] or "")
        if isinstance(parsed, Event):
            yield parsed
        elif isinstance(parsed, Rejection):
            yield REJECTED, parsed
        # Ignored: a valid record no node uses (counted by the preview, not stored)


class EventTime(TimestampAssigner):
    def extract_timestamp(self, value: Event, record_timestamp: int) -> int:
        return value.ts


class RouteInput(FlatMapFunction):
    """Supplements go to the join-value stage; baseline events register each join value they carry."""

    def __init__(self, template: dict[str, Any]):
        self.document = template

    def open(self, runtime_context: RuntimeContext) -> None:
        self.template = compile_template(self.document)

    def flat_map(self, event: Event) -> Iterable[tuple]:
        if event.supplement:
            yield ("supplement", routing_key(self.template.nodes[event.node].join.on, event.join_key), event)
        else:
            for join_field, value in event.joins.items():
                yield ("owner", routing_key(join_field, value), (event.session_key, event.ts))


class _PickledState:
    """A ValueState holding one pickled Python object per key, cleared when the object is empty."""

    def open_state(self, runtime_context: RuntimeContext, name: str) -> None:
        self.state = runtime_context.get_state(ValueStateDescriptor(name, Types.PICKLED_BYTE_ARRAY()))

    def store(self, state: Any, ctx: Any, next_timer: int | None) -> bool:
        """Keep (and arm the next event-time timer) or forget; False when the key's state was cleared."""
        if state.is_empty():
            self.state.clear()
            return False
        self.state.update(state)
        if next_timer is not None:
            ctx.timer_service().register_event_time_timer(next_timer)
        return True


class RouteSupplements(KeyedProcessFunction, _PickledState):
    """Keyed by join value (e.g. trans_id): forwards supplements to the session keys that own the value."""

    def __init__(self, template: dict[str, Any]):
        self.document = template

    def open(self, runtime_context: RuntimeContext) -> None:
        self.template = compile_template(self.document)
        self.open_state(runtime_context, "join-key")

    def process_element(self, value: tuple, ctx: KeyedProcessFunction.Context) -> Iterable:
        state: JoinKeyState = self.state.value() or JoinKeyState()
        kind, _, payload = value
        watermark = ctx.timer_service().current_watermark()
        routed = state.on_supplement(self.template, payload, watermark) if kind == "supplement" else state.on_baseline(*payload)
        for item in routed:
            yield ("", item) if isinstance(item, Late) else (item.session_key, item.event)
        self._save(state, ctx)

    def on_timer(self, timestamp: int, ctx: KeyedProcessFunction.OnTimerContext) -> Iterable:
        state: JoinKeyState = self.state.value()
        if state is None:
            return
        for orphan in state.expire(self.template, ctx.timer_service().current_watermark()):
            yield "", orphan
        self._save(state, ctx)

    def _save(self, state: JoinKeyState, ctx: Any) -> None:
        self.store(state, ctx, None if state.is_empty() else state.next_timer(self.template))


class CorrelateSessions(KeyedProcessFunction, _PickledState):
    """Keyed by session key: the SessionKeyState machine, event-time timers for close/purge, a processing-
    time timer for the quiet-source timeout. Emits Emission / Late / Orphan objects for the sink."""

    def __init__(self, template: dict[str, Any]):
        self.document = template

    def open(self, runtime_context: RuntimeContext) -> None:
        self.template = compile_template(self.document)
        self.open_state(runtime_context, "session-key")

    def process_element(self, value: tuple, ctx: KeyedProcessFunction.Context) -> Iterable:
        session_key, event = value
        if not session_key:  # an orphan reported by the router passes straight through
            yield event
            return
        state: SessionKeyState = self.state.value() or SessionKeyState(session_key)
        outputs = state.add(self.template, event, ctx.timer_service().current_watermark())
        yield from outputs
        self._save(state, ctx, arm_timeout=True)

    def on_timer(self, timestamp: int, ctx: KeyedProcessFunction.OnTimerContext) -> Iterable:
        state: SessionKeyState = self.state.value()
        if state is None:
            return
        watermark = ctx.timer_service().current_watermark()
        if ctx.time_domain() == TimeDomain.PROCESSING_TIME:
            yield from state.on_timeout(self.template, watermark)
        else:
            yield from state.on_watermark(self.template, watermark)
        self._save(state, ctx, arm_timeout=False)

    def _save(self, state: SessionKeyState, ctx: Any, arm_timeout: bool) -> None:
        kept = self.store(state, ctx, None if state.is_empty() else state.next_event_timer(self.template))
        if kept and arm_timeout:
            now = ctx.timer_service().current_processing_time()
            at = (now + self.template.timeout_ms) // TIMEOUT_GRANULARITY_MS * TIMEOUT_GRANULARITY_MS + TIMEOUT_GRANULARITY_MS
            ctx.timer_service().register_processing_time_timer(at)


class WriteBatches(KeyedProcessFunction):
    """Buffers sink records and writes them in batches: on size, on a short processing-time timer, at close.

    Python functions get no checkpoint hook, so a buffer may be lost on failure; the replay after restore
    re-sends it and the revision guard makes the re-send harmless.
    """

    def __init__(self, template_id: int, database_url: str, flush_rows: int, flush_interval_ms: int):
        self.template_id, self.database_url = template_id, database_url
        self.flush_rows, self.flush_interval_ms = flush_rows, flush_interval_ms

    def open(self, runtime_context: RuntimeContext) -> None:
        from .sink.dialects import connect
        from .sink.writer import SessionWriter

        dialect, factory = connect(self.database_url)
        self.writer = SessionWriter(self.template_id, dialect, factory)
        self.buffer: list = []
        self.timer_armed = False

    def process_element(self, value: Any, ctx: KeyedProcessFunction.Context) -> Iterable:
        self.buffer.append(value)
        if len(self.buffer) >= self.flush_rows:
            self.flush()
        elif not self.timer_armed:
            now = ctx.timer_service().current_processing_time()
            ctx.timer_service().register_processing_time_timer(now + self.flush_interval_ms)
            self.timer_armed = True
        return []

    def on_timer(self, timestamp: int, ctx: KeyedProcessFunction.OnTimerContext) -> Iterable:
        self.timer_armed = False
        self.flush()
        return []

    def flush(self) -> None:
        batch, self.buffer = self.buffer, []
        self.writer.write(batch)

    def close(self) -> None:
        if getattr(self, "writer", None) is not None:
            self.flush()
            self.writer.close()


def sink_partition(value: Any) -> int:
    """Spread sink records; one session's revisions always go to the same writer (ordering)."""
    if isinstance(value, Emission):
        return value.document["uid"] % 64
    if isinstance(value, Late):
        return int(value.event.uid[:8], 16) % 64
    return 0


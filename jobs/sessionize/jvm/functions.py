"""The Python ends of the JVM design: parse → rows for the JVM stages, and JVM rows → documents for the sink.

Per event Python only parses; per session revision it assembles (fields and conclusions are CEL). The session
and join-value mechanics run in `luna.sessionize.RouteFunction` / `SessionFunction` (Wire.java: the row shapes).
"""
import json
import logging
import pickle
from typing import Any, Iterable

from pyflink.common import Row
from pyflink.common.typeinfo import Types
from pyflink.common.watermark_strategy import TimestampAssigner
from pyflink.datastream import BroadcastProcessFunction, RuntimeContext

from ..functions import OWNER, REJECTED, FollowsTemplate, ParseLine, SinkPartition, end_of_batch, sink_record
from ..logic.errors import job_error
from ..logic.records import Event, Rejection
from ..logic.template import TemplateError, compile_template
from ..profiling import OperatorProfile
from . import PayloadCache, decode, rules_spec, unpack_payloads

log = logging.getLogger("luna.assembly")
SPEC_ROW = Types.ROW_NAMED(["version", "spec"], [Types.INT(), Types.STRING()])
OUT_FIELDS = ["kind", "session_key", "header", "payloads"]
OUT_ROW = Types.ROW_NAMED(OUT_FIELDS, [Types.STRING(), Types.STRING(), Types.STRING(), Types.PRIMITIVE_ARRAY(Types.BYTE())])
PARSED_ROW = Types.ROW_NAMED(
    ["route", "kind", "uid", "node", "ts", "session_key", "join_key", "joins", "supplement", "payload", "out"],
    [Types.STRING(), Types.STRING(), Types.STRING(), Types.STRING(), Types.LONG(), Types.STRING(), Types.STRING(),
     Types.MAP(Types.STRING(), Types.STRING()), Types.BOOLEAN(), Types.PRIMITIVE_ARRAY(Types.BYTE()), OUT_ROW],
)


def event_row(route: str, kind: str, event: Event) -> Row:
    return Row(route, kind, event.uid, event.node, event.ts, event.session_key, event.join_key, dict(event.joins),
               event.supplement, pickle.dumps(event, protocol=pickle.HIGHEST_PROTOCOL), None)


class ParseRows(ParseLine):
    """ParseLine addressing rows for the JVM join-value stage instead of pickled tuples for Python's."""

    def _address(self, value: Row, ctx: Any) -> Iterable:
        for item in super()._address(value, ctx):
            if item[0] is REJECTED:
                yield item
            elif item[1] == OWNER:
                session_key, ts = item[2]
                yield Row(item[0], OWNER, None, None, ts, session_key, None, None, False, None, None)
            else:
                yield event_row(item[0], item[1], item[2])




class RowEventTime(TimestampAssigner):
    """Event time of a parsed row (Python-timed sources only)."""

    def extract_timestamp(self, value: Any, record_timestamp: int) -> int:
        return value[4]


class AssembleRevisions(FollowsTemplate, BroadcastProcessFunction):
    """A JVM output row → what the sink writes: an Emission (its document assembled here, once per revision),
    a Late event, an Orphan, or a job error's dead letter."""

    def __init__(self, template: dict[str, Any], version: int, partition: SinkPartition | None = None):
        self.init_template(template, version)
        self.partition = partition  # the sink's, so each record carries its partition (SINK_BYTES)

    def open(self, runtime_context: RuntimeContext) -> None:
        self.open_template()
        self.payloads = PayloadCache()
        self.profile = OperatorProfile("assemble-revisions")
        self.profile.start()

    def close(self) -> None:
        self.profile.stop()
        log.info("assembly: %d events rebuilt, %d reused", self.payloads.misses, self.payloads.hits)

    def process_element(self, value: Row, ctx: Any) -> Iterable:
        """Each output pickled here, once (SINK_BYTES); the end of a batch (RevisionBatches) passes as END_OF_BATCH."""
        if value[0] == "F":
            return [end_of_batch(int(value[2]))]
        return [sink_record(item, self.partition) for item in self.outputs(value, ctx)]

    def outputs(self, value: Row, ctx: Any) -> list:
        kind, session_key, header, payloads = value[0], value[1], value[2], value[3]
        if kind == "J":
            return [Rejection("(job)", header, header, "jvm")]
        try:
            template = self.template_for(ctx)
            return decode(template, header, session_key, unpack_payloads(payloads, template, self.payloads))
        except Exception as exc:  # the revision becomes a dead letter, never a failed job
            return [job_error({"session_key": session_key, "header": header[:1000]}, exc, "AssembleRevisions")]




def spec_update(value: tuple[int, str]) -> Row:
    """A published version (version, document JSON) → (version, rules spec) for the Java stages; (0, "") when it
    is not a valid template (the Python stages ignore it too)."""
    version, text = value
    try:
        return Row(version, rules_spec(compile_template(json.loads(text), version))) if version and text else Row(0, "")
    except (ValueError, TemplateError):
        return Row(0, "")

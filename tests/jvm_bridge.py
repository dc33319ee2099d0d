"""Drives the JVM state machines (jobs/sessionize/jvm/src) through the Py4J gateway PyFlink starts, behind the
same interface as the Python SessionKeyState / JoinKeyState, so the reference Correlator runs unchanged on either.

One Py4J crossing per call and one to read its outputs (Out.encodeAll), no Flink job.
"""
from dataclasses import dataclass, field

from jobs.sessionize.jvm import decode, ensure_jar, rules_spec
from jobs.sessionize.logic.engine import Correlator
from jobs.sessionize.logic.records import Event
from jobs.sessionize.logic.template import CompiledTemplate

def jvm_package():
    """The `luna.sessionize` Java package, with the freshly built jar added to the gateway's class loader."""
    from pyflink.java_gateway import get_gateway
    from pyflink.util.java_utils import add_jars_to_context_class_loader

    add_jars_to_context_class_loader([ensure_jar().as_uri()])
    return get_gateway().jvm.luna.sessionize


@dataclass
class JvmSide:
    """The Java package, the template's rules as a Java object, and the events by uid (the machines hold the
    JVM copies; assembly needs the Python ones)."""

    package: object
    template: CompiledTemplate
    events: dict[str, Event] = field(default_factory=dict)
    java_events: dict[str, object] = field(default_factory=dict)

    def __post_init__(self):
        self.rules = self.package.Rules.parse(rules_spec(self.template))

    def java(self, event: Event):
        if event.uid not in self.java_events:
            self.events[event.uid] = event
            self.java_events[event.uid] = self.package.Ev(event.uid, event.node, event.ts, event.session_key, event.join_key,
                                                          dict(event.joins), event.supplement, None)
        return self.java_events[event.uid]

    def decode(self, outs, session_key: str | None = None) -> list:
        return decode(self.template, self.package.Out.encodeAll(outs), session_key, self.events)


class JvmSessionState:
    """SessionKeyState's interface over a Java SessionMachine."""

    def __init__(self, side: JvmSide, session_key: str):
        self.side, self.session_key = side, session_key
        self.machine = side.package.SessionMachine(session_key)

    def add(self, tpl, event, watermark):
        return self.side.decode(self.machine.add(self.side.rules, self.side.java(event), watermark), self.session_key)

    def on_watermark(self, tpl, watermark):
        return self.side.decode(self.machine.onWatermark(self.side.rules, watermark), self.session_key)

    def on_timeout(self, tpl, watermark):
        return self.side.decode(self.machine.onTimeout(self.side.rules, watermark), self.session_key)

    def next_event_timer(self, tpl):
        return self.machine.nextEventTimer(self.side.rules)

    def restore(self):
        """What a checkpoint restore does to the key's state: through Flink's serializer and back."""
        self.machine = self.side.package.StateTypes.roundTrip(self.machine)

    def is_empty(self):
        return self.machine.isEmpty()


class JvmJoinState:
    """JoinKeyState's interface over a Java JoinRouter."""

    def __init__(self, side: JvmSide):
        self.side = side
        self.router = side.package.JoinRouter()

    def on_baseline(self, session_key, ts):
        return self.side.decode(self.router.onBaseline(session_key, ts))

    def on_supplement(self, tpl, event, watermark):
        return self.side.decode(self.router.onSupplement(self.side.rules, self.side.java(event), watermark))

    def expire(self, tpl, watermark):
        return self.side.decode(self.router.expire(self.side.rules, watermark))

    def next_timer(self, tpl):
        return self.router.nextTimer(self.side.rules)

    def restore(self):
        self.router = self.side.package.StateTypes.roundTrip(self.router)

    def is_empty(self):
        return self.router.isEmpty()


class JvmCorrelator(Correlator):
    """The reference Correlator with the JVM machines in place of the Python ones (same stages, same timers)."""

    side: JvmSide

    def _key_state(self, session_key):
        if session_key not in self.keys:
            self.keys[session_key] = JvmSessionState(self.side, session_key)
        return self.keys[session_key]

    def _join_state(self, key):
        if key not in self.joins:
            self.joins[key] = JvmJoinState(self.side)
        return self.joins[key]


def jvm_correlator(package, template: CompiledTemplate) -> JvmCorrelator:
    corr = JvmCorrelator(template, keep_emissions=True)
    corr.side = JvmSide(package, template)
    return corr

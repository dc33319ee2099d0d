"""The Flink adapters' own decisions, called directly: how ParseLine addresses records, template updates,
sink partitions and the state TTL (the job-level behaviour is in test_job_*)."""
import json

from jobs.sessionize.functions import (BASELINE, CURRENT, PASS, REJECTED, SUPPLEMENT, TEMPLATE_UPDATES, ParseLine, SinkPartition, sink_item, sink_record,
                                       lifecycle_ttl_ms)
from jobs.sessionize.logic.records import Event
from jobs.sessionize.logic.router import routing_key
from jobs.sessionize.pipeline import parse_update
from tests.flows import T0, callback_line, demo_document, demo_template, order_line, pay_page_line, verified_line


class FakeContext:
    """The broadcast-state side of a Flink context: one dict per descriptor name."""

    def __init__(self):
        self.states: dict[str, dict] = {}

    def get_broadcast_state(self, descriptor):
        return self.states.setdefault(descriptor.name, {})


class Put(dict):
    def put(self, key, value):
        self[key] = value


def parser() -> tuple[ParseLine, FakeContext]:
    function = ParseLine(demo_document(), 1)
    function.open(None)
    return function, FakeContext()


def addressed(line: tuple[str, str]) -> list:
    function, ctx = parser()
    return list(function.process_element((line[0], line[1], "file:/x"), ctx))


def test_records_are_addressed_to_the_join_value_or_their_session():
    [(key, kind, event)] = addressed(verified_line(T0, "o1", "t1"))
    assert (key, kind, event.session_key) == (routing_key("trans_id", "t1"), BASELINE, "o1")
    [(key, kind, event)] = addressed(callback_line(T0, "t1"))
    assert (key, kind, event.join_key) == (routing_key("trans_id", "t1"), SUPPLEMENT, "t1")
    [(key, kind, event)] = addressed(order_line(T0, "o1"))
    assert (key, kind, event.session_key) == ("o1", PASS, "o1") and isinstance(event, Event)
    assert addressed(pay_page_line(T0, "o1"))[0][:2] == ("o1", PASS)


def test_bad_lines_go_to_the_rejected_output_with_their_reason():
    [(tag, rejection)] = addressed(("billing", "{not json"))
    assert tag is REJECTED and rejection.reason.startswith("bad JSON") and rejection.origin == "file:/x"


def test_a_newer_published_version_replaces_the_template_and_survives_a_restore():
    function, ctx = parser()
    document = demo_document()
    document["session"]["gap"] = "5m"
    ctx.states[TEMPLATE_UPDATES.name] = Put()
    function.process_broadcast_element(parse_update((json.dumps({"version": 2, "document": document}),)), ctx)
    assert (function.version, function.template.gap_ms) == (2, 300_000)
    function.process_broadcast_element((1, json.dumps(demo_document())), ctx)  # older: ignored
    assert function.version == 2
    function.process_broadcast_element(parse_update(("not a version",)), ctx)  # garbage: ignored
    assert function.version == 2

    restored, _ = parser()  # a restored operator starts from the launch version and reads the broadcast state
    assert restored.version == 1
    restored.template_for(ctx)
    assert (restored.version, restored.template.gap_ms) == (2, 300_000)
    assert ctx.states[TEMPLATE_UPDATES.name][CURRENT][0] == 2


def test_an_invalid_update_is_ignored_and_the_job_keeps_its_version():
    function, ctx = parser()
    ctx.states[TEMPLATE_UPDATES.name] = Put()
    broken = demo_document()
    broken["conclusions"][0]["when"] = "has("
    function.process_broadcast_element((2, json.dumps(broken)), ctx)
    assert function.version == 1 and CURRENT not in ctx.states[TEMPLATE_UPDATES.name]


def test_sink_partitions_keep_a_key_on_one_writer_and_cover_every_subtask():
    from jobs.sessionize.logic.sessions import Emission

    partition = SinkPartition(4)
    emissions = [Emission(1, {"uid": uid, "session_key": f"o-{uid}"}, []) for uid in range(100)]
    assert {partition(e) for e in emissions} == {0, 1, 2, 3}
    fragment, final = Emission(1, {"uid": 7, "session_key": "o-7"}, []), Emission(2, {"uid": 8, "session_key": "o-7"}, [7])
    assert partition(fragment) == partition(final), "every row of one key goes to the same writer, in order"
    assert SinkPartition(0)(emissions[5]) == 0
    assert [partition(sink_record(e, partition)) for e in emissions] == [partition(e) for e in emissions], "as bytes too"
    assert sink_item(sink_record(final, partition)) == final


def test_state_ttl_bounds_a_keys_life_by_the_template():
    template = demo_template()  # gap 20m + lateness 2h + join reach 2h, twice
    assert lifecycle_ttl_ms(template) == 2 * (20 + 120 + 120) * 60_000


# -- a function that still fails on a record makes a dead letter, never a failed job ---------------------------
def test_a_record_the_parser_fails_on_becomes_a_job_error_dead_letter(monkeypatch):
    import jobs.sessionize.functions as functions

    def broken(*args, **kwargs):
        raise KeyError("amount")
    monkeypatch.setattr(functions, "parse_line", broken)
    [(tag, rejection)] = addressed(order_line(T0, "o1"))
    assert tag is REJECTED and rejection.source == "billing" and rejection.origin == "file:/x"
    assert rejection.reason.startswith("job error in ParseLine: KeyError: 'amount' [test_functions.py:")
    assert rejection.raw == order_line(T0, "o1")[1]


def test_an_event_the_session_stage_fails_on_becomes_a_dead_letter(monkeypatch):
    from jobs.sessionize.functions import CorrelateSessions
    from jobs.sessionize.logic.records import parse_line

    function = CorrelateSessions(demo_document(), 1)
    function.template_for = lambda ctx: (_ for _ in ()).throw(ZeroDivisionError("division by zero"))
    event = parse_line(demo_template(), *order_line(T0, "o1"))
    [rejection] = list(function.process_element(("o1", event), None))
    assert rejection.reason.startswith("job error in CorrelateSessions: ZeroDivisionError: division by zero")
    assert (rejection.source, rejection.raw) == ("billing", event.raw)

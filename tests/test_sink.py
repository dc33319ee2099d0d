"""The database sink on the real server: revision guard, idempotent replay, merge deletes, dead letters."""
import copy
import json
import sqlite3

import pymysql
import pytest

from jobs.sessionize.logic.records import Event, Rejection
from jobs.sessionize.logic.sessions import Emission, Late, Orphan
from jobs.sessionize.sink.dialects import MYSQL, SQLITE, TIDB
from jobs.sessionize.sink.writer import RetryPolicy, split_value
from operations.models import SinkOutage
from sessions.models import (DeadLetter, LateEvent, Session, SessionConclusion, SessionField, SessionNode, SessionRevision,
                             SessionRuleError)

pytestmark = pytest.mark.django_db(transaction=True)
TEMPLATE_ID = 7


def document(uid: int = 101, status: str = "complete", conclusion: str = "lost_order", deliveries: int = 0) -> dict:
    nodes = [{"node": "order", "seq": 0, "source": "billing", "ts": 1000, "supplement": False, "uid": "a" * 24, "raw": '{"o":1}'}]
    nodes += [
        {"node": "delivery", "seq": i, "source": "gamesvr", "ts": 2000 + i, "supplement": True, "uid": f"d{i:023d}", "raw": "{}"}
        for i in range(deliveries)
    ]
    return {
        "uid": uid, "session_key": "o-1", "start_ms": 1000, "end_ms": 2000, "duration_ms": 1000, "status": status,
        "completeness": 0.75, "primary_conclusion": conclusion, "split": False, "prev_uid": None, "next_uid": None,
        "nodes": nodes, "fields": {"order_id": "o-1", "amount": 6.5, "paid": True},
        "conclusions": [{"name": conclusion, "label": "Paid but not delivered", "severity": "high"}] if conclusion else [],
    }


@pytest.fixture
def writer(sink_writer):
    return sink_writer  # conftest: the job's writer for TEMPLATE_ID


def event(uid: str = "e" * 24, supplement: bool = False) -> Event:
    return Event("billing", "order", 5, None if supplement else "o-9", "t-9" if supplement else None, {}, {}, '{"x":1}', uid, "f.jsonl", supplement)


def test_it_writes_a_session_with_its_rows(writer):
    writer.write([Emission(1, document(), [])])
    session = Session.objects.get(pk=101)
    assert (session.session_key, session.revision, session.primary_conclusion, session.template_id) == ("o-1", 1, "lost_order", TEMPLATE_ID)
    fields = {f.name: f.value for f in SessionField.objects.filter(session=session)}
    assert fields == {"order_id": "o-1", "amount": 6.5, "paid": "true"}
    assert SessionNode.objects.filter(session=session).count() == 1
    assert list(SessionConclusion.objects.filter(session=session).values_list("name", flat=True)) == ["lost_order"]


def test_a_replay_changes_nothing(writer):
    batch = [Emission(1, document(), []), Emission(2, document(conclusion="duplicate_delivery", deliveries=2), [])]
    writer.write(batch)
    writer.write(copy.deepcopy(batch))  # the same emissions again, as after a restart from a checkpoint
    assert Session.objects.count() == 1
    assert Session.objects.get().revision == 2
    assert SessionNode.objects.count() == 3
    assert SessionConclusion.objects.count() == 1
    assert writer.stats.sessions_skipped == 1


def test_storage_never_goes_backwards(writer):
    writer.write([Emission(3, document(conclusion="duplicate_delivery", deliveries=2), [])])
    writer.write([Emission(2, document(conclusion="lost_order"), [])])
    session = Session.objects.get()
    assert (session.revision, session.primary_conclusion) == (3, "duplicate_delivery")
    assert SessionNode.objects.filter(node="delivery").count() == 2


def test_the_highest_revision_in_a_batch_wins_whatever_its_position(writer):
    writer.write([Emission(5, document(conclusion="delivered"), []), Emission(4, document(conclusion="lost_order"), [])])
    assert Session.objects.get().primary_conclusion == "delivered"


def test_a_merge_deletes_the_replaced_session_and_its_rows(writer):
    writer.write([Emission(1, document(uid=201), [])])
    writer.write([Emission(2, document(uid=202), [201])])
    assert list(Session.objects.values_list("pk", flat=True)) == [202]
    assert not SessionNode.objects.filter(session_id=201).exists()
    assert not SessionField.objects.filter(session_id=201).exists()


def test_a_session_supersedes_stored_fragments_of_its_key_within_its_span(writer):
    """A job restored from a checkpoint may not know a fragment it wrote after that checkpoint (another first event,
    so another id): the final session removes it; other sessions of the key and other keys stay."""
    fragment = dict(document(uid=401), start_ms=1500, end_ms=1800)
    earlier_split = dict(document(uid=402), start_ms=-5_000_000, end_ms=-4_000_000)
    other_key = dict(document(uid=403), session_key="o-2")
    writer.write([Emission(3, fragment, []), Emission(1, earlier_split, []), Emission(1, other_key, [])])
    writer.write([Emission(3, dict(document(uid=404), start_ms=1000, end_ms=2000), [])])
    assert sorted(Session.objects.values_list("pk", flat=True)) == [402, 403, 404]
    assert not SessionNode.objects.filter(session_id=401).exists()
    assert not SessionConclusion.objects.filter(session_id=401).exists()


def test_split_sessions_are_linked_both_ways_even_when_written_apart(writer):
    first = document(uid=301)
    writer.write([Emission(1, first, [])])
    second = dict(document(uid=302), split=True, prev_uid=301, start_ms=5_000_000, end_ms=5_001_000)  # > gap later
    writer.write([Emission(2, second, [])])
    a, b = Session.objects.get(pk=301), Session.objects.get(pk=302)
    assert (a.split, a.next_id) == (True, 302)
    assert (b.split, b.prev_id) == (True, 301)


def test_dead_letters_and_late_events_are_stored_once_with_their_reason(writer):
    rejection = Rejection("billing", "bad JSON: Expecting value", "not json", "/data/billing/part-1.jsonl")
    orphan = Orphan(event("o" * 24, supplement=True), "no baseline event carries trans_id=t-9")
    late = Late(event("l" * 24), "event later than allowed_lateness")
    writer.write([rejection, orphan, late])
    writer.write([rejection, orphan, late])
    rows = {d.reason: d for d in DeadLetter.objects.all()}
    assert set(rows) == {"bad JSON: Expecting value", "orphan supplement: no baseline event carries trans_id=t-9"}
    assert rows["bad JSON: Expecting value"].raw == "not json"
    assert rows["bad JSON: Expecting value"].origin.endswith("part-1.jsonl")
    assert LateEvent.objects.count() == 1
    assert LateEvent.objects.get().session_key == "o-9"


def test_a_record_the_database_refuses_becomes_a_dead_letter_and_the_rest_is_written(writer):
    broken = document(uid=401)
    broken["session_key"] = "o-2"
    broken["nodes"][0]["source"] = None  # violates NOT NULL on every backend
    writer.write([Emission(1, document(uid=400), []), Emission(1, broken, []), Rejection("billing", "bad JSON: x", "{", "f:1")])
    assert list(Session.objects.values_list("pk", flat=True)) == [400]
    refused = DeadLetter.objects.get(source="(sink)")
    assert refused.reason.startswith("job error: the database refused session 'o-2' r1")
    assert json.loads(refused.raw)["uid"] == 401  # the whole document is kept
    assert DeadLetter.objects.filter(source="billing").exists()
    assert writer.stats.refused == 1


def test_an_unreachable_database_is_retried_with_back_off_and_the_outage_recorded(writer):
    real_connect, attempts, waits = writer.connect, [], []

    def flaky_connect():
        attempts.append(1)
        if len(attempts) <= 3:
            raise (pymysql.err.OperationalError(2003, "Can't connect") if writer.dialect.name != "sqlite"
                   else sqlite3.OperationalError("database is locked"))
        return real_connect()
    writer.connect, writer.retry = flaky_connect, RetryPolicy(first_s=0.5, max_s=1.0, sleep=waits.append)
    writer.write([Emission(1, document(uid=410), [])])
    assert Session.objects.filter(pk=410).exists()
    assert waits == [0.5, 1.0, 1.0]
    outage = SinkOutage.objects.get()
    assert (outage.template_id, outage.retries) == (TEMPLATE_ID, 3) and outage.ended_ms >= outage.started_ms


def test_the_writer_gives_up_after_its_limit_so_flink_restarts_from_the_checkpoint(writer):
    def down():
        raise pymysql.err.OperationalError(2003, "Can't connect")
    writer.connect, writer.retry = down, RetryPolicy(give_up_s=0.0, sleep=lambda s: None)
    with pytest.raises(pymysql.err.OperationalError):
        writer.write([Emission(1, document(uid=411), [])])


def test_a_fragment_replaced_within_the_same_batch_is_never_left_behind(writer):
    """A late first event moves a session's start: it gets a new id, and the emission names the old one in
    `replaces`. Both emissions in one batch must leave only the final row."""
    fragment = document(uid=501)
    fragment["start_ms"] = 1000
    final = document(uid=502)
    final["start_ms"], final["duration_ms"] = 500, 1500
    writer.write([Emission(1, fragment, []), Emission(2, final, [501])])
    assert list(Session.objects.values_list("pk", flat=True)) == [502]
    assert not SessionNode.objects.filter(session_id=501).exists()


def test_a_fragment_a_restored_job_does_not_name_is_removed_by_its_span(writer):
    fragment = document(uid=503)
    final = document(uid=504)
    final["start_ms"] = 900
    writer.write([Emission(1, fragment, []), Emission(2, final, [])])  # same key, final's span holds the fragment's start
    assert list(Session.objects.values_list("pk", flat=True)) == [504]


def test_every_distinct_value_of_a_field_is_stored_with_its_node(writer):
    doc = document(uid=420)
    doc["values"] = [["event", "pay_page_open", "pay_page"], ["event", "voucher_upload", "voucher"], ["order_id", "o-1", "order"]]
    doc["fields"] = {"event": "pay_page_open", "order_id": "o-1", "pay_ms": 12.0}
    writer.write([Emission(1, doc, [])])
    rows = set(SessionField.objects.filter(session_id=420).values_list("name", "str_value", "num_value", "node"))
    assert rows == {("event", "pay_page_open", None, "pay_page"), ("event", "voucher_upload", None, "voucher"),
                    ("order_id", "o-1", None, "order"), ("pay_ms", None, 12.0, "")}


def test_rule_errors_and_the_revision_history_are_stored(writer):
    first = document(uid=430, conclusion="")
    first["rule_errors"] = [{"rule": "fields.amount_value.expr", "message": "no such field: amount"}]
    first["template_version"] = 3
    writer.write([Emission(1, first, [], cause="early_fire")])
    second = document(uid=430, conclusion="lost_order", deliveries=1)
    second["template_version"] = 4
    writer.write([Emission(2, second, [], cause="update")])
    assert SessionRuleError.objects.filter(session_id=430).count() == 0  # rewritten with the revision
    assert Session.objects.get(pk=430).template_version == 4
    history = list(SessionRevision.objects.filter(session_id=430).order_by("revision"))
    assert [(h.revision, h.cause, h.template_version) for h in history] == [(1, "early_fire", 3), (2, "update", 4)]
    assert history[0].changes["nodes_added"] == ["order"]
    assert history[1].changes == {"nodes_added": ["delivery"], "conclusions_added": ["lost_order"]}
    writer.write([Emission(1, first, [], cause="early_fire")])  # a replay adds no history
    assert SessionRevision.objects.filter(session_id=430).count() == 2


def test_rule_errors_are_written_with_the_session(writer):
    doc = document(uid=431)
    doc["rule_errors"] = [{"rule": "fields.amount_value.expr", "message": "no such field: amount"}]
    writer.write([Emission(1, doc, [])])
    assert list(SessionRuleError.objects.values_list("rule", "message")) == [("fields.amount_value.expr", "no such field: amount")]


def test_lone_surrogates_and_non_finite_numbers_are_stored_without_failing_the_batch(writer):
    doc = document(uid=440)
    doc["nodes"][0]["raw"] = '{"o":"\udc80"}'
    doc["fields"] = {"order_id": "o-\udc801", "amount": float("nan"), "big": 2**70}
    writer.write([Emission(1, doc, []), Rejection("billing", "not valid UTF-8 text", "\udcff{", "f\udc80:1")])
    assert SessionNode.objects.get(session_id=440).raw == '{"o":"\\udc80"}'
    values = dict(SessionField.objects.filter(session_id=440).values_list("name", "str_value"))
    assert values == {"order_id": "o-\\udc801", "amount": "nan", "big": str(2**70)}
    assert DeadLetter.objects.get().raw == "\\udcff{"


def test_typed_values_split_into_text_and_number_columns():
    assert split_value("abc") == ("abc", None)
    assert split_value(3) == (None, 3.0)
    assert split_value(False) == ("false", None)
    assert split_value("x" * 300)[0] == "x" * 191


@pytest.mark.parametrize("dialect", [MYSQL, TIDB, SQLITE])
def test_every_value_is_a_bound_parameter(dialect):
    sql = dialect.upsert("luna_session", ("id", "revision"))
    assert "'" not in sql and sql.count(dialect.placeholder) == 2
    assert dialect.select_revisions(3).count(dialect.placeholder) == 3


def test_sink_columns_match_the_django_models():
    """The job writes with plain SQL; the models are the schema. They must agree column for column."""
    from jobs.sessionize.sink import dialects

    for model, columns in (
        (Session, dialects.SESSION_COLUMNS), (SessionField, dialects.FIELD_COLUMNS), (SessionNode, dialects.NODE_COLUMNS),
        (SessionConclusion, dialects.CONCLUSION_COLUMNS), (DeadLetter, dialects.DEAD_LETTER_COLUMNS), (LateEvent, dialects.LATE_COLUMNS),
        (SessionRuleError, dialects.RULE_ERROR_COLUMNS), (SessionRevision, dialects.REVISION_COLUMNS),
        (SinkOutage, dialects.OUTAGE_COLUMNS),
    ):
        model_columns = {f.column for f in model._meta.concrete_fields}
        assert set(columns) <= model_columns, (model.__name__, set(columns) - model_columns)
        required = {f.column for f in model._meta.concrete_fields if not f.null and not f.has_default() and not f.primary_key or f.column == "id" and f.model is Session}
        assert required - {"id"} <= set(columns) | {"id"}, (model.__name__, required - set(columns))


def test_a_replay_from_an_older_checkpoint_does_not_bring_a_deleted_fragment_back(writer):
    fragment = document(uid=601)
    final = document(uid=602)
    final["start_ms"], final["duration_ms"] = 500, 1500
    writer.write([Emission(1, fragment, [])])
    writer.write([Emission(2, final, [601])])
    writer.write([Emission(1, copy.deepcopy(fragment), [])])  # the restored job re-sends what it emitted after the checkpoint
    writer.write([Emission(2, copy.deepcopy(final), [601])])
    assert list(Session.objects.values_list("pk", flat=True)) == [602]
    assert not SessionNode.objects.filter(session_id=601).exists()

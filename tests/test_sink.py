"""The database sink on the real server: revision guard, idempotent replay, merge deletes, dead letters."""
import copy

import pytest

from jobs.sessionize.logic.records import Event, Rejection
from jobs.sessionize.logic.sessions import Emission, Late, Orphan
from jobs.sessionize.sink.dialects import MYSQL, SQLITE, TIDB, connect
from jobs.sessionize.sink.writer import SessionWriter, split_value
from sessions.models import DeadLetter, LateEvent, Session, SessionConclusion, SessionField, SessionNode
from sessions.services.jobs import database_url_for_jobs

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
def writer():
    dialect, factory = connect(database_url_for_jobs())
    w = SessionWriter(TEMPLATE_ID, dialect, factory)
    yield w
    w.close()


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


def test_a_failed_batch_rolls_back_entirely(writer):
    broken = document(uid=401)
    broken["nodes"][0]["source"] = None  # violates NOT NULL on every backend
    with pytest.raises(Exception):
        writer.write([Emission(1, document(uid=400), []), Emission(1, broken, [])])
    assert not Session.objects.exists()
    writer.write([Emission(1, document(uid=400), [])])  # the writer reconnects and carries on
    assert Session.objects.filter(pk=400).exists()


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
    ):
        model_columns = {f.column for f in model._meta.concrete_fields}
        assert set(columns) <= model_columns, (model.__name__, set(columns) - model_columns)
        required = {f.column for f in model._meta.concrete_fields if not f.null and not f.has_default() and not f.primary_key or f.column == "id" and f.model is Session}
        assert required - {"id"} <= set(columns) | {"id"}, (model.__name__, required - set(columns))

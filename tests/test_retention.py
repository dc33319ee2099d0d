"""Retention per template: sessions older than the template's `retention` go, with every row of theirs, in batches."""
import pytest

from analytics.models import SessionFact
from jobs.sessionize.logic.template import TemplateError, compile_template
from sessions.models import DeadLetter, Session, SessionField, SessionNode, SessionRevision
from sessions.services.retention import apply_retention
from sessions.services.templates import save_template_version
from sessions.tasks import apply_retention as retention_task
from tests.flows import HOUR, T0, in_time_order, mutated, payment_flow
from tests.storing import store

pytestmark = pytest.mark.django_db(transaction=True)
DAY = 24 * HOUR


def test_a_template_without_retention_keeps_everything(demo_template):
    store(demo_template, in_time_order(payment_flow("K-1", T0)))
    assert apply_retention(demo_template, now_ms=T0 + 1000 * DAY).sessions == 0
    assert Session.objects.count() == 1


def test_sessions_older_than_the_retention_go_with_their_rows_in_batches(db):
    template = save_template_version(mutated(lambda d: d.update(retention="30d"))).template
    store(template, [*in_time_order(payment_flow("OLD-1", T0)), *in_time_order(payment_flow("OLD-2", T0 + HOUR)),
                     *in_time_order(payment_flow("NEW-1", T0 + 40 * DAY))])
    DeadLetter.objects.create(template=template, source="billing", reason="bad JSON", raw="{", line_uid="x", created_ms=T0)
    assert SessionFact.objects.count() == 3  # the sink wrote them
    purged = apply_retention(template, now_ms=T0 + 45 * DAY, batch=1)
    assert (purged.sessions, purged.dead_letters) == (2, 1)
    assert list(Session.objects.values_list("session_key", flat=True)) == ["NEW-1"]
    kept = Session.objects.get().pk
    for model in (SessionField, SessionNode, SessionFact):
        assert set(model.objects.values_list("session_id", flat=True)) == {kept}
    assert set(SessionRevision.objects.values_list("session_id", flat=True)) == {kept}
    assert retention_task() == {template.name: 1}  # today is years after these 2024 sessions


@pytest.mark.parametrize("value, message", [("1h", "at least one day"), ("forever", "bad duration")])
def test_a_bad_retention_is_refused_at_save_time(value, message):
    with pytest.raises(TemplateError, match=message):
        compile_template(mutated(lambda d: d.update(retention=value)))

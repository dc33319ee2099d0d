"""Late data: queued by the correlation, re-applied to the stored session by the same code (new revision)."""
import pytest

from sessions.models import DeadLetter, LateEvent, Session
from sessions.services.late_replay import replay_late_events
from tests.storing import store
from tests.flows import HOUR, MINUTE, T0, delivery_line, in_time_order, order_line, payment_flow

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_late_delivery_flips_a_lost_order_to_delivered(demo_template):
    paid_not_delivered = payment_flow("O1", T0, steps=("order", "pay_page", "voucher", "verified", "callback"))
    later_traffic = [order_line(T0 + 5 * HOUR, "O2")]  # moves the watermark far past O1's horizon
    late_delivery = delivery_line(T0 + 2 * MINUTE, "T-O1")
    correlator = store(demo_template, in_time_order(paid_not_delivered) + later_traffic + [late_delivery])

    assert [item.event.node for item in correlator.late] == ["delivery"]
    lost = Session.objects.get(template=demo_template, session_key="O1")
    assert lost.primary_conclusion == "lost_order"
    assert LateEvent.objects.filter(replayed_ms__isnull=True).count() == 1

    result = replay_late_events(demo_template)

    session = Session.objects.get(template=demo_template, session_key="O1")
    assert session.pk == lost.pk, "the same session, not a new one"
    assert session.primary_conclusion == "delivered"
    assert session.revision > lost.revision
    assert sorted(session.nodes.values_list("node", flat=True)) == sorted(
        ["order", "pay_page", "voucher", "verified", "callback", "delivery"])
    assert result.replayed == 1 and result.keys == ["O1"]
    assert not LateEvent.objects.filter(replayed_ms__isnull=True).exists()
    assert Session.objects.get(session_key="O2").revision == 1, "other sessions are untouched"

    again = replay_late_events(demo_template)
    assert again.replayed == 0
    assert Session.objects.get(pk=session.pk).revision == session.revision


def test_a_late_baseline_event_joins_its_stored_session(demo_template):
    flow = payment_flow("O1", T0)
    without_pay_page = [line for ts, line in flow if line[1].find("pay_page_open") < 0]
    pay_page = next(line for ts, line in flow if "pay_page_open" in line[1])
    store(demo_template, without_pay_page + [order_line(T0 + 5 * HOUR, "O2"), pay_page])
    before = Session.objects.get(session_key="O1")
    assert "pay_page" not in set(before.nodes.values_list("node", flat=True))

    replay_late_events(demo_template)

    after = Session.objects.get(session_key="O1")
    assert "pay_page" in set(after.nodes.values_list("node", flat=True))
    assert after.revision > before.revision


def test_a_late_supplement_nobody_owns_becomes_a_dead_letter(demo_template):
    store(demo_template, [order_line(T0 + 5 * HOUR, "O2"), delivery_line(T0, "T-NOBODY")])
    assert LateEvent.objects.count() == 1

    replay_late_events(demo_template)

    letter = DeadLetter.objects.get()
    assert "T-NOBODY" in letter.reason and letter.reason.startswith("orphan supplement")
    assert not LateEvent.objects.filter(replayed_ms__isnull=True).exists()


def test_the_celery_task_replays_every_template(demo_template):
    from sessions.tasks import replay_late_events as task

    store(demo_template, [*in_time_order(payment_flow("O1", T0, steps=("order", "verified"))),
                                       order_line(T0 + 5 * HOUR, "O2"), delivery_line(T0 + MINUTE, "T-O1")])
    assert task.apply(args=()).get() == {"mobile-pay": 1}
    assert "delivery" in set(Session.objects.get(session_key="O1").nodes.values_list("node", flat=True))

"""Feedback from verdicts in a backtest: verdicts on sessions the draft changes flag the rule that got worse."""
import pytest

from studio.models import Backtest, Draft
from studio.services import backtest
from tests.studio_support import changed_rule, demo_logs  # noqa: F401 — fixture

pytestmark = pytest.mark.django_db
ALL_TIME = (0, 2**62)


def _store(template, doc, pk):
    """A live session as the sink stores it (core row and conclusions: what verdicts point at)."""
    from sessions.models import Session, SessionConclusion

    session = Session.objects.create(id=pk, template=template, session_key=doc["session_key"], start_ms=doc["start_ms"],
                                     end_ms=doc["end_ms"], duration_ms=doc["duration_ms"], status=doc["status"], revision=1,
                                     completeness=1.0, updated_ms=0, template_version=1)
    SessionConclusion.objects.bulk_create(SessionConclusion(session=session, template=template, start_ms=doc["start_ms"], **c)
                                          for c in doc["conclusions"])
    return session


def test_verdicts_on_sessions_the_draft_changes_flag_the_rule_that_got_worse(demo_logs, demo_template, demo_document, users):
    from investigation.models import Verdict

    draft_doc = changed_rule(demo_document)
    before, after, _ = backtest.sides_pure(draft_doc, demo_document, *ALL_TIME)
    gained = next(k for k in before if "delivered" in backtest._names(after[k]) and "delivered" not in backtest._names(before[k]))
    kept = next(k for k in before if "delivered" in backtest._names(before[k]))
    other = next(c["name"] for c in before[gained]["conclusions"])  # what the live version concluded instead
    sessions = {gained: _store(demo_template, before[gained], 1), kept: _store(demo_template, before[kept], 2)}
    for key, name, verdict in ((gained, "delivered", "false_positive"), (gained, other, "confirmed"), (kept, "delivered", "confirmed")):
        # given on an older version that drew `delivered` for the first one
        Verdict.objects.create(session_id=sessions[key].pk, template=demo_template, template_version=1, conclusion=name, verdict=verdict)

    draft = Draft.objects.create(name="mobile-pay", document=draft_doc)
    item = backtest.request(draft, *ALL_TIME, users["editor"])
    assert backtest.run(item.pk) == "done"
    rows = {row["conclusion"]: row for row in Backtest.objects.get(pk=item.pk).result["feedback"]}
    delivered = rows["delivered"]
    assert (delivered["live_precision"], delivered["live_judged"], delivered["judged_in_range"]) == (0.5, 2, 2)
    assert (delivered["false_positive_gained"], delivered["confirmed_lost"], delivered["false_positive_kept"]) == (1, 0, 0)
    assert (delivered["precision_before"], delivered["precision_after"]) == (1.0, 0.5)
    assert delivered["worse"] and delivered["reasons"] == ["1 false positive(s) gain it", "precision on judged sessions 100% → 50%"]
    assert not rows[other]["worse"] and rows[other]["precision_before"] == rows[other]["precision_after"] == 1.0

    from tests.factories import logged_in
    client = logged_in(users["editor"])
    page = client.get(f"/studio/backtests/{item.pk}/").content.decode()
    assert 'id="backtest-feedback"' in page and 'class="worse"' in page and "1 false positive(s) gain it" in page
    api = client.get(f"/api/studio/backtests/{item.pk}/").json()
    assert {r["conclusion"]: r["worse"] for r in api["feedback"]} == {"delivered": True, other: False}

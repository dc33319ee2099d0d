"""Dead letters summary: one row per source and reason class (as the correlation report), details expandable."""
import re

import pytest
from django.urls import reverse

from sessions.models import DeadLetter
from sessions.services.search import dead_letter_groups

pytestmark = pytest.mark.django_db


@pytest.fixture
def many_rejections(demo_template):
    rows = [("billing", f"bad JSON: Expecting value: line 1 column {i} (char {i})", f"{{bad {i}") for i in range(30)]
    rows += [("channel", f"unparseable time: 'day {i}'", f'{{"notify_time": "day {i}"}}') for i in range(15)]
    rows += [("client", "no session key (order_id)", '{"event": "x"}')] * 3
    DeadLetter.objects.bulk_create(
        DeadLetter(template=demo_template, source=s, reason=r, raw=raw, origin=f"f:{i}", line_uid=f"u{i}", created_ms=i)
        for i, (s, r, raw) in enumerate(rows)
    )


def test_groups_follow_the_reason_classes_with_exact_reasons_and_examples(many_rejections, demo_template, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        groups = dead_letter_groups(demo_template, details_per_group=5)
    assert [(g.source, g.kind, g.count) for g in groups] == [
        ("billing", "bad JSON", 30), ("channel", "unparseable time", 15), ("client", "no session key (order_id)", 3)]
    assert len(groups[0].details) == 5 and groups[0].details[0]["example"].raw.startswith("{bad")
    assert groups[2].details == [{"reason": "no session key (order_id)", "count": 3, "example": groups[2].details[0]["example"]}]


def test_the_page_shows_one_summary_row_per_class(many_rejections, viewer_client):
    body = viewer_client.get(reverse("sessions:dead_letters", args=["mobile-pay"])).content.decode()
    assert len(re.findall(r'<details class="rejection">', body)) == 3
    assert "All 30 lines of this reason" in body and "?source=billing&amp;reason=bad%20JSON" in body

"""One role rule for the console and the API (README "Roles"): reading needs viewer, except the jobs pages
(admin); changing templates and reports needs editor, operating jobs admin. The UI and the API agree."""
import pytest
from django.urls import reverse

from sessions.permissions import RANK
from tests.factories import logged_in

pytestmark = pytest.mark.django_db

READS = [
    ("sessions:search", {}, "viewer"), ("sessions:export", {}, "viewer"), ("sessions:detail", {"pk": 1001}, "viewer"),
    ("sessions:templates", {}, "viewer"), ("sessions:template", {"name": "mobile-pay"}, "viewer"),
    ("sessions:template_export", {"name": "mobile-pay"}, "viewer"), ("sessions:dead_letters", {"name": "mobile-pay"}, "viewer"),
    ("sessions:template_import", {}, "editor"), ("operations:jobs", {}, "admin"),
    ("session-list", {}, "viewer"), ("session-detail", {"pk": 1001}, "viewer"), ("template-list", {}, "viewer"),
    ("template-detail", {"name": "mobile-pay"}, "viewer"), ("template-export", {"name": "mobile-pay"}, "viewer"),
    ("dead-letter-list", {}, "viewer"), ("api-schema", {}, "viewer"), ("api-docs", {}, "viewer"),
    ("job-list", {}, "admin"), ("job-run-list", {}, "admin"),
]
WRITES = [("sessions:template_report", {"name": "mobile-pay"}, "editor"), ("template-report", {"name": "mobile-pay"}, "editor")]


def allowed(role: str | None, needed: str) -> bool:
    return role is not None and RANK[role] >= RANK[needed]


@pytest.mark.parametrize("role", ["norole", "viewer", "editor", "admin"])
def test_one_rule_for_pages_and_api(demo_sessions, users, role):
    client = logged_in(users[role])
    held = None if role == "norole" else role
    for name, kwargs, needed in READS:
        status = client.get(reverse(name, kwargs=kwargs)).status_code
        assert (status == 200) == allowed(held, needed) and status in (200, 403), (name, role, status)
    for name, kwargs, needed in WRITES:
        status = client.post(reverse(name, kwargs=kwargs)).status_code
        assert (status != 403) == allowed(held, needed), (name, role, status)

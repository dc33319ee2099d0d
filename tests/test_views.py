"""Console pages: login and roles, search results, the session page, templates, dead letters."""
import copy
import json
import re
from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from jobs.sessionize.logic.template import TemplateError, compile_template
from sessions.models import AnalysisTemplate, Session, TemplateVersion
from sessions.permissions import has_role, user_role
from tests.factories import DEMO_PATH, PASSWORD, SessionSpec, logged_in, make_session, payment_events

pytestmark = pytest.mark.django_db

PAGES = [
    ("sessions:search", {}),
    ("sessions:detail", {"pk": 1001}),
    ("sessions:templates", {}),
    ("sessions:template", {"name": "mobile-pay"}),
    ("sessions:template_import", {}),
    ("sessions:template_export", {"name": "mobile-pay"}),
    ("sessions:dead_letters", {"name": "mobile-pay"}),
]


def html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def result_keys(page: str) -> list[str]:
    return re.findall(r'<a class="mono" href="/sessions/\d+/">([^<]+)</a>', page)


# ---- login and roles -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name, kwargs", PAGES)
def test_every_page_requires_login(demo_sessions, client, name, kwargs):
    url = reverse(name, kwargs=kwargs)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login")) and "next=" in response["Location"]


def test_login_page_renders_and_signs_in(users, client):
    assert "Sign in to Luna" in html(client.get(reverse("login")))
    response = client.post(reverse("login"), {"username": "viewer", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == reverse("sessions:search")
    assert client.get(reverse("sessions:search")).status_code == 200


def test_a_user_without_a_role_sees_nothing(demo_sessions, norole_client):
    for name, kwargs in PAGES:
        assert norole_client.get(reverse(name, kwargs=kwargs)).status_code == 403


@pytest.mark.parametrize("name, kwargs", [p for p in PAGES if p[0] != "sessions:template_import"])
def test_a_viewer_reads_search_sessions_and_templates(demo_sessions, dead_letters, viewer_client, name, kwargs):
    assert viewer_client.get(reverse(name, kwargs=kwargs)).status_code == 200


def test_a_viewer_cannot_import_templates(demo_document, demo_template, viewer_client):
    assert viewer_client.get(reverse("sessions:template_import")).status_code == 403
    changed = dict(demo_document, description="sneaky")
    response = viewer_client.post(reverse("sessions:template_import"), {"document": json.dumps(changed)})
    assert response.status_code == 403
    assert TemplateVersion.objects.count() == 1
    page = html(viewer_client.get(reverse("sessions:template", args=["mobile-pay"])))
    assert "Upload a new version" not in page and "Export JSON" in page


def test_roles_rank_and_superuser_is_admin(users, django_user_model):
    viewer, editor, admin = users["viewer"], users["editor"], users["admin"]
    assert (user_role(viewer), user_role(editor), user_role(admin), user_role(users["norole"])) == ("viewer", "editor", "admin", None)
    assert has_role(admin, "editor") and has_role(editor, "viewer") and not has_role(viewer, "editor")
    root = django_user_model.objects.create_superuser("root", password="x")
    assert user_role(root) == "admin"


def test_create_luna_user_is_idempotent_and_sets_exactly_one_role(client, capsys):
    call_command("create_luna_user", "ana", "--password", "pw-12345678", "--role", "viewer")
    call_command("create_luna_user", "ana", "--password", "pw-12345678", "--role", "admin", "--token")
    out = capsys.readouterr().out
    assert "created ana (viewer)" in out and "updated ana (admin)" in out
    from django.contrib.auth import get_user_model

    ana = get_user_model().objects.get(username="ana")
    assert list(ana.groups.values_list("name", flat=True)) == ["admin"]
    assert ana.is_superuser and ana.is_staff
    call_command("create_luna_user", "ana", "--role", "editor")
    ana.refresh_from_db()
    assert list(ana.groups.values_list("name", flat=True)) == ["editor"] and not ana.is_superuser
    assert client.login(username="ana", password="pw-12345678")  # password kept when omitted


# ---- search page ---------------------------------------------------------------------------------------

def test_search_page_lists_sessions_newest_first_with_details(demo_sessions, viewer_client):
    page = html(viewer_client.get(reverse("sessions:search")))
    assert result_keys(page) == ["ORD-1005", "ORD-1005", "ORD-1004", "ORD-1003", "ORD-1002", "ORD-1001"]
    assert "6 sessions" in page
    assert "2024-05-01 08:00:00.000Z" in page  # start in UTC
    assert "Paid but not delivered" in page and "sev-high" in page  # primary conclusion label and colour
    assert "Delivered more than once" in page and "sev-critical" in page
    assert "1m 35s" in page and "40.0 s" in page  # durations
    assert "50%" in page and ">split<" in page


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"key": "ORD-1002"}, ["ORD-1002"]),
        ({"field": "trans_id", "value": "TX-9003"}, ["ORD-1003"]),
        ({"field": "amount_value", "value": "30"}, ["ORD-1002"]),
        ({"conclusion": "callback_missing"}, ["ORD-1003"]),
        ({"since": "2024-05-01T09:00", "until": "2024-05-02"}, ["ORD-1003", "ORD-1002"]),
        ({"q": "TX-9001"}, ["ORD-1001"]),
        ({"q": "ORD-1004"}, ["ORD-1004"]),
        ({"status": "open", "template": "mobile-pay"}, ["ORD-1005"]),
    ],
)
def test_search_page_filters(demo_sessions, viewer_client, params, expected):
    assert result_keys(html(viewer_client.get(reverse("sessions:search"), params))) == expected


def test_search_page_shows_form_errors_instead_of_results(demo_sessions, viewer_client):
    page = html(viewer_client.get(reverse("sessions:search"), {"since": "someday", "field": "channel"}))
    assert result_keys(page) == []
    assert "Enter an ISO date or datetime" in page and "Give both a field name and a value" in page


def test_search_page_paginates_and_keeps_the_filters(demo_template, viewer_client):
    for i in range(120):
        make_session(demo_template, SessionSpec(f"K-{i:03d}", i * 1000, payment_events(f"K-{i:03d}", ""), {"channel": "bulk"}, ["abandoned"]), 5000 + i)
    first_response = viewer_client.get(reverse("sessions:search"), {"field": "channel", "value": "bulk"})
    first = html(first_response)
    assert len(result_keys(first)) == 50 and "120 sessions" in first and "Sessions 1–50" in first
    assert result_keys(first)[0] == "K-119"
    token = first_response.context["page_obj"].next_token
    assert f'href="?field=channel&amp;value=bulk&amp;cursor={token}"' in first
    second_response = viewer_client.get(reverse("sessions:search"), {"field": "channel", "value": "bulk", "cursor": token})
    third_token = second_response.context["page_obj"].next_token
    third = html(viewer_client.get(reverse("sessions:search"), {"field": "channel", "value": "bulk", "cursor": third_token}))
    assert result_keys(third) == [f"K-{i:03d}" for i in range(19, -1, -1)] and "Sessions 101–120" in third
    assert "120 sessions" in third  # the first page's count, carried by the cursor


def test_search_page_query_count_does_not_grow_with_results(demo_template, viewer_client, django_assert_max_num_queries, settings):
    settings.LUNA_COUNT_TIME_MS = 10_000  # a loaded machine must not stop the count or histogram early (a fallback read)
    for i in range(60):
        fields = {"channel": "x", "trans_id": f"T-{i}"}
        spec = SessionSpec(f"N-{i:03d}", i * 1000, payment_events(f"N-{i:03d}", f"T-{i}"), fields, ["lost_order", "callback_missing"])
        make_session(demo_template, spec, 7000 + i)
    viewer_client.get(reverse("sessions:search"))  # warm the session/auth caches equally for both runs
    # auth session + user + role, template ids, catalog, q-box ids, the conclusion's selectivity, the page's ids, rows,
    # templates, conclusions, template choices, saved searches, the duration histogram (one bounded read, inside a
    # savepoint in tests: +2); the same bound holds whatever the number of rows (no per-row query)
    with django_assert_max_num_queries(16):
        page = html(viewer_client.get(reverse("sessions:search"), {"q": "T-3", "conclusion": "lost_order"}))
    assert result_keys(page) == ["N-003"]
    with django_assert_max_num_queries(17):  # a full page: plus the bounded count (+2 for its savepoint in tests)
        assert len(result_keys(html(viewer_client.get(reverse("sessions:search"))))) == 50


# ---- session page --------------------------------------------------------------------------------------

def test_session_page_greys_missing_nodes(demo_sessions, viewer_client):
    page = html(viewer_client.get(reverse("sessions:detail", args=[demo_sessions["lost"].pk])))
    for node in ("callback", "delivery"):
        box = re.search(rf'<div class="node([^"]*)" id="node-{node}">(.*?)</div>\s*(?:<div class="node-event|</div>)', page, re.S)
        assert box and "missing" in box.group(1), node
    assert re.search(r'<div class="node" id="node-verified">', page)
    assert page.count('<span class="badge state-missing">missing</span>') == 2
    assert "Paid but not delivered" in page and "Channel callback missing" in page


def test_session_page_shows_both_deliveries_with_offsets_and_raw_records(demo_sessions, viewer_client):
    page = html(viewer_client.get(reverse("sessions:detail", args=[demo_sessions["duplicate"].pk])))
    assert "×2" in page
    assert "+40.0 s" in page and "+1m 35s" in page and "+32.5 s" in page
    assert "raw record #1" in page and "raw record #2" in page
    assert "&quot;delivery_no&quot;: 2" in page  # pretty-printed raw JSON of the second delivery
    assert "supplement · trans_id" in page
    assert page.index('id="node-verified"') < page.index('id="node-callback"') < page.index('id="node-delivery"')
    timeline = page[page.index("<h2>Timeline</h2>"):]
    assert timeline.count('<span class="badge supp">supplement</span>') == 3  # callback + 2 deliveries
    assert "TX-9002" in page and "amount_value" in page and ">30<" in page  # fields table, 30.0 shown as 30


def test_session_page_links_split_parts(demo_sessions, viewer_client):
    page = html(viewer_client.get(reverse("sessions:detail", args=[demo_sessions["split_a"].pk])))
    assert f'href="{reverse("sessions:detail", args=[demo_sessions["split_b"].pk])}"' in page and "next part" in page
    page = html(viewer_client.get(reverse("sessions:detail", args=[demo_sessions["split_b"].pk])))
    assert "previous part" in page


def test_unknown_session_is_404(demo_sessions, viewer_client):
    assert viewer_client.get(reverse("sessions:detail", args=[42])).status_code == 404


# ---- templates -----------------------------------------------------------------------------------------

def test_template_list_shows_versions_and_session_counts(demo_sessions, viewer_client):
    page = html(viewer_client.get(reverse("sessions:templates")))
    row = re.search(r"<strong>mobile-pay</strong>.*?</tr>", page, re.S).group(0)
    assert re.findall(r'<td class="num">(?:<a [^>]+>)?([^<]+)', row) == ["v1", "1", "6"]


def test_template_page_shows_document_and_export_for_editors(demo_template, editor_client, demo_document):
    page = html(editor_client.get(reverse("sessions:template", args=["mobile-pay"])))
    assert "&quot;complete_when&quot;" in page and "Export JSON" in page and "Upload a new version" in page
    response = editor_client.get(reverse("sessions:template_export", args=["mobile-pay"]))
    assert response["Content-Disposition"] == 'attachment; filename="mobile-pay-v1.json"'
    assert json.loads(response.content) == demo_document
    assert editor_client.get(reverse("sessions:template_export", args=["mobile-pay"]), {"version": 9}).status_code == 404


def test_upload_of_a_bad_document_shows_every_error(demo_template, demo_document, editor_client):
    doc = copy.deepcopy(demo_document)
    doc["nodes"][2]["source"] = "fax"
    doc["fields"][0]["expr"] = "order.amount +"
    doc["session"]["gap"] = "soon"
    with pytest.raises(TemplateError) as expected:
        compile_template(doc)
    page = html(editor_client.post(reverse("sessions:template_import"), {"document": json.dumps(doc)}))
    listed = re.findall(r'<li class="mono">(.*?)</li>', page, re.S)
    assert len(listed) == len(expected.value.errors) >= 3 and f"{len(listed)} problems" in page
    assert [unescape(item) for item in listed] == expected.value.errors
    assert any(item.startswith("nodes.voucher.source") for item in expected.value.errors)
    assert TemplateVersion.objects.count() == 1


def test_upload_rejects_invalid_json_with_its_position(demo_template, editor_client):
    page = html(editor_client.post(reverse("sessions:template_import"), {"document": '{"name": "x",\n  oops}'}))
    assert "Invalid JSON at line 2, column 3" in page


def test_an_editors_upload_becomes_a_draft_that_opens_in_the_wizard(demo_template, demo_document, editor_client):
    from studio.models import Draft

    changed = dict(demo_document, description="Now with a longer gap")
    upload = SimpleUploadedFile("mobile-pay.json", json.dumps(changed).encode(), content_type="application/json")
    response = editor_client.post(reverse("sessions:template_import"), {"file": upload}, follow=True)
    draft = Draft.objects.get()
    assert response.redirect_chain[-1][0] == f"/studio/drafts/{draft.pk}/?step=review" and draft.document == changed
    assert f"mobile-pay: imported as draft {draft.pk}" in html(response) and "Now with a longer gap" in html(response)
    assert AnalysisTemplate.objects.get().versions.count() == 1, "only an admin activates it"
    same = SimpleUploadedFile("again.json", json.dumps(demo_document).encode())
    response = editor_client.post(reverse("sessions:template_import"), {"file": same}, follow=True)
    assert "unchanged; current version is v1" in html(response) and Draft.objects.count() == 1


def test_an_editor_cannot_activate_on_import(demo_template, demo_document, editor_client):
    body = {"document": json.dumps(dict(demo_document, description="now")), "activate": "on"}
    page = html(editor_client.post(reverse("sessions:template_import"), body))
    assert "This needs the admin role." in page and TemplateVersion.objects.count() == 1


def test_an_admin_activates_on_import_only_as_the_single_admin(demo_template, demo_document, users, settings):
    from studio.models import AuditEntry

    admin = logged_in(users["admin"])
    body = {"document": json.dumps(dict(demo_document, description="now")), "activate": "on"}
    assert "another admin approves" in html(admin.post(reverse("sessions:template_import"), body))
    assert TemplateVersion.objects.count() == 1
    settings.LUNA_STUDIO_SINGLE_ADMIN = True
    response = admin.post(reverse("sessions:template_import"), body, follow=True)
    assert "mobile-pay: activated as v2." in html(response) and TemplateVersion.objects.count() == 2
    assert [a.action for a in AuditEntry.objects.order_by("pk")] == ["proposed", "approved", "activated"]


def test_upload_form_enforces_csrf(demo_template, demo_document, users):
    from studio.models import Draft

    client = logged_in(users["editor"], enforce_csrf_checks=True)
    body = {"document": json.dumps(dict(demo_document, description="csrf"))}
    assert client.post(reverse("sessions:template_import"), body).status_code == 403
    assert not Draft.objects.exists()
    client.get(reverse("sessions:template", args=["mobile-pay"]))  # the page with the form sets the cookie
    token = client.cookies["csrftoken"].value
    response = client.post(reverse("sessions:template_import"), {**body, "csrfmiddlewaretoken": token})
    assert response.status_code == 302 and Draft.objects.count() == 1


def test_import_page_accepts_a_brand_new_template(demo_document, editor_client):
    from studio.models import Draft

    doc = dict(demo_document, name="second-flow")
    response = editor_client.post(reverse("sessions:template_import"), {"document": json.dumps(doc)})
    assert response.status_code == 302 and Draft.objects.get().name == "second-flow"


# ---- dead letters --------------------------------------------------------------------------------------

def test_dead_letter_page_groups_and_filters(dead_letters, viewer_client):
    url = reverse("sessions:dead_letters", args=["mobile-pay"])
    page = html(viewer_client.get(url))
    counts = page[page.index("By source and reason"):page.index("<h2>Lines</h2>")]
    assert re.search(r"bad JSON: Expecting value</a></td>\s*<td class=\"num\">2</td>", counts)
    assert "{not json" in page and "mobile-pay/billing/part-0.jsonl:3" in page
    filtered = html(viewer_client.get(url, {"source": "client"}))
    lines = filtered[filtered.index("<h2>Lines</h2>"):]
    assert "no session key" in lines and "{not json" not in lines
    assert viewer_client.get(reverse("sessions:dead_letters", args=["nope"])).status_code == 404


def test_logout_is_a_post_and_ends_the_session(users):
    client = Client()
    client.force_login(users["viewer"])
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("sessions:search")).status_code == 302


def test_static_css_is_local(viewer_client, users):
    page = html(viewer_client.get(reverse("sessions:search")))
    assert "/static/luna/luna.css" in page and "http" not in re.sub(r"https?://testserver", "", page.split("<body>")[0])
    assert DEMO_PATH.exists() and Session.objects.count() == 0

"""Per-worker caches (sessions/services/stamps.py): what another process changes is seen on the next request, a
request reads the stamp once, and the cheaper search paths give what the generic ones give."""
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from sessions.api.serializers import SessionListSerializer
from sessions.filters import SessionFilterSet
from sessions.models import AnalysisTemplate, TemplateVersion
from sessions.services import catalog, search, stamps
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def test_a_template_another_process_adds_is_searched_on_the_next_request(demo_sessions, users):
    client = token_client(users["viewer"])
    assert client.get("/api/sessions/", {"template": "other"}).json()["count"] == 0
    # As another worker would: no signal reaches this process, only the rows change.
    AnalysisTemplate.objects.bulk_create([AnalysisTemplate(name="other")])
    other = AnalysisTemplate.objects.get(name="other")
    assert search.resolve_template_ids("other") == [other.pk]
    assert catalog.templates().ids("") == sorted([other.pk, *catalog.templates().ids("mobile-pay")],
                                                 key=lambda pk: AnalysisTemplate.objects.get(pk=pk).name)


def test_a_version_saved_elsewhere_changes_the_catalog(demo_template):
    before = catalog.catalog([demo_template.pk])
    assert "brand_new_field" not in before.fields
    document = dict(TemplateVersion.objects.get(template=demo_template).document)
    document["fields"] = [*document.get("fields", []), {"name": "brand_new_field", "expr": "1"}]
    TemplateVersion.objects.bulk_create([TemplateVersion(template=demo_template, number=99, document=document, fingerprint="x")])
    assert "brand_new_field" in catalog.catalog([demo_template.pk]).fields


def test_a_role_granted_or_taken_elsewhere_applies_to_the_next_request(demo_sessions, db):
    user = make_user("later", None)
    client = token_client(user)
    assert client.get("/api/sessions/").status_code == 403
    membership = get_user_model().groups.through
    membership.objects.bulk_create([membership(user=user, group=Group.objects.get_or_create(name="viewer")[0])])
    assert client.get("/api/sessions/").status_code == 200
    membership.objects.filter(user=user).delete()  # a queryset delete: no m2m signal
    assert client.get("/api/sessions/").status_code == 403


def test_a_request_reads_the_stamp_once_and_a_key_lookup_needs_three_queries(demo_sessions, users):
    client = token_client(users["viewer"])
    client.get("/api/sessions/", {"key": "ORD-1001"})  # warm the worker's caches
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/sessions/", {"key": "ORD-1001"}).status_code == 200
    sqls = [query["sql"] for query in queries.captured_queries]
    assert sum("luna_template_version" in sql for sql in sqls) == 1  # the stamp, nothing else about templates
    assert not any("auth_group" in sql for sql in sqls)
    assert len(sqls) <= 3, sqls  # token with the stamp (api/authentication.py), ids, rows with their conclusions


def test_outside_a_request_the_stamp_is_read_on_every_use(demo_template):
    with CaptureQueriesContext(connection) as queries:
        stamps.current()
        stamps.current()
    assert len(queries.captured_queries) == 2


def test_page_rows_equal_the_generic_rows(demo_sessions):
    generic = list(search.search_queryset())
    fast = search.page_rows([row.pk for row in generic])
    assert SessionListSerializer(fast, many=True).data == SessionListSerializer(generic, many=True).data
    with CaptureQueriesContext(connection) as queries:
        for row in fast:
            assert row.template.name == "mobile-pay" and list(row.conclusions.all()) is not None
    assert not queries.captured_queries
    assert search.page_rows([]) == [] and search.page_rows([424242]) == []


def test_filtersets_made_at_once_keep_their_own_filters(demo_sessions):
    """The filters are shallow copies per instance: each one's methods must run on its own FilterSet."""
    first = SessionFilterSet(QueryDict("key=ORD-1001"), queryset=search.search_queryset())
    second = SessionFilterSet(QueryDict("key=ORD-1002"), queryset=search.search_queryset())
    assert first.filters["key"] is not second.filters["key"]
    assert first.filters["key"].filter.f is first.filters["key"] and first.filters["key"].parent is first
    keys_second = {row.session_key for row in second.qs}
    keys_first = {row.session_key for row in first.qs}
    assert (keys_first, keys_second) == ({"ORD-1001"}, {"ORD-1002"})
    assert type(first.form) is type(second.form) and first.form.fields["key"] is not second.form.fields["key"]

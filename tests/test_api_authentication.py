"""The prepared token lookup (sessions/api/authentication.py) answers as DRF's TokenAuthentication does."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings, strategies as st
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.test import APIClient

from sessions.api.authentication import PreparedTokenAuthentication

pytestmark = pytest.mark.django_db


def with_token(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_a_token_gives_its_user_and_itself_in_one_query(users):
    token = Token.objects.create(user=users["viewer"])
    with CaptureQueriesContext(connection) as queries:
        user, found = PreparedTokenAuthentication().authenticate_credentials(token.key)
    assert len(queries.captured_queries) == 1
    expected_user, expected = TokenAuthentication().authenticate_credentials(token.key)
    assert (user.pk, user.username, user.is_active, user.is_superuser, user.last_login, user.date_joined) == (
        expected_user.pk, expected_user.username, expected_user.is_active, expected_user.is_superuser,
        expected_user.last_login, expected_user.date_joined)
    assert (found.key, found.user_id, found.created, found.user is user) == (expected.key, expected.user_id, expected.created, True)
    assert with_token(token.key).get("/api/sessions/").status_code == 200


def test_unknown_tokens_and_inactive_users_are_refused_with_drfs_messages(users):
    token = Token.objects.create(user=users["viewer"])
    users["viewer"].is_active = False
    users["viewer"].save()
    for key, message in ((token.key, "User inactive or deleted."), ("not-a-token", "Invalid token.")):
        with pytest.raises(AuthenticationFailed, match=message):
            PreparedTokenAuthentication().authenticate_credentials(key)
        response = with_token(key).get("/api/sessions/")
        assert response.status_code == 403 and response.json()["detail"] == message  # 403: session auth comes first


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.text(st.characters(min_codepoint=33, max_codepoint=255), min_size=1, max_size=80))
def test_any_token_text_is_a_4xx_never_a_500(users, key):
    assert with_token(key).get("/api/sessions/").status_code in (401, 403)


@pytest.mark.parametrize("key", ["\ud800", "a\x00b", "k" * 10_000, "NaN", "😀", ""])
def test_poison_token_text_is_refused_not_an_error(users, key):
    with pytest.raises(AuthenticationFailed, match="Invalid token."):
        PreparedTokenAuthentication().authenticate_credentials(key)

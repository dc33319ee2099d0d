"""Token authentication with its lookup compiled once per worker (issue 12).

DRF's TokenAuthentication reads the token with `select_related("user").get(key=…)`: the ORM compiles that statement
and builds both instances on every API request, ~0.7 ms of CPU of a ~5 ms key lookup. The same statement, compiled
once (services/prepared.py), returns one value tuple that becomes the token and its user, and carries the request's
stamp (services/stamps.py), which would otherwise take a round trip of its own. Same answers and errors.
"""
from django.contrib.auth import get_user_model
from django.db import connections
from django.db.models import Field
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from ..services import prepared, stamps

_STAND_IN = ("stand-in token",)


def _columns(model) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


def _lookup(token_columns: list[str], user_columns: list[str]):
    """The token, its user and the request's stamp (services/stamps.py): one statement, one round trip."""
    # A plain Field: the values as the driver gives them (no converter), as stamps.current() reads them.
    stamp = {f"stamp_{index}": RawSQL(sql, (), output_field=Field()) for index, sql in enumerate(stamps.columns(connections["default"]))}
    return Token.objects.filter(key=_STAND_IN[0]).annotate(**stamp).values_list(
        *token_columns, *(f"user__{name}" for name in user_columns), *stamp)


def _storable(key: str) -> bool:
    """Could `key` be a stored token's key? Not longer than the column, and encodable (a lone surrogate cannot even
    be sent to the driver: it was a 500)."""
    if len(key) > Token._meta.get_field("key").max_length:
        return False
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class PreparedTokenAuthentication(authentication.TokenAuthentication):
    """`Authorization: Token <key>`, as DRF's, through a prepared lookup."""

    def authenticate_credentials(self, key: str):
        if self.get_model() is not Token:  # a custom token model: DRF's own lookup
            return super().authenticate_credentials(key)
        if not _storable(key):  # no stored token is that text: refused as unknown, never sent to the database
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        token_columns, user_columns = _columns(Token), _columns(get_user_model())
        rows = prepared.values("token-and-user", lambda: _lookup(token_columns, user_columns), _STAND_IN, [key])
        if not rows:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        values, split, end = rows[0], len(token_columns), len(token_columns) + len(user_columns)
        token = Token.from_db("default", token_columns, values[:split])
        user = get_user_model().from_db("default", user_columns, values[split:end])
        stamps.adopt(values[end:])
        Token.user.field.set_cached_value(token, user)
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return (user, token)

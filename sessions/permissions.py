"""Roles (SPEC §6): viewer < editor < admin, held as Django groups; one helper for views and the API.

Roles are ranked so a check reads "at least editor"; a superuser counts as admin. A signed-in user in no
role group can sign in but sees nothing (403), so accounts created by hand never leak data by accident.
"""
from typing import Any

from django.contrib.auth.mixins import AccessMixin
from django.core.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission

from .choices import Role
from .services.stamps import StampedCache

RANK: dict[str, int] = {Role.VIEWER: 1, Role.EDITOR: 2, Role.ADMIN: 3}
_CACHE_ATTR = "_luna_role"
# The role from the user's groups, per user id, kept per worker while no group membership changes (services/stamps.py):
# one query fewer on every request. is_active and is_superuser come from the user's own row, read on each request.
_group_roles = StampedCache("memberships")


def user_role(user: Any) -> Role | None:
    """The highest role the user holds (cached on the user object for the request), or None."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if not hasattr(user, _CACHE_ATTR):
        role = Role.ADMIN if user.is_superuser else _group_roles.get(user.pk, lambda: _role_of_groups(user))
        setattr(user, _CACHE_ATTR, role)
    return getattr(user, _CACHE_ATTR)


def _role_of_groups(user: Any) -> Role | None:
    names = set(user.groups.filter(name__in=RANK).values_list("name", flat=True))
    held = sorted(names, key=RANK.__getitem__)
    return Role(held[-1]) if held else None


def has_role(user: Any, role: str) -> bool:
    """True when the user's role ranks at least `role`."""
    held = user_role(user)
    return held is not None and RANK[held] >= RANK[role]


class RoleRequiredMixin(AccessMixin):
    """Class-based view mixin: `required_role` for GET/HEAD, `write_role` for anything that changes data."""

    required_role: str = Role.VIEWER
    write_role: str | None = None

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        needed = self.required_role if request.method in SAFE_METHODS else (self.write_role or self.required_role)
        if not has_role(request.user, needed):
            raise PermissionDenied(f"This page needs the {needed} role.")
        return super().dispatch(request, *args, **kwargs)
    # Templates show or hide actions by role (sessions.context_processors.role); the checks above enforce it.


class HasRole(BasePermission):
    """DRF permission: `action_roles[action]`, else `read_role` for safe methods and `write_role` otherwise."""

    message = "Your role does not allow this."

    def has_permission(self, request, view) -> bool:
        needed = getattr(view, "action_roles", {}).get(getattr(view, "action", None))
        if needed is None:
            safe = request.method in SAFE_METHODS
            needed = getattr(view, "read_role", Role.VIEWER) if safe else getattr(view, "write_role", Role.ADMIN)
        return has_role(request.user, needed)

"""The user's role on every page, error pages included (they render without a view's context)."""
from .choices import Role
from .permissions import has_role, user_role


def role(request) -> dict:
    user = getattr(request, "user", None)
    return {"luna_role": user_role(user), "can_edit": has_role(user, Role.EDITOR)}

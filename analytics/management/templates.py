"""The templates a command names: shared by the analytics commands that take several names."""
from django.core.management.base import CommandError
from django.db.models import QuerySet

from sessions.models import AnalysisTemplate


def templates_named(names: list[str]) -> QuerySet:
    """Every template when `names` is empty, else the named ones (by name); an unknown name is a CommandError."""
    templates = AnalysisTemplate.objects.order_by("name")
    if not names:
        return templates
    templates = templates.filter(name__in=names)
    unknown = set(names) - set(templates.values_list("name", flat=True))
    if unknown:
        raise CommandError(f"no template named {', '.join(sorted(unknown))}")
    return templates

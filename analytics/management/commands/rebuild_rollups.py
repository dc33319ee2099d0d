"""manage.py rebuild_rollups <template>: recompute a template's rollups (and its session fact rows) from its stored sessions."""
from django.core.management.base import BaseCommand, CommandError

from sessions.models import AnalysisTemplate

from ...services.rollups import rebuild


class Command(BaseCommand):
    help = "Recompute a template's macro rollups and session fact rows from its stored sessions (run with its job stopped)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("template")

    def handle(self, *args, **options) -> None:
        template = AnalysisTemplate.objects.filter(name=options["template"]).first()
        if template is None:
            raise CommandError(f"no template named {options['template']!r}")
        self.stdout.write(f"{rebuild(template)} sessions counted into the rollups of {template.name}")

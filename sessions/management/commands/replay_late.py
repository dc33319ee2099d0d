"""`manage.py replay_late <template>`: re-apply queued late events to the stored sessions."""
from django.core.management.base import BaseCommand, CommandError

from sessions.models import AnalysisTemplate
from sessions.services.late_replay import replay_late_events


class Command(BaseCommand):
    help = "Re-apply events that arrived beyond allowed_lateness to their stored sessions (new revisions)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("template")
        parser.add_argument("--limit", type=int, default=1000)

    def handle(self, *args, **options) -> None:
        template = AnalysisTemplate.objects.filter(name=options["template"]).first()
        if template is None:
            raise CommandError(f"no template named {options['template']!r}")
        result = replay_late_events(template, limit=options["limit"])
        self.stdout.write(
            f"replayed {result.replayed} late events into {len(result.keys)} session keys; "
            f"{result.sessions_written} sessions written, {result.dead_letters} dead letters"
        )

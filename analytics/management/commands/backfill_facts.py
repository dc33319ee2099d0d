"""manage.py backfill_facts [template …]: fill the session fact table from stored sessions, in batches."""
from django.core.management.base import BaseCommand, CommandError

from sessions.models import AnalysisTemplate

from ...services.facts import BACKFILL_BATCH, backfill


class Command(BaseCommand):
    help = "Write the session fact rows of stored sessions (every template, or the ones named), one batch per transaction."

    def add_arguments(self, parser) -> None:
        parser.add_argument("templates", nargs="*")
        parser.add_argument("--batch", type=int, default=BACKFILL_BATCH)

    def handle(self, *args, **options) -> None:
        if options["batch"] < 1:
            raise CommandError("--batch must be at least 1")
        templates = AnalysisTemplate.objects.order_by("name")
        if options["templates"]:
            templates = templates.filter(name__in=options["templates"])
            unknown = set(options["templates"]) - set(templates.values_list("name", flat=True))
            if unknown:
                raise CommandError(f"no template named {', '.join(sorted(unknown))}")
        for template in templates:
            self.stdout.write(f"{backfill(template, options['batch'])} sessions written to the fact table of {template.name}")

"""manage.py backfill_facts [template …]: fill the session fact table from stored sessions, in batches."""
from django.core.management.base import BaseCommand, CommandError

from ...services.facts import BACKFILL_BATCH, backfill
from ..templates import templates_named


class Command(BaseCommand):
    help = "Write the session fact rows of stored sessions (every template, or the ones named), one batch per transaction."

    def add_arguments(self, parser) -> None:
        parser.add_argument("templates", nargs="*")
        parser.add_argument("--batch", type=int, default=BACKFILL_BATCH)

    def handle(self, *args, **options) -> None:
        if options["batch"] < 1:
            raise CommandError("--batch must be at least 1")
        for template in templates_named(options["templates"]):
            self.stdout.write(f"{backfill(template, options['batch'])} sessions written to the fact table of {template.name}")

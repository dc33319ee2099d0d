"""manage.py refresh_replica (--template NAME … | --all) [--limit N]: rebuild stale days of the fact table's
columnar replica now, printing each day's build time."""
from django.core.management.base import BaseCommand, CommandError

from ...services import replica
from ..templates import templates_named


class Command(BaseCommand):
    help = "Rebuild the stale days of the columnar replica (the beat task does a few per minute)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--template", action="append", default=[], help="a template's name (repeatable)")
        parser.add_argument("--all", action="store_true", help="every template")
        parser.add_argument("--limit", type=int, default=None, help="at most this many days per template")

    def handle(self, *args, **options) -> None:
        if bool(options["template"]) == options["all"]:
            raise CommandError("name templates with --template, or pass --all")
        if options["limit"] is not None and options["limit"] < 1:
            raise CommandError("--limit must be at least 1")
        for template in templates_named(options["template"]):
            built = replica.refresh(options["limit"], template)
            for day in built:
                self.stdout.write(f"{template.name} day {day.day_ms} (version {day.version}): {day.rows:,} rows in {day.seconds:.2f} s")
            total = sum(day.seconds for day in built)
            self.stdout.write(f"{template.name}: {len(built)} days built in {total:.1f} s; status {replica.status(template)['stale_days']} stale")

"""`manage.py export_template name [--version N] [-o file]`: the stored document as JSON."""
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sessions.models import TemplateVersion
from sessions.services.templates import dump_document, get_version


class Command(BaseCommand):
    help = "Export an analysis template document (the current version unless --version is given)."

    def create_parser(self, prog_name: str, subcommand: str, **kwargs) -> CommandParser:
        # `--version N` names a template version here, replacing Django's own --version flag.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="Template name.")
        parser.add_argument("--version", dest="number", type=int, default=None, help="Version number.")
        parser.add_argument("-o", "--output", type=Path, default=None, help="Write to this file instead of stdout.")

    def handle(self, *args, name: str, number: int | None, output: Path | None, **options) -> None:
        try:
            version = get_version(name, number)
        except TemplateVersion.DoesNotExist:
            raise CommandError(f"no template {name!r}" + (f" version {number}" if number else "")) from None
        text = dump_document(version.document)
        if output is None:
            self.stdout.write(text, ending="")
            return
        output.write_text(text, encoding="utf-8")
        self.stderr.write(f"{version.template.name} v{version.number} → {output}")

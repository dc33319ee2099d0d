"""`manage.py import_template file.json`: validate and store a template document (idempotent)."""
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from sessions.services import json_documents
from sessions.services.templates import save_template


class Command(BaseCommand):
    help = "Import an analysis template document; prints 'name vN' or every validation error."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="Template document (JSON).")

    def handle(self, *args, file: Path, **options) -> None:
        try:
            document = json_documents.loads(file.read_bytes())
        except OSError as exc:
            raise CommandError(f"{file}: {exc.strerror}") from None
        except json_documents.DocumentError as exc:
            raise CommandError(f"{file}: {exc}") from None
        try:
            result = save_template(document)
        except ValidationError as exc:
            for message in exc.messages:
                self.stderr.write(f"  {message}")
            raise CommandError(f"{file}: {len(exc.messages)} error(s); nothing saved") from None
        version = result.version
        note = "" if result.created else " (unchanged)"
        self.stdout.write(f"{version.template.name} v{version.number}{note}")
        for line in result.rollout:
            self.stdout.write(f"  {line}")

"""`manage.py import_template file.json [--activate]`: validate a template document and hand it to review.

Without --activate the document becomes a studio draft (an editor proposes it, an admin activates it); with
--activate it is saved as the template's version at once: for admins and automation (whoever runs manage.py
has the server), audited as such. Re-importing the current document changes nothing."""
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from sessions.services import json_documents
from studio.services import imports


class Command(BaseCommand):
    help = "Import an analysis template document as a studio draft (or, with --activate, as its new version)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="Template document (JSON).")
        parser.add_argument("--activate", action="store_true",
                            help="Save it as the template's version now (admins, automation); audited.")
        parser.add_argument("--owner", help="Username owning the draft (default: none).")

    def handle(self, *args, file: Path, activate: bool, owner: str | None, **options) -> None:
        try:
            document = json_documents.loads(file.read_bytes())
        except OSError as exc:
            raise CommandError(f"{file}: {exc.strerror}") from None
        except json_documents.DocumentError as exc:
            raise CommandError(f"{file}: {exc}") from None
        user = None
        if owner and not activate:
            user = get_user_model().objects.filter(username=owner).first()
            if user is None:
                raise CommandError(f"no user {owner!r}")
        try:
            result = imports.import_document(document, user, activate=activate)
        except ValidationError as exc:
            for message in exc.messages:
                self.stderr.write(f"  {message}")
            raise CommandError(f"{file}: {len(exc.messages)} error(s); nothing saved") from None
        if result.outcome == "draft":
            self.stdout.write(f"{result.name}: draft {result.draft.pk} ({result.wizard_url}); an editor proposes it, "
                              f"an admin activates it (or import with --activate)")
            return
        note = " (unchanged)" if result.outcome == "unchanged" else ""
        self.stdout.write(f"{result.name} v{result.version.number}{note}")
        for line in result.rollout:
            self.stdout.write(f"  {line}")

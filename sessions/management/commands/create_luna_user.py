"""`manage.py create_luna_user NAME --password P --role viewer|editor|admin`: idempotent account setup."""
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from rest_framework.authtoken.models import Token

from sessions.choices import Role
from sessions.permissions import RANK


class Command(BaseCommand):
    help = "Create or update a user with exactly one Luna role (admin also becomes a superuser)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--password", default=None, help="Set this password (kept unchanged when omitted).")
        parser.add_argument("--role", choices=[r.value for r in Role], default=Role.VIEWER.value)
        parser.add_argument("--email", default=None)
        parser.add_argument("--token", action="store_true", help="Print the user's API token (created if missing).")

    @transaction.atomic
    def handle(self, *args, username: str, password: str | None, role: str, email: str | None, token: bool, **options) -> None:
        user, created = get_user_model().objects.get_or_create(username=username)
        if password is not None:
            user.set_password(password)
        elif created:
            user.set_unusable_password()
        if email is not None:
            user.email = email
        user.is_superuser = user.is_staff = role == Role.ADMIN
        user.is_active = True
        user.save()
        groups = {name: Group.objects.get_or_create(name=name)[0] for name in RANK}
        user.groups.remove(*[g for name, g in groups.items() if name != role])
        user.groups.add(groups[role])
        self.stdout.write(f"{'created' if created else 'updated'} {username} ({role})")
        if token:
            self.stdout.write(Token.objects.get_or_create(user=user)[0].key)

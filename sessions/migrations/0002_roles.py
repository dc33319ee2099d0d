"""Create the three role groups (SPEC §6); membership, not model permissions, decides access."""
from django.db import migrations

ROLES = ("viewer", "editor", "admin")


def create_roles(apps, schema_editor) -> None:
    group = apps.get_model("auth", "Group")
    for name in ROLES:
        group.objects.get_or_create(name=name)


def delete_roles(apps, schema_editor) -> None:
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("luna_sessions", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_roles, delete_roles)]

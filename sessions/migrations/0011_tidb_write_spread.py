from django.db import migrations

from sessions.tidb import spread_writes


class Migration(migrations.Migration):
    """On TiDB only: AUTO_RANDOM ids for the tables every emission inserts into (no single-region write hotspot)."""

    dependencies = [("luna_sessions", "0010_console")]

    operations = [migrations.RunPython(spread_writes, migrations.RunPython.noop)]

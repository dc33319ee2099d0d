"""Conclusions by (session, name): search probes "does this session hold rule X" per session, newest first; with
(session) alone MariaDB materialised the whole conclusion table for the probe instead (issue 12)."""
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("luna_sessions", "0011_tidb_write_spread"),
    ]

    operations = [
        # The new index first: deletes by session keep an index all along.
        migrations.AddIndex(
            model_name="sessionconclusion",
            index=models.Index(fields=["session", "name"], name="luna_concl_session_name_idx"),
        ),
        migrations.RemoveIndex(model_name="sessionconclusion", name="luna_concl_session_idx"),
    ]

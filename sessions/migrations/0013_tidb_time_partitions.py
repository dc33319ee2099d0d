from django.db import migrations

from sessions.tidb_partitions import partition_by_time


class Migration(migrations.Migration):
    """On TiDB only: the session, conclusion and rule-error tables partitioned by day of the session start, the start
    in their clustered primary key (retention then drops days whole). Nothing on MariaDB/MySQL/SQLite."""

    dependencies = [("luna_sessions", "0012_conclusion_session_name_index")]

    operations = [migrations.RunPython(partition_by_time, migrations.RunPython.noop)]

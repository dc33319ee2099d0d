"""The job-run tables now belong to the `operations` app: removed from this app's state only (the tables stay)."""
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('luna_sessions', '0015_session_duration_index'),
    ]

    operations = [migrations.SeparateDatabaseAndState(state_operations=[
        migrations.RemoveField(
            model_name='jobrun',
            name='previous',
        ),
        migrations.RemoveField(
            model_name='jobrun',
            name='version',
        ),
        migrations.RemoveField(
            model_name='sinkoutage',
            name='template',
        ),
        migrations.DeleteModel(
            name='JobAttempt',
        ),
        migrations.DeleteModel(
            name='JobRun',
        ),
        migrations.DeleteModel(
            name='SinkOutage',
        ),
    ], database_operations=[])]

"""The child tables' single-column FK indexes go: a composite index leading with the same column covers every use
(1 M sessions: 113 MiB each for luna_session_field's session and template indexes, written on every insert)."""
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('luna_sessions', '0013_tidb_time_partitions'),
    ]

    operations = [
        migrations.AlterField(
            model_name='session',
            name='template',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='sessions', to='luna_sessions.analysistemplate'),
        ),
        migrations.AlterField(
            model_name='sessionconclusion',
            name='session',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='conclusions', to='luna_sessions.session'),
        ),
        migrations.AlterField(
            model_name='sessionconclusion',
            name='template',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='luna_sessions.analysistemplate'),
        ),
        migrations.AlterField(
            model_name='sessionfield',
            name='session',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='fields', to='luna_sessions.session'),
        ),
        migrations.AlterField(
            model_name='sessionfield',
            name='template',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='luna_sessions.analysistemplate'),
        ),
        migrations.AlterField(
            model_name='sessionnode',
            name='session',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='nodes', to='luna_sessions.session'),
        ),
        migrations.AlterField(
            model_name='sessionruleerror',
            name='session',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='rule_errors', to='luna_sessions.session'),
        ),
        migrations.AlterField(
            model_name='sessionruleerror',
            name='template',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='luna_sessions.analysistemplate'),
        ),
    ]

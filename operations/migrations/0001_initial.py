"""Job runs, repair attempts and sink outages, moved here from `luna_sessions` with their tables unchanged.

State only: the tables were created by luna_sessions 0001/0004/0007 (db_table names kept). Content types follow
the models, so admin history and permissions keep pointing at them.
"""
import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


MODELS = ("jobrun", "jobattempt", "sinkoutage")


def move_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.using(schema_editor.connection.alias).filter(app_label="luna_sessions", model__in=MODELS).update(
        app_label="operations")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('luna_sessions', '0016_job_models_to_operations'),
    ]

    operations = [migrations.SeparateDatabaseAndState(state_operations=[
        migrations.CreateModel(
            name='JobRun',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('mode', models.CharField(choices=[('continuous', 'Continuous (monitor new files)'), ('bounded', 'Bounded (backfill files present, then exit)')], max_length=16)),
                ('state', models.CharField(choices=[('created', 'Created'), ('submitting', 'Submitting'), ('running', 'Running'), ('restarting', 'Restarting'), ('stopping', 'Stopping (savepoint)'), ('stopped', 'Stopped (savepoint)'), ('finished', 'Finished'), ('failed', 'Failed'), ('canceled', 'Canceled')], default='created', max_length=16)),
                ('target', models.CharField(help_text="'local' mini-cluster or the cluster REST URL.", max_length=200)),
                ('flink_job_id', models.CharField(blank=True, default='', max_length=64)),
                ('started_at', models.DateTimeField(blank=True, null=True)),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
                ('error', models.TextField(blank=True, default='', help_text="Flink's or the submitter's error, in full.")),
                ('stats', models.JSONField(blank=True, default=dict)),
                ('restored_from', models.CharField(blank=True, default='', help_text='Savepoint or checkpoint restored.', max_length=500)),
                ('savepoint_path', models.CharField(blank=True, default='', help_text='Savepoint taken when stopped.', max_length=500)),
                ('last_checkpoint_id', models.BigIntegerField(blank=True, null=True)),
                ('last_checkpoint_at', models.DateTimeField(blank=True, null=True)),
                ('last_checkpoint_path', models.CharField(blank=True, default='', max_length=500)),
                ('running_since', models.DateTimeField(blank=True, help_text='When the current Flink job last became RUNNING.', null=True)),
                ('uptime_ms', models.BigIntegerField(blank=True, null=True)),
                ('records_in', models.BigIntegerField(default=0, help_text='Lines read by the sources.')),
                ('records_out', models.BigIntegerField(default=0, help_text='Records handed to the database writer.')),
                ('throughput', models.FloatField(blank=True, help_text='Records in per second between two polls.', null=True)),
                ('backpressure', models.CharField(blank=True, default='', help_text='Worst vertex: ok, low or high.', max_length=8)),
                ('backpressure_ratio', models.FloatField(blank=True, null=True)),
                ('watermark_ms', models.BigIntegerField(blank=True, null=True)),
                ('lag_ms', models.BigIntegerField(blank=True, help_text='Newest input file time minus the watermark.', null=True)),
                ('restarts', models.IntegerField(default=0, help_text="Flink's own restarts plus the monitor's resubmissions.")),
                ('carried_restarts', models.IntegerField(default=0, help_text='Restarts of earlier Flink jobs of this run.')),
                ('next_attempt_at', models.DateTimeField(blank=True, help_text='Back-off: no resubmission before this.', null=True)),
                ('state_since', models.DateTimeField(blank=True, help_text='When a task put the run in a transitional state (submitting, stopping).', null=True)),
                ('polled_at', models.DateTimeField(blank=True, null=True)),
                ('live_version', models.PositiveIntegerField(blank=True, help_text='Newest template version published to the running job (hot update).', null=True)),
                ('notice', models.TextField(blank=True, default='', help_text='What the operator must do, e.g. restart for a source change.')),
                ('previous', models.ForeignKey(blank=True, help_text='The run this one was restarted from.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='operations.jobrun')),
                ('version', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='job_runs', to='luna_sessions.templateversion')),
            ],
            options={
                'verbose_name': 'job run',
                'db_table': 'luna_job_run',
                'ordering': ['-id'],
            },
        ),
        migrations.CreateModel(
            name='JobAttempt',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('number', models.PositiveIntegerField(help_text='1 for the first consecutive resubmission, and so on.')),
                ('kind', models.CharField(choices=[('resubmit', 'Resubmitted from the latest checkpoint'), ('taskmanager', 'Started a lost TaskManager'), ('cluster', 'Started the managed cluster')], max_length=16)),
                ('outcome', models.CharField(choices=[('submitted', 'Submitted'), ('succeeded', 'Succeeded'), ('failed', 'Failed'), ('gave_up', 'Gave up (limit reached)')], max_length=16)),
                ('reason', models.TextField(blank=True, default='', help_text="Why: Flink's failure cause or what was missing.")),
                ('failed_job_id', models.CharField(blank=True, default='', max_length=64)),
                ('new_job_id', models.CharField(blank=True, default='', max_length=64)),
                ('restored_from', models.CharField(blank=True, default='', max_length=500)),
                ('error', models.TextField(blank=True, default='')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('run', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='attempts', to='operations.jobrun')),
            ],
            options={
                'verbose_name': 'job repair attempt',
                'db_table': 'luna_job_attempt',
                'ordering': ['-id'],
            },
        ),
        migrations.CreateModel(
            name='SinkOutage',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('started_ms', models.BigIntegerField()),
                ('ended_ms', models.BigIntegerField()),
                ('retries', models.PositiveIntegerField(default=0)),
                ('error', models.CharField(help_text='The first error the writer saw.', max_length=500)),
                ('template', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, related_name='sink_outages', to='luna_sessions.analysistemplate')),
            ],
            options={
                'db_table': 'luna_sink_outage',
                'ordering': ['-started_ms'],
            },
        ),
        migrations.AddIndex(
            model_name='jobrun',
            index=models.Index(fields=['state'], name='luna_job_run_state_idx'),
        ),
        migrations.AddIndex(
            model_name='sinkoutage',
            index=models.Index(fields=['template', 'started_ms'], name='luna_sink_outage_idx'),
        ),
    ], database_operations=[]), migrations.RunPython(move_content_types, migrations.RunPython.noop)]

"""Rotation moves out of incidents into its own app: Django's state only, no table changes.

The four tables keep their incidents_… names (`db_table`), so this migration creates the
models in rotation's state and touches no table; incidents 0006 removes them from the
incidents state. 0002 renames their content types, so permissions and roles keep working.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import rotation.models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("incidents", "0005_approval_expired"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='SupabaseProject',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('environment', models.CharField(choices=[('production', 'Production'), ('staging', 'Staging')], max_length=16, unique=True)),
                        ('project_ref', models.CharField(max_length=64)),
                        ('primary_owner', models.CharField(max_length=200, verbose_name='Primary owner (name)')),
                        ('owner_email', models.EmailField(blank=True, max_length=254)),
                        ('owner_slack', models.CharField(blank=True, help_text='Slack member id (U…) or @handle for direct messages', max_length=80)),
                        ('service_role_secret_id', models.CharField(help_text='AWS Secrets Manager id, e.g. prod/easymo/supabase/service-role', max_length=200)),
                        ('vercel_project', models.CharField(blank=True, max_length=100)),
                        ('vercel_env_vars', models.JSONField(blank=True, default=list, help_text='Vercel env vars holding the key, e.g. ["SUPABASE_SERVICE_ROLE_KEY"]', validators=[rotation.models.validate_env_var_names])),
                        ('vercel_targets', models.JSONField(blank=True, default=list, help_text='e.g. ["production", "preview"]', validators=[rotation.models.validate_vercel_targets])),
                        ('function_secret_names', models.JSONField(blank=True, default=list, help_text='Edge Function secrets holding the key, e.g. ["SERVICE_ROLE_KEY"]', validators=[rotation.models.validate_secret_names])),
                        ('edge_functions', models.JSONField(blank=True, default=list, help_text='Edge Functions using the key, e.g. ["voucher-png", "send-whatsapp"]', validators=[rotation.models.validate_function_slugs])),
                    ],
                    options={
                        'db_table': 'incidents_supabaseproject',
                        'ordering': ['environment'],
                    },
                ),
                migrations.CreateModel(
                    name='RotationRun',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('leaked_fingerprint', models.CharField(max_length=40)),
                        ('leaked_kind', models.CharField(choices=[('secret', 'API secret key (sb_secret_…): revoked by id'), ('legacy', 'Legacy JWT service_role key: legacy keys disabled')], max_length=8)),
                        ('leaked_key_id', models.CharField(blank=True, max_length=100)),
                        ('new_fingerprint', models.CharField(blank=True, max_length=40)),
                        ('status', models.CharField(choices=[('prepared', 'Prepared'), ('running', 'Running'), ('failed', 'Failed'), ('rolled_back', 'Rolled Back'), ('succeeded', 'Succeeded'), ('cancelled', 'Cancelled')], default='prepared', max_length=16)),
                        ('failed_step', models.PositiveSmallIntegerField(blank=True, null=True)),
                        ('error', models.CharField(blank=True, max_length=500)),
                        ('prepared_by_name', models.CharField(max_length=150)),
                        ('created_at', models.DateTimeField()),
                        ('started_at', models.DateTimeField(blank=True, null=True)),
                        ('heartbeat_at', models.DateTimeField(blank=True, null=True)),
                        ('finished_at', models.DateTimeField(blank=True, null=True)),
                        ('rotated_at', models.DateTimeField(blank=True, null=True)),
                        ('incident', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='rotations', to='incidents.incident')),
                        ('prepared_by', models.ForeignKey(db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('project', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='rotation.supabaseproject')),
                    ],
                    options={
                        'db_table': 'incidents_rotationrun',
                        'ordering': ['-id'],
                    },
                ),
                migrations.CreateModel(
                    name='RotationStep',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('number', models.PositiveSmallIntegerField()),
                        ('key', models.CharField(max_length=40)),
                        ('status', models.CharField(choices=[('pending', 'Pending'), ('running', 'Running'), ('done', 'Done'), ('failed', 'Failed'), ('rolled_back', 'Rolled Back')], default='pending', max_length=16)),
                        ('detail', models.TextField(blank=True)),
                        ('data', models.JSONField(blank=True, default=dict)),
                        ('attempts', models.PositiveSmallIntegerField(default=0)),
                        ('started_at', models.DateTimeField(blank=True, null=True)),
                        ('finished_at', models.DateTimeField(blank=True, null=True)),
                        ('run', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='steps', to='rotation.rotationrun')),
                    ],
                    options={
                        'db_table': 'incidents_rotationstep',
                        'ordering': ['run', 'number'],
                        'constraints': [models.UniqueConstraint(fields=('run', 'number'), name='rotation_step_unique')],
                    },
                ),
                migrations.CreateModel(
                    name='RotationTarget',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('secrets_manager', 'Secrets Manager'), ('vercel_env', 'Vercel Env'), ('function_secret', 'Function Secret'), ('supabase_key', 'Supabase Key')], max_length=20)),
                        ('name', models.CharField(max_length=200)),
                        ('existed', models.BooleanField(default=True)),
                        ('external_id', models.CharField(blank=True, max_length=100)),
                        ('fingerprint', models.CharField(blank=True, max_length=40)),
                        ('state', models.CharField(blank=True, max_length=40)),
                        ('updated_at', models.DateTimeField()),
                        ('run', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='targets', to='rotation.rotationrun')),
                    ],
                    options={
                        'db_table': 'incidents_rotationtarget',
                        'ordering': ['run', 'kind', 'name'],
                        'constraints': [models.UniqueConstraint(fields=('run', 'kind', 'name'), name='rotation_target_unique')],
                    },
                ),
                migrations.AddConstraint(
                    model_name='rotationrun',
                    constraint=models.UniqueConstraint(condition=models.Q(('status__in', ['prepared', 'running', 'failed', 'rolled_back'])), fields=('project',), name='rotation_one_unfinished_per_project'),
                ),
            ],
        ),
    ]

"""Drop the single-column index Django gives a foreign key where a composite index
beginning with the same column serves its lookups: one index fewer to write
per row. Only the index is dropped (SQLite would otherwise rebuild the
table, and with it lose the triggers on it).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    # Only the models as cases 0008 left them: an index is dropped, nothing else
    # moves (the latest accounts or contacts migration is not needed).
    dependencies = [
        ('cases', '0008_moderation'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='case',
                    name='assignee',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='assigned_cases', to=settings.AUTH_USER_MODEL),
                ),
                migrations.AlterField(
                    model_name='case',
                    name='contact',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='cases', to='contacts.contact'),
                ),
                migrations.AlterField(
                    model_name='case',
                    name='team',
                    field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='cases', to='accounts.team'),
                ),
                migrations.AlterField(
                    model_name='slaclock',
                    name='case',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='clocks', to='cases.case'),
                ),
            ],
            database_operations=[
                migrations.RunSQL('DROP INDEX IF EXISTS "cases_case_assignee_id_28343c2e"',
                                  'CREATE INDEX IF NOT EXISTS "cases_case_assignee_id_28343c2e" ON "cases_case" ("assignee_id")'),
                migrations.RunSQL('DROP INDEX IF EXISTS "cases_case_contact_id_c383cc8a"',
                                  'CREATE INDEX IF NOT EXISTS "cases_case_contact_id_c383cc8a" ON "cases_case" ("contact_id")'),
                migrations.RunSQL('DROP INDEX IF EXISTS "cases_case_team_id_60679476"',
                                  'CREATE INDEX IF NOT EXISTS "cases_case_team_id_60679476" ON "cases_case" ("team_id")'),
                migrations.RunSQL('DROP INDEX IF EXISTS "cases_slaclock_case_id_fbe4b67d"',
                                  'CREATE INDEX IF NOT EXISTS "cases_slaclock_case_id_fbe4b67d" ON "cases_slaclock" ("case_id")'),
            ],
        ),
    ]

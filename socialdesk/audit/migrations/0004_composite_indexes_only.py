"""Drop the single-column index Django gives a foreign key where a composite index
beginning with the same column serves its lookups: one index fewer to write
per row. Only the index is dropped (SQLite would otherwise rebuild the
table, and with it lose the triggers on it).
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0003_append_only_triggers'),
        ('cases', '0008_moderation'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='event',
                    name='case',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='events', to='cases.case'),
                ),
            ],
            database_operations=[
                migrations.RunSQL('DROP INDEX IF EXISTS "audit_event_case_id_9c4de9b9"',
                                  'CREATE INDEX IF NOT EXISTS "audit_event_case_id_9c4de9b9" ON "audit_event" ("case_id")'),
            ],
        ),
    ]

"""Drop the single-column index Django gives a foreign key where a composite index
beginning with the same column serves its lookups: one index fewer to write
per row. Only the index is dropped (SQLite would otherwise rebuild the
table, and with it lose the triggers on it).
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0009_composite_indexes_only'),
        ('ingestion', '0004_post_queue_state'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='post',
                    name='case',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='posts', to='cases.case'),
                ),
            ],
            database_operations=[
                migrations.RunSQL('DROP INDEX IF EXISTS "ingestion_post_case_id_4bb27eae"',
                                  'CREATE INDEX IF NOT EXISTS "ingestion_post_case_id_4bb27eae" ON "ingestion_post" ("case_id")'),
            ],
        ),
    ]

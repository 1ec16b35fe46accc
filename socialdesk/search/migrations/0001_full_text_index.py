"""The full-text index over posts and identities (see socialdesk/search/index.py)."""

from django.db import migrations


def create(apps, schema_editor):
    from socialdesk.search.index import create_index

    create_index(schema_editor.connection)


def drop(apps, schema_editor):
    from socialdesk.search.index import drop_index

    drop_index(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("ingestion", "0003_post_account"),
        ("contacts", "0002_contact_account_owner"),
    ]
    operations = [migrations.RunPython(create, drop)]

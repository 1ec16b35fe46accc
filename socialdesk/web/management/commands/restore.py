import sqlite3
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader

from socialdesk.audit.actions import do_record
from socialdesk.lib.sqlite_backup import BackupError, restore
from socialdesk.web.management.commands._database import embedded_database

# Tables any socialdesk database has had since its first version.
CORE_TABLES = ("django_migrations", "accounts_user", "audit_event", "cases_case",
               "contacts_contact", "ingestion_post")


def check_socialdesk(backup: sqlite3.Connection) -> None:
    """Refuse a file that is not a socialdesk database this version can upgrade to its own."""
    tables = {name for (name,) in backup.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")}
    missing = [table for table in CORE_TABLES if table not in tables]
    if missing:
        raise BackupError(f"a SQLite database, but not socialdesk's (it has no "
                          f"{', '.join(missing)} table{'s' if len(missing) > 1 else ''})")
    applied = set(backup.execute("SELECT app, name FROM django_migrations"))
    loader = MigrationLoader(None, ignore_no_migrations=True)
    unknown = sorted(f"{app}.{name}" for app, name in applied
                     if app in loader.migrated_apps and (app, name) not in loader.disk_migrations)
    if unknown:
        shown = ", ".join(unknown[:5]) + (", …" if len(unknown) > 5 else "")
        raise BackupError(f"made by a newer socialdesk (its schema has {shown}, which this "
                          "version does not know): upgrade socialdesk first, then restore")


class Command(BaseCommand):
    help = ("Replace the embedded database with a backup made by `socialdesk backup`, and "
            "upgrade it to this version's schema. The database as it was is kept beside it as "
            "NAME.before-restore-TIME. Stop the desk first. With PostgreSQL, use pg_restore.")

    def add_arguments(self, parser):
        parser.add_argument("path", help="the backup file")
        parser.add_argument("--force", action="store_true",
                            help="restore even though another process has the database open "
                                 "(its writes in the meantime may be lost)")

    def handle(self, *args, **options):
        database = embedded_database("restore", options["path"])
        source = Path(options["path"]).expanduser()
        try:
            restored = restore(source, database, options["force"], check=check_socialdesk)
        except BackupError as e:
            raise CommandError(str(e)) from None
        if restored.kept:
            self.stdout.write(f"The database as it was is kept in {restored.kept}.")
        if not restored.locked:
            self.stderr.write("The database was in use while it was restored: restart every "
                              "socialdesk process that uses it.")
        upgraded = self._upgrade()
        do_record("database.restored", source=str(source.resolve()),
                  kept=str(restored.kept) if restored.kept else None, migrations=upgraded)
        self.stdout.write(f"Restored {database} from {source}"
                          + (f", and upgraded its schema ({upgraded} migration"
                             f"{'' if upgraded == 1 else 's'})." if upgraded else "."))
        if restored.locked:
            # An idle desk holds no connection, so the lock cannot tell that it runs.
            self.stdout.write("If a socialdesk process was left running, restart it: it may "
                              "still hold settings it read from the database as it was.")

    def _upgrade(self) -> int:
        """Bring a backup from an older version to this version's schema."""
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if plan:
            call_command("migrate", interactive=False, verbosity=0)
        return len(plan)

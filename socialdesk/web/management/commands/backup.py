from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from socialdesk.lib.sqlite_backup import BackupError, backup
from socialdesk.web.management.commands._database import embedded_database


class Command(BaseCommand):
    help = ("Copy the embedded database to a file: a consistent snapshot, safe to take while "
            "the desk runs, checked before it is kept. With PostgreSQL, use pg_dump.")

    def add_arguments(self, parser):
        parser.add_argument("path", help="the backup file to write, or a directory to write a "
                                         "dated one in")
        parser.add_argument("--force", action="store_true", help="replace an existing file")

    def handle(self, *args, **options):
        database = embedded_database("backup", options["path"])
        try:
            written = backup(database, Path(options["path"]).expanduser(), options["force"])
        except BackupError as e:
            raise CommandError(str(e)) from None
        size = written.stat().st_size / 1_000_000
        self.stdout.write(f"Backed up {database} to {written} ({size:,.1f} MB, integrity "
                          "checked).")

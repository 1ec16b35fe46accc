"""What `backup` and `restore` share: the embedded database's file, or PostgreSQL's tools.

The two commands live with `serve` and `demo`, the commands that run the desk as
a whole rather than one app's data; a backup holds every app's tables. The
leading underscore keeps Django from taking this module for a command.
"""

import shlex
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError

# PostgreSQL has its own consistent, online tools; a copy made here would be
# neither faster nor safer. Both take the DATABASE_URL as libpq reads it.
POSTGRES_INSTEAD = {
    "backup": ("The database is PostgreSQL (DATABASE_URL): back it up with pg_dump, which "
               "takes a consistent snapshot while the desk runs:\n"
               '  pg_dump --format=custom --file={path} "$DATABASE_URL"'),
    "restore": ("The database is PostgreSQL (DATABASE_URL): stop the desk (serve, worker, "
                "scheduler), restore with pg_restore, then bring the schema up to date:\n"
                '  pg_restore --clean --if-exists --no-owner --single-transaction '
                '--dbname="$DATABASE_URL" {path}\n'
                "  socialdesk migrate"),
}


def embedded_database(verb: str, path: str) -> Path:
    """The SQLite database file, or a CommandError that says what to do instead."""
    database = settings.DATABASES["default"]
    name = str(database["NAME"])
    if database["ENGINE"] == "django.db.backends.sqlite3":
        if name == ":memory:" or "mode=memory" in name:
            raise CommandError(f"socialdesk {verb}: the database is in memory; there is no file")
        return Path(name)
    if database["ENGINE"] == "django.db.backends.postgresql":
        raise CommandError(POSTGRES_INSTEAD[verb].format(path=shlex.quote(path)))
    raise CommandError(f"socialdesk {verb} works on the embedded SQLite database only")

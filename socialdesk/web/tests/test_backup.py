"""`socialdesk backup` and `socialdesk restore`: what a copy holds, what a restore puts
back and keeps, and what each refuses.

The commands work on a database file, so the desk-level tests run the real
command in fresh processes over a data directory of their own (whatever
database the rest of the suite uses); the copying itself is specified on small
SQLite files.
"""

import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
from django.db.migrations.loader import MigrationLoader

from conftest import own_desks_only_once, post, write_jsonl
from socialdesk.lib import sqlite_backup
from socialdesk.lib.sqlite_backup import BackupError, backup, restore
from socialdesk.web.management.commands.restore import CORE_TABLES, check_socialdesk

pytestmark = own_desks_only_once

DATABASE = "socialdesk.sqlite3"


def socialdesk(*args, data_dir, **env):
    environ = {**os.environ, "SOCIALDESK_DATA_DIR": str(data_dir), "TRIAGE_PROCESSES": "1",
               **env}
    if "DATABASE_URL" not in env:
        environ.pop("DATABASE_URL", None)
    environ.pop("CELERY_BROKER_URL", None)
    return subprocess.run([sys.executable, "-m", "socialdesk.cli", *args], env=environ,
                          capture_output=True, text=True, timeout=120)


def ok(result):
    assert result.returncode == 0, result.stderr
    return result


def rows(path: Path) -> dict[str, list[tuple]]:
    """Every row of every table, in a stable order: what a desk's database holds."""
    with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
        tables = [name for (name,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name")]
        return {table: sorted(db.execute(f'SELECT * FROM "{table}"'), key=repr)
                for table in tables}


def count(path: Path, table: str, where: str = "1") -> int:
    with closing(sqlite3.connect(path)) as db:
        return db.execute(f"SELECT count(*) FROM {table} WHERE {where}").fetchone()[0]


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    """A data directory with an empty, current database: migrating once saves every test's time."""
    data = tmp_path_factory.mktemp("migrated")
    ok(socialdesk("migrate", data_dir=data))
    return data


@pytest.fixture
def desk(migrated, tmp_path):
    data = tmp_path / "desk"
    shutil.copytree(migrated, data)
    return data


# The desk as an operator uses it

def test_a_restore_puts_back_exactly_what_the_backup_holds(desk, tmp_path):
    database = desk / DATABASE
    ok(socialdesk("import", str(write_jsonl(tmp_path / "monday.jsonl", [
        post("1", "my kettle stopped working after a week, really disappointed", author="carol"),
        post("2", "the kettle scalded my son's arm, this is dangerous", author="dave"),
        post("3", "how do I descale it?", author="erin"),
    ])), data_dir=desk))
    saved = tmp_path / "monday.sqlite3"
    result = ok(socialdesk("backup", str(saved), data_dir=desk))
    assert f"to {saved}" in result.stdout
    backed_up = rows(saved)
    assert backed_up["cases_case"] and backed_up["contacts_contact"]
    assert backed_up["audit_event"] and len(backed_up["ingestion_post"]) == 3

    # Later: more posts arrive, and a customer's data is erased.
    ok(socialdesk("import", str(write_jsonl(tmp_path / "tuesday.jsonl", [
        post("4", "still waiting for my refund, two weeks now", author="frank"),
        post("5", "the lid broke off, I want a replacement", author="grace"),
    ])), data_dir=desk))
    erased = backed_up["contacts_contact"][0][0]
    ok(socialdesk("contacts", "erase", str(erased), "--confirm", str(erased), data_dir=desk))
    before_restore = rows(database)
    assert before_restore != backed_up

    result = ok(socialdesk("restore", str(saved), data_dir=desk))
    assert f"Restored {database} from {saved}." in result.stdout

    restored = rows(database)
    restore_events = [row for row in restored["audit_event"] if "database.restored" in row]
    assert len(restore_events) == 1
    restored["audit_event"] = [row for row in restored["audit_event"]
                               if row not in restore_events]
    assert restored == backed_up
    # Nothing stored before the restore is lost: the replaced database is kept.
    [kept] = desk.glob(f"{DATABASE}.before-restore-*")
    assert f"kept in {kept}" in result.stdout
    assert rows(kept) == before_restore


def test_a_backup_from_an_older_version_is_upgraded_on_restore(desk, tmp_path):
    loader = MigrationLoader(None, ignore_no_migrations=True)
    [latest] = loader.graph.leaf_nodes("accounts")
    [previous] = [parent.key for parent in loader.graph.node_map[latest].parents
                  if parent.key[0] == "accounts"]
    ok(socialdesk("manage", "migrate", "accounts", previous[1], data_dir=desk))
    old = backup(desk / DATABASE, tmp_path / "old.sqlite3")

    result = ok(socialdesk("restore", str(old), data_dir=desk))
    assert "upgraded its schema (1 migration)" in result.stdout
    assert count(desk / DATABASE, "django_migrations", f"app = 'accounts' AND name = "
                                                       f"'{latest[1]}'") == 1


def test_a_backup_into_a_directory_gets_a_dated_name(desk, tmp_path):
    folder = tmp_path / "backups"
    folder.mkdir()
    result = ok(socialdesk("backup", str(folder), data_dir=desk))
    [written] = folder.iterdir()
    assert written.name.startswith("socialdesk-") and written.suffix == ".sqlite3"
    assert f"to {written}" in result.stdout


def test_the_commands_refuse_bad_input_with_a_message_and_a_non_zero_exit(desk, tmp_path):
    existing = tmp_path / "existing.sqlite3"
    existing.write_text("yesterday's")
    result = socialdesk("backup", str(existing), data_dir=desk)
    assert result.returncode == 1 and "already exists (--force replaces it)" in result.stderr
    assert existing.read_text() == "yesterday's"

    notes = tmp_path / "notes.txt"
    notes.write_text("not a database\n" * 100)
    result = socialdesk("restore", str(notes), data_dir=desk)
    assert result.returncode == 1 and f"{notes} is not a SQLite database" in result.stderr
    assert not list(desk.glob("*.before-restore-*"))


@pytest.mark.parametrize(("verb", "advice"), [
    ("backup", 'pg_dump --format=custom --file=/backups/desk.dump "$DATABASE_URL"'),
    ("restore", 'pg_restore --clean --if-exists --no-owner --single-transaction '
                '--dbname="$DATABASE_URL" /backups/desk.dump'),
])
def test_with_postgresql_the_commands_name_postgresqls_own_tools(tmp_path, verb, advice):
    # The port answers nothing: the commands must refuse before connecting.
    result = socialdesk(verb, "/backups/desk.dump", data_dir=tmp_path,
                        DATABASE_URL="postgres://desk:secret@127.0.0.1:9/desk")
    assert result.returncode == 1
    assert "The database is PostgreSQL" in result.stderr
    assert advice in result.stderr
    assert "secret" not in result.stderr


# Copying

def make_database(path: Path, values=(1, 2, 3)) -> Path:
    with closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE IF NOT EXISTS t (v)")
        db.executemany("INSERT INTO t VALUES (?)", [(v,) for v in values])
        db.commit()
    return path


def values(path: Path) -> list:
    with closing(sqlite3.connect(path)) as db:
        return [v for (v,) in db.execute("SELECT v FROM t ORDER BY v")]


def test_a_backup_holds_transactions_still_in_the_write_ahead_log(tmp_path):
    database = make_database(tmp_path / "desk.db")
    with closing(sqlite3.connect(database)) as writer:
        writer.execute("PRAGMA wal_autocheckpoint=0")
        writer.execute("INSERT INTO t VALUES (4)")
        writer.commit()
        assert (tmp_path / "desk.db-wal").stat().st_size > 0
        written = backup(database, tmp_path / "copy.db")
    assert values(written) == [1, 2, 3, 4]
    # One self-contained file: nothing beside it needed.
    with closing(sqlite3.connect(written)) as copy:
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_a_backup_replaces_an_existing_file_only_with_force(tmp_path):
    database = make_database(tmp_path / "desk.db")
    target = make_database(tmp_path / "old-backup.db", values=[9])
    with pytest.raises(BackupError, match="already exists"):
        backup(database, target)
    assert values(target) == [9]
    backup(database, target, force=True)
    assert values(target) == [1, 2, 3]


def test_a_copy_that_fails_its_integrity_check_is_not_kept(tmp_path, monkeypatch):
    database = make_database(tmp_path / "desk.db")
    target = tmp_path / "backups" / "copy.db"
    target.parent.mkdir()
    monkeypatch.setattr(sqlite_backup, "integrity_problems", lambda db, quick=False: ["bad page"])
    with pytest.raises(BackupError, match="integrity check: bad page"):
        backup(database, target)
    assert list(target.parent.iterdir()) == []


def test_a_backup_refuses_a_missing_database_and_a_missing_directory(tmp_path):
    with pytest.raises(BackupError, match="no database yet"):
        backup(tmp_path / "none.db", tmp_path / "copy.db")
    with pytest.raises(BackupError, match="no such directory"):
        backup(make_database(tmp_path / "desk.db"), tmp_path / "nowhere" / "copy.db")


def test_a_backup_refuses_to_overwrite_the_database_itself(tmp_path):
    database = make_database(tmp_path / "desk.db")
    with pytest.raises(BackupError, match="the database itself"):
        backup(database, database, force=True)
    assert values(database) == [1, 2, 3]


# Restoring

def test_a_restore_keeps_the_database_it_replaces(tmp_path):
    database = make_database(tmp_path / "desk.db", values=[7, 8])
    saved = backup(make_database(tmp_path / "other.db"), tmp_path / "saved.db")
    restored = restore(saved, database)
    assert values(database) == [1, 2, 3]
    assert restored.locked
    assert restored.kept.name.startswith("desk.db.before-restore-")
    assert values(restored.kept) == [7, 8]


def test_a_restore_into_a_fresh_directory_creates_the_database(tmp_path):
    saved = backup(make_database(tmp_path / "other.db"), tmp_path / "saved.db")
    restored = restore(saved, tmp_path / "fresh.db")
    assert values(tmp_path / "fresh.db") == [1, 2, 3]
    assert restored.kept is None


def test_a_restore_refuses_while_another_process_has_the_database_open(tmp_path):
    database = make_database(tmp_path / "desk.db", values=[7, 8])
    saved = backup(make_database(tmp_path / "other.db"), tmp_path / "saved.db")
    with closing(sqlite3.connect(database)) as desk:  # a desk between two statements
        desk.execute("SELECT count(*) FROM t").fetchone()
        with pytest.raises(BackupError, match="in use by another process.*--force"):
            restore(saved, database)
        assert values(database) == [7, 8]
        assert not list(tmp_path.glob("desk.db.before-restore-*"))

        restored = restore(saved, database, force=True)
        assert not restored.locked
        assert [v for (v,) in desk.execute("SELECT v FROM t ORDER BY v")] == [1, 2, 3]
    assert values(restored.kept) == [7, 8]


@pytest.mark.parametrize(("make", "message"), [
    (lambda path: None, "no such file"),
    (lambda path: path.mkdir(), "is a directory, not a backup file"),
    (lambda path: path.write_text("channel,external_id\nx,1\n"), "is not a SQLite database"),
    (lambda path: path.write_bytes(sqlite_backup.SQLITE_HEADER + b"\xff" * 200),
     "cannot be read as a SQLite database"),
])
def test_a_restore_refuses_what_is_not_a_sound_database(tmp_path, make, message):
    database = make_database(tmp_path / "desk.db")
    make(tmp_path / "backup")
    with pytest.raises(BackupError, match=message):
        restore(tmp_path / "backup", database)
    assert values(database) == [1, 2, 3]
    assert not list(tmp_path.glob("desk.db.before-restore-*"))


def test_a_restore_refuses_a_sqlite_database_that_is_not_socialdesks(tmp_path):
    database = make_database(tmp_path / "desk.db")
    other = make_database(tmp_path / "other.db")
    with pytest.raises(BackupError, match=f"{other}: a SQLite database, but not socialdesk's"):
        restore(other, database, check=check_socialdesk)
    assert values(database) == [1, 2, 3]


def test_a_restore_refuses_a_backup_made_by_a_newer_socialdesk(tmp_path):
    newer = tmp_path / "newer.db"
    with closing(sqlite3.connect(newer)) as db:
        for table in CORE_TABLES:
            db.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, app, name)")
        db.execute("INSERT INTO django_migrations (app, name) VALUES "
                   "('cases', '0001_initial'), ('cases', '9999_from_the_future')")
        db.commit()
    database = make_database(tmp_path / "desk.db")
    with pytest.raises(BackupError, match="newer socialdesk .*cases.9999_from_the_future"):
        restore(newer, database, check=check_socialdesk)
    assert values(database) == [1, 2, 3]

"""Copies of a SQLite database taken, and put back, through SQLite's online backup API.

A file copy of a database in WAL mode can miss the latest transactions (they
sit in the -wal file until a checkpoint) or catch a page half-written. The
backup API reads through SQLite's own locks, so a copy is a snapshot of one
moment even while the desk writes, and a restore is a write that other
connections see whole or not at all.

Nothing here knows Django: `restore` takes a `check` that says whether a file
is a database of the right application.
"""

import os
import sqlite3
from collections.abc import Callable
from contextlib import closing, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

SQLITE_HEADER = b"SQLite format 3\x00"
# How long a restore waits for every other connection to the database to close
# before it decides the database is in use.
LOCK_TIMEOUT_SECONDS = 2.0
# How long a copy waits behind another connection's write.
BUSY_TIMEOUT_SECONDS = 20.0


class BackupError(Exception):
    """A backup or restore refused or failed; the message tells the operator why."""


@dataclass
class Restored:
    kept: Path | None  # the database as it was before, unless there was none
    locked: bool  # False when it was in use and the restore went ahead anyway (force)


def stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def backup(database: Path, target: Path, force: bool = False) -> Path:
    """Copy `database` to `target` (a file, or a directory to put a dated file in)."""
    if not database.is_file():
        raise BackupError(f"{database}: there is no database yet, so nothing to back up")
    if target.is_dir():
        target = target / f"{database.stem}-{stamp()}{database.suffix}"
    if _same_file(target, database):
        raise BackupError(f"{target} is the database itself; choose another file")
    with closing(sqlite3.connect(database, timeout=BUSY_TIMEOUT_SECONDS)) as source:
        return copy(source, target, force)


def copy(source: sqlite3.Connection, target: Path, force: bool = False) -> Path:
    """Write a checked, self-contained copy of `source` to `target`, or nothing at all.

    The copy is made in a temporary file next to the target and renamed into
    place, so a full disk or an interrupted run never leaves a truncated file
    under the target's name, nor replaces a good older copy with one.
    """
    if target.is_dir():
        raise BackupError(f"{target} is a directory")
    if target.exists() and not force:
        raise BackupError(f"{target} already exists (--force replaces it)")
    if not target.parent.is_dir():
        raise BackupError(f"{target.parent}: no such directory")
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    _remove(partial)
    try:
        with closing(sqlite3.connect(partial)) as copied:
            # All pages in one step, under one read transaction: stepwise, every
            # write the desk commits meanwhile would restart the copy. In WAL
            # mode the desk's writers do not wait for this reader.
            source.backup(copied)
            # A backup is one file: no -wal beside it to lose on the way.
            copied.execute("PRAGMA journal_mode=DELETE")
            problems = integrity_problems(copied)
        if problems:
            raise BackupError(f"the copy failed SQLite's integrity check: {'; '.join(problems)}")
        _fsync(partial)
        os.replace(partial, target)
        _fsync(target.parent)
    except sqlite3.Error as e:
        _remove(partial)
        raise BackupError(f"copying to {target} failed: {e}") from None
    except BaseException:
        _remove(partial)
        raise
    return target


def open_backup(path: Path) -> sqlite3.Connection:
    """A read-only connection to a backup file, once it is known to be a sound SQLite database."""
    if not path.exists():
        raise BackupError(f"{path}: no such file")
    if path.is_dir():
        raise BackupError(f"{path} is a directory, not a backup file")
    with path.open("rb") as f:
        if f.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
            raise BackupError(f"{path} is not a SQLite database")
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        problems = integrity_problems(connection, quick=True)
    except sqlite3.Error as e:
        raise BackupError(f"{path} cannot be read as a SQLite database: {e}") from None
    if problems:
        connection.close()
        raise BackupError(f"{path} is damaged: {'; '.join(problems)}")
    return connection


def restore(backup_file: Path, database: Path, force: bool = False,
            check: Callable[[sqlite3.Connection], None] | None = None) -> Restored:
    """Replace the contents of `database` with `backup_file`'s, keeping the old contents.

    `check` raises BackupError, saying why, when the backup is not a database
    this application can use. The database is replaced in place, through SQLite,
    rather than by renaming files: a process that opens it afterwards sees the
    restored data, never a mix.
    """
    if database.exists() and _same_file(backup_file, database):
        raise BackupError(f"{backup_file} is the database itself")
    if not database.parent.is_dir():
        raise BackupError(f"{database.parent}: no such directory")
    with closing(open_backup(backup_file)) as source:
        if check is not None:
            try:
                check(source)
            except BackupError as e:
                raise BackupError(f"{backup_file}: {e}") from None
        had_data = database.exists() and database.stat().st_size > 0
        target, locked = _open_exclusively(database)
        if not locked and not force:
            target.close()
            raise BackupError(
                f"{database} is in use by another process: stop the processes that use it "
                "and try again, or restore anyway with --force")
        with closing(target):
            kept = None
            if had_data:
                kept = copy(target, database.with_name(f"{database.name}.before-restore-{stamp()}"))
            try:
                _replace(source, target, locked)
            except sqlite3.Error as e:
                kept_note = f"; the database as it was is kept in {kept}" if kept else ""
                raise BackupError(f"restoring into {database} failed: {e}{kept_note}") from None
        return Restored(kept=kept, locked=locked)


def integrity_problems(connection: sqlite3.Connection, quick: bool = False) -> list[str]:
    pragma = "quick_check" if quick else "integrity_check"
    rows = [row[0] for row in connection.execute(f"PRAGMA {pragma}(20)")]
    return [] if rows == ["ok"] else rows


def _open_exclusively(database: Path) -> tuple[sqlite3.Connection, bool]:
    """A connection to `database` and whether it alone holds the database.

    In EXCLUSIVE locking mode SQLite keeps the lock after the transaction ends,
    until the connection closes, so no other process can read or write while
    the old contents are kept and the new ones copied in. It is granted only
    when no other connection has the database open: a running desk, unless it
    is idle with every connection closed, makes it fail.
    """
    connection = sqlite3.connect(database, timeout=LOCK_TIMEOUT_SECONDS, isolation_level=None)
    try:
        connection.execute("PRAGMA locking_mode=EXCLUSIVE")
        connection.execute("BEGIN EXCLUSIVE")
        connection.execute("COMMIT")
        return connection, True
    except sqlite3.OperationalError:
        connection.close()
    connection = sqlite3.connect(database, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
    return connection, False


def _replace(source: sqlite3.Connection, target: sqlite3.Connection, locked: bool) -> None:
    mode = target.execute("PRAGMA journal_mode").fetchone()[0]
    # SQLite cannot copy into a WAL database whose page size differs from the
    # backup's; out of WAL, it can. Leaving WAL needs the database to itself.
    if locked and mode == "wal":
        target.execute("PRAGMA journal_mode=DELETE")
    source.backup(target)
    if locked and mode == "wal":
        target.execute("PRAGMA journal_mode=WAL")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
    except OSError:
        return False


def _fsync(path: Path) -> None:
    # Renaming a file whose data is not yet on disk can leave an empty file
    # under the new name after a power cut; so can an unsynced directory.
    with suppress(OSError):
        descriptor = os.open(path, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def _remove(partial: Path) -> None:
    for path in (partial, partial.with_name(partial.name + "-journal")):
        path.unlink(missing_ok=True)

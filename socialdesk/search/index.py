"""The full-text index over post text and authors' handles and names.

SQLite (the embedded default): external-content FTS5 tables that hold only the
index, kept in step with ingestion_post and contacts_identity by triggers, so
that a post whose text is redacted or erased, or deleted, leaves the index in
the same statement. The update triggers fire only when the indexed columns
change: the pipeline's writes of a post's case and processing state cost
nothing extra.

PostgreSQL: GIN expression indexes on to_tsvector('simple', ...), which the
database keeps up to date by itself; queries repeat the indexed expression.
"""

from django.db import connections

POST_FTS = "search_post_fts"
IDENTITY_FTS = "search_identity_fts"
# Letters and digits make words, diacritics folded: "Café" finds "cafe".
TOKENIZE = "unicode61 remove_diacritics 2"

# The indexed expressions; queries must use them verbatim for the index to serve.
PG_POST_VECTOR = "to_tsvector('simple'::regconfig, text)"
PG_IDENTITY_VECTOR = "to_tsvector('simple'::regconfig, handle || ' ' || name)"


def _fts_statements(fts: str, table: str, columns: list[str]) -> list[str]:
    cols = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    # A row leaves an external-content index by the 'delete' command with the
    # values it was indexed under: the old row's, read in the trigger.
    delete = f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old});"
    insert = f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new});"
    return [
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5({cols}, content='{table}', "
        f"content_rowid='id', tokenize='{TOKENIZE}')",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_ai AFTER INSERT ON {table} BEGIN {insert} END",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_ad AFTER DELETE ON {table} BEGIN {delete} END",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_au AFTER UPDATE OF {cols} ON {table} "
        f"BEGIN {delete} {insert} END",
    ]


SQLITE_TABLES = [
    (POST_FTS, "ingestion_post", ["text"]),
    (IDENTITY_FTS, "contacts_identity", ["handle", "name"]),
]
POSTGRES = [
    f"CREATE INDEX IF NOT EXISTS search_post_text_gin ON ingestion_post USING gin "
    f"(({PG_POST_VECTOR}))",
    f"CREATE INDEX IF NOT EXISTS search_identity_gin ON contacts_identity USING gin "
    f"(({PG_IDENTITY_VECTOR}))",
]


def _sqlite_triggers(cursor, fts: str) -> int:
    cursor.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN "
                   "(%s, %s, %s)", [f"{fts}_ai", f"{fts}_ad", f"{fts}_au"])
    return cursor.fetchone()[0]


def create_index(connection) -> None:
    """Create what is missing; an FTS table that lost a trigger is rebuilt from its
    table, since rows may have changed while nothing kept it in step."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for fts, table, columns in SQLITE_TABLES:
                complete = _sqlite_triggers(cursor, fts) == 3
                for statement in _fts_statements(fts, table, columns):
                    cursor.execute(statement)
                if not complete:
                    cursor.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")
        elif connection.vendor == "postgresql":
            for statement in POSTGRES:
                cursor.execute(statement)


def drop_index(connection) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for fts, _, _ in SQLITE_TABLES:
                for suffix in ("ai", "ad", "au"):
                    cursor.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
                cursor.execute(f"DROP TABLE IF EXISTS {fts}")
        elif connection.vendor == "postgresql":
            cursor.execute("DROP INDEX IF EXISTS search_post_text_gin")
            cursor.execute("DROP INDEX IF EXISTS search_identity_gin")


def ensure_index(using: str = "default", plan=None, **kwargs) -> None:
    """After migrate: put back triggers that a table rebuild dropped (see apps.py).

    Skipped when migrating backwards past this app's migration (the index is gone
    on purpose then) or before it was ever applied.
    """
    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    if plan and any(backwards and migration.app_label == "search"
                    for migration, backwards in plan):
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sqlite_master WHERE name = %s", [POST_FTS])
        if not cursor.fetchone()[0]:
            return
    create_index(connection)

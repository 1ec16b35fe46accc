"""Bulk writes that scale: multi-row INSERT (optionally ON CONFLICT DO NOTHING) and
UPDATE … FROM in a few statements.

Django's bulk_update builds a CASE WHEN per row and field, and bulk_create
prepares every value through the field; at thousands of rows a second that
costs more than the rest of the pipeline. SQLite (≥ 3.35) gets multi-row
VALUES. PostgreSQL gets the rows as one JSON document, read back into rows
by the server (`_rows_from_json`): the driver would otherwise turn every
value into array text in Python, quoting and escaping each string (JSON
values most of all), which cost more than the rest of the write.
"""

import json
import math
from datetime import UTC, date, datetime

from django.db import connection, models

CHUNK = 400


def bulk_update_fields(objs: list, fields: list[str], model: type[models.Model] | None = None):
    """Write the named fields of objects (model instances, or rows with `pk` and the
    fields' attribute names when `model` is given)."""
    if not objs:
        return
    model = model or type(objs[0])
    meta = model._meta
    table = connection.ops.quote_name(meta.db_table)
    pk_column = connection.ops.quote_name(meta.pk.column)
    model_fields = [meta.get_field(name) for name in fields]
    names = ["v_id"] + [f"v_{i}" for i in range(len(fields))]
    assignments = ", ".join(
        f"{connection.ops.quote_name(field.column)} = v.{names[i + 1]}"
        for i, field in enumerate(model_fields)
    )
    # The same adapters as the inserts: Field.get_db_prep_save costs more per value
    # than the rest of the write.
    postgres = connection.vendor == "postgresql"
    adapters = [(_pg_adapter if postgres else _adapter)(field) for field in model_fields]
    attnames = [field.attname for field in model_fields]
    if postgres:
        rows = [[obj.pk] + [adapt(getattr(obj, attname))
                            for adapt, attname in zip(adapters, attnames, strict=True)]
                for obj in objs]
        source, param = _rows_from_json([meta.pk, *model_fields], names, rows)
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET {assignments} FROM {source} "
                           f"WHERE {table}.{pk_column} = v.v_id", [param])
        return
    for start in range(0, len(objs), CHUNK):
        chunk = objs[start:start + CHUNK]
        params = []
        for obj in chunk:
            params.append(obj.pk)
            for adapt, attname in zip(adapters, attnames, strict=True):
                params.append(adapt(getattr(obj, attname)))
        row = "(" + ", ".join(["%s"] * len(names)) + ")"
        values = ", ".join([row] * len(chunk))
        # SQLite names VALUES columns column1, column2, …
        select = ", ".join(f"column{i + 1} AS {n}" for i, n in enumerate(names))
        sql = (f"UPDATE {table} SET {assignments} FROM (SELECT {select} FROM (VALUES {values})) "
               f"AS v WHERE {table}.{pk_column} = v.v_id")
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def insert_rows(model: type[models.Model], fields: list[str], rows: list[tuple],
                returning: bool = True) -> list[int]:
    """INSERT many rows in few statements; the new primary keys, in row order.

    Values are given as Python values for the named fields (foreign keys by id).
    Far leaner than bulk_create for the pipeline's thousands of rows a second;
    SQLite (≥ 3.35) and PostgreSQL both return keys in insertion order, which
    Django's own bulk_create relies on as well.
    """
    pk_column = connection.ops.quote_name(model._meta.pk.column)
    suffix = f" RETURNING {pk_column}" if returning else ""
    return [r[0] for r in _insert(model, fields, rows, suffix, fetch=returning)]


def insert_new_rows(model: type[models.Model], fields: list[str], rows: list[tuple],
                    unique: tuple[str, ...]) -> dict[tuple, int]:
    """INSERT the rows whose `unique` fields are not stored yet, skipping the others.

    `unique` names the fields of one of the model's unique constraints, exactly
    (ON CONFLICT needs a unique index on those columns); they must be among
    `fields`, with values that are not NULL. Returns {key: new primary key} for
    the rows inserted, the key being the tuple of the row's `unique` values as
    the database returns them (text and integers come back as given). A row
    missing from it was skipped: its key was stored already, or by a concurrent
    transaction, whose commit PostgreSQL waits for; the caller reads those ids.

    Rows are inserted, and their keys locked, in the order given: concurrent
    callers whose rows share keys must give them in one consistent order (by
    key, say), or each may wait for a key the other holds (a deadlock, which
    PostgreSQL breaks by failing one of the transactions).
    """
    if not rows:
        return {}
    meta = model._meta
    quote = connection.ops.quote_name
    key_columns = ", ".join(quote(meta.get_field(name).column) for name in unique)
    suffix = (f" ON CONFLICT ({key_columns}) DO NOTHING"
              f" RETURNING {quote(meta.pk.column)}, {key_columns}")
    return {tuple(r[1:]): r[0] for r in _insert(model, fields, rows, suffix, fetch=True)}


def delete_rows(model: type[models.Model], ids: list[int]) -> None:
    """DELETE rows by primary key, without Django's collection of related rows: for
    rows this transaction just inserted, which nothing refers to yet."""
    if not ids:
        return
    meta = model._meta
    table = connection.ops.quote_name(meta.db_table)
    pk_column = connection.ops.quote_name(meta.pk.column)
    with connection.cursor() as cursor:
        for start in range(0, len(ids), 900):
            chunk = ids[start:start + 900]
            cursor.execute(f"DELETE FROM {table} WHERE {pk_column} IN "
                           f"({', '.join(['%s'] * len(chunk))})", chunk)


def _insert(model: type[models.Model], fields: list[str], rows: list[tuple],
            suffix: str, fetch: bool) -> list[tuple]:
    """INSERT … VALUES (SQLite) or INSERT … SELECT from one JSON parameter (PostgreSQL), with
    `suffix` (ON CONFLICT, RETURNING) after it; the rows returned when `fetch`."""
    if not rows:
        return []
    meta = model._meta
    # Fields the caller leaves out take their model default (a field added
    # later must not break the bulk paths that predate it).
    defaulted = [f for f in meta.concrete_fields
                 if not f.primary_key and f.name not in fields and f.attname not in fields
                 and f.has_default()]
    if defaulted:
        fields = [*fields, *(f.name for f in defaulted)]
        tail = tuple(f.get_default() for f in defaulted)
        rows = [(*row, *tail) for row in rows]
    model_fields = [meta.get_field(name) for name in fields]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in model_fields)
    table = connection.ops.quote_name(meta.db_table)
    if connection.vendor == "postgresql":
        return _insert_json(table, columns, model_fields, rows, suffix, fetch)
    adapters = [_adapter(field) for field in model_fields]
    placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
    per_statement = max(1, min(1000, 30_000 // len(fields)))
    returned: list[tuple] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            chunk = rows[start:start + per_statement]
            params = _params(adapters, chunk)
            sql = (f"INSERT INTO {table} ({columns}) VALUES "
                   f"{', '.join([placeholder] * len(chunk))}{suffix}")
            cursor.execute(sql, params)
            if fetch:
                returned.extend(cursor.fetchall())
    return returned


def _params(adapters: list, rows: list[tuple]) -> list:
    """The rows' values, flattened, each through its column's adapter: only the
    columns that need one are touched (most hold values the driver takes as they are)."""
    adapted = [(i, adapt) for i, adapt in enumerate(adapters) if adapt is not _same]
    params = []
    for row in rows:
        if len(row) != len(adapters):
            raise ValueError(f"a row of {len(row)} values for {len(adapters)} columns")
        if adapted:
            row = list(row)
            for i, adapt in adapted:
                row[i] = adapt(row[i])
        params.extend(row)
    return params


def _insert_json(table, columns, model_fields, rows, suffix, fetch) -> list[tuple]:
    adapters = [_pg_adapter(field) for field in model_fields]
    names = [f"v_{i}" for i in range(len(model_fields))]
    adapted = [[adapt(value) for adapt, value in zip(adapters, row, strict=True)]
               for row in rows]
    # The rows are inserted, and their keys locked, in the caller's order.
    source, param = _rows_from_json(model_fields, names, adapted)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({columns}) SELECT {', '.join(names)} "
                       f"FROM {source} ORDER BY v.v_n{suffix}", [param])
        return cursor.fetchall() if fetch else []


def _rows_from_json(model_fields: list[models.Field], names: list[str], rows: list[list]
                    ) -> tuple[str, str]:
    """PostgreSQL: a FROM item `v` with the given column names (and `v_n`, the row's
    place), read from one JSON parameter; returns it with the parameter's text.

    Each row is a JSON array of its values, adapted by `_pg_adapter`. A JSON
    column takes its element as it is; any other column casts the element's
    text to its type.
    """
    columns = []
    for i, field in enumerate(model_fields):
        if isinstance(field, models.JSONField):
            columns.append(f"nullif(r -> {i}, 'null') AS {names[i]}")
        else:
            columns.append(f"(r ->> {i})::{_column_type(field)} AS {names[i]}")
    source = (f"(SELECT {', '.join(columns)}, n AS v_n "
              f"FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS e(r, n)) AS v")
    return source, _encode_json(rows)


def _column_type(field: models.Field) -> str:
    if field.is_relation:
        return field.target_field.rel_db_type(connection)
    return field.db_type(connection)


def _pg_adapter(field: models.Field):
    # What a row's JSON array holds for the column: values JSON has as they are
    # (a JSON column's value among them, unencoded), times and dates as ISO
    # text, floats that JSON lacks as the text PostgreSQL reads them from.
    if isinstance(field, models.JSONField | models.CharField | models.TextField
                  | models.IntegerField | models.BooleanField | models.ForeignKey) \
            or field.primary_key:
        return _same
    if isinstance(field, models.DateTimeField | models.DateField):
        return _isoformat
    if isinstance(field, models.FloatField):
        return _float
    return lambda value: _text(field.get_db_prep_save(value, connection))


def _isoformat(value: datetime | date | None) -> str | None:
    return None if value is None else value.isoformat()


def _float(value: float | None) -> float | str | None:
    if value is None or math.isfinite(value):
        return value
    return str(value)  # nan, inf, -inf


def _text(value):
    return value if value is None or isinstance(value, int | float | str | bool) \
        else str(value)


# Types whose Python values both drivers take as they are (foreign keys are
# written by id, an integer).
_PLAIN = (models.CharField, models.TextField, models.IntegerField, models.BooleanField,
          models.FloatField, models.ForeignKey)


def _adapter(field: models.Field):
    # Field.get_db_prep_save costs ~20 µs a JSON value; these do the same work
    # for the types the pipeline writes in bulk. Any other type goes through
    # the field, as Django would write it.
    if isinstance(field, models.JSONField):
        return _json
    if isinstance(field, models.DateTimeField):
        return _sqlite_datetime if connection.vendor == "sqlite" else _same
    if isinstance(field, _PLAIN) or field.primary_key:
        return _same
    return lambda value: field.get_db_prep_save(value, connection)


def _same(value):
    return value


# One encoder for every value: json.dumps with any option builds a new one per call.
# The separators are json.dumps's defaults, so the text is the same.
_encode_json = json.JSONEncoder(ensure_ascii=False).encode


def _json(value) -> str | None:
    if value is None:
        return None
    # Two in five of the pipeline's JSON values are an empty list or object.
    if not value and type(value) in (list, dict):
        return "[]" if type(value) is list else "{}"
    return _encode_json(value)


# The last datetime written and its text: a batch's rows share their `now`
# (opened, updated, started, processed), a third of the values in a run.
# One tuple, replaced whole, so that threads never see a value with another's text.
_last_datetime: tuple[datetime | None, str | None] = (None, None)


def _sqlite_datetime(value: datetime | None) -> str | None:
    # Django keeps SQLite datetimes as naive UTC text: "YYYY-MM-DD HH:MM:SS[.ffffff]".
    global _last_datetime
    if value is None:
        return None
    last = _last_datetime
    if value is last[0]:
        return last[1]
    if value.tzinfo is UTC:
        # Most values (timezone.now(), parsed UTC times): the same text without
        # building a naive copy, "+00:00" cut off.
        text = value.isoformat(" ")[:-6]
    elif value.tzinfo is not None:
        text = value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
    else:
        text = value.isoformat(" ")
    _last_datetime = (value, text)
    return text

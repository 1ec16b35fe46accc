"""Bulk writes that scale: multi-row INSERT and UPDATE … FROM in a few statements.

Django's bulk_update builds a CASE WHEN per row and field, and bulk_create
prepares every value through the field; at thousands of rows a second that
costs more than the rest of the pipeline. SQLite (≥ 3.35) gets multi-row
VALUES; PostgreSQL gets one array parameter per column through unnest().
"""

import json
from datetime import UTC, datetime

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
    if connection.vendor == "postgresql":
        arrays = [[obj.pk for obj in objs]] + [
            [field.get_db_prep_save(getattr(obj, field.attname), connection) for obj in objs]
            for field in model_fields
        ]
        casts = ", ".join(f"%s::{_array_type(f)}" for f in [meta.pk, *model_fields])
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET {assignments} FROM unnest({casts}) "
                           f"AS v({', '.join(names)}) WHERE {table}.{pk_column} = v.v_id", arrays)
        return
    for start in range(0, len(objs), CHUNK):
        chunk = objs[start:start + CHUNK]
        params = []
        for obj in chunk:
            params.append(obj.pk)
            for field in model_fields:
                params.append(field.get_db_prep_save(getattr(obj, field.attname), connection))
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
    adapters = [_adapter(field) for field in model_fields]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in model_fields)
    table = connection.ops.quote_name(meta.db_table)
    placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
    per_statement = max(1, min(1000, 30_000 // len(fields)))
    suffix = f" RETURNING {connection.ops.quote_name(meta.pk.column)}" if returning else ""
    ids: list[int] = []
    if connection.vendor == "postgresql":
        return _insert_unnest(table, columns, model_fields, adapters, rows, suffix)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            chunk = rows[start:start + per_statement]
            params = [adapt(value) for row in chunk for adapt, value in zip(adapters, row,
                                                                         strict=True)]
            sql = (f"INSERT INTO {table} ({columns}) VALUES "
                   f"{', '.join([placeholder] * len(chunk))}{suffix}")
            cursor.execute(sql, params)
            if returning:
                ids.extend(r[0] for r in cursor.fetchall())
    return ids


def _insert_unnest(table, columns, model_fields, adapters, rows, suffix) -> list[int]:
    # On PostgreSQL one array parameter per column beats thousands of scalar
    # placeholders, which the driver must parse one by one.
    arrays = [[adapt(value) for value in column]
              for adapt, column in zip(adapters, zip(*rows, strict=True), strict=True)]
    casts = ", ".join(f"%s::{_array_type(field)}" for field in model_fields)
    ids: list[int] = []
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({casts}){suffix}",
                       arrays)
        if suffix:
            ids = [r[0] for r in cursor.fetchall()]
    return ids


def _array_type(field: models.Field) -> str:
    if field.is_relation:
        return field.target_field.rel_db_type(connection) + "[]"
    return field.db_type(connection) + "[]"


def _adapter(field: models.Field):
    # Field.get_db_prep_save costs ~20 µs a JSON value; these do the same work
    # for the two types the pipeline writes in bulk.
    if isinstance(field, models.JSONField):
        return _json
    if isinstance(field, models.DateTimeField) and connection.vendor == "sqlite":
        return _sqlite_datetime
    return _same


def _same(value):
    return value


def _json(value) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def _sqlite_datetime(value: datetime | None) -> str | None:
    # Django keeps SQLite datetimes as naive UTC text: "YYYY-MM-DD HH:MM:SS[.ffffff]".
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(" ")

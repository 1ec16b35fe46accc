"""Bulk updates that scale: one UPDATE … FROM (VALUES …) per chunk.

Django's bulk_update builds a CASE WHEN per row and field, which costs more
than the rest of the pipeline together at a thousand rows. This form works on
PostgreSQL and SQLite ≥ 3.33 alike.
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
    casts = [_cast(meta.pk)] + [_cast(field) for field in model_fields]
    for start in range(0, len(objs), CHUNK):
        chunk = objs[start:start + CHUNK]
        params = []
        for obj in chunk:
            params.append(obj.pk)
            for field in model_fields:
                params.append(field.get_db_prep_save(getattr(obj, field.attname), connection))
        row = "(" + ", ".join(casts) + ")"
        values = ", ".join([row] * len(chunk))
        if connection.vendor == "sqlite":
            # SQLite names VALUES columns column1, column2, …
            select = ", ".join(f"column{i + 1} AS {n}" for i, n in enumerate(names))
            source = f"(SELECT {select} FROM (VALUES {values}))"
        else:
            source = f"(VALUES {values}) AS v({', '.join(names)})"
        alias = " AS v" if connection.vendor == "sqlite" else ""
        sql = (f"UPDATE {table} SET {assignments} FROM {source}{alias} "
               f"WHERE {table}.{pk_column} = v.v_id")
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def _cast(field: models.Field) -> str:
    # PostgreSQL cannot infer the type of a bare parameter inside VALUES.
    if connection.vendor != "postgresql":
        return "%s"
    return f"%s::{field.db_type(connection)}" if field.db_type(connection) else "%s"


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
    model_fields = [meta.get_field(name) for name in fields]
    adapters = [_adapter(field) for field in model_fields]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in model_fields)
    table = connection.ops.quote_name(meta.db_table)
    placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
    per_statement = max(1, min(1000, 30_000 // len(fields)))
    suffix = f" RETURNING {connection.ops.quote_name(meta.pk.column)}" if returning else ""
    ids: list[int] = []
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

"""Writing many rows in one statement: insert-or-ignore and insert-or-update.

Django's ``bulk_create`` splits its rows into batches of at most 999 parameters on SQLite, so a
job writing 50,000 metric points would send hundreds of statements. These helpers send one
``executemany`` per call instead: a single prepared statement stepped over every row (SQLite)
or pipelined (psycopg 3). ``INSERT … ON CONFLICT`` is the same syntax on both databases.

Values are adapted as the ORM adapts them (datetimes by the backend, JSON and anything else by
the field's ``get_db_prep_save``); numbers, strings and foreign keys are sent as given, so
callers pass values of the column's type.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import connection, models


def _columns(model: type[models.Model], names: Sequence[str]) -> list[models.Field]:
    return [model._meta.get_field(name) for name in names]


def _adapter(field: models.Field) -> Callable[[Any], Any]:
    """How a value of ``field`` is sent: what ``get_db_prep_save`` does, chosen once per column
    rather than worked out again for each of tens of thousands of values."""
    if isinstance(field, models.DateTimeField):
        return connection.ops.adapt_datetimefield_value
    plain = (models.IntegerField, models.FloatField, models.CharField, models.ForeignKey)
    if isinstance(field, plain):
        return _same
    return lambda value: field.get_db_prep_save(value, connection)


def _same(value: Any) -> Any:
    return value


def _rows(fields: list[models.Field], rows: Iterable[Sequence[Any]]) -> list[tuple[Any, ...]]:
    adapters = [_adapter(field) for field in fields]
    return [tuple(adapt(value) for adapt, value in zip(adapters, row, strict=True)) for row in rows]


def _insert_sql(model: type[models.Model], fields: list[models.Field]) -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    return f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({placeholders})"


def insert_ignoring_conflicts(
    model: type[models.Model], names: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """Inserts rows (values in the order of ``names``); rows that hit a unique constraint are
    skipped. Returns how many rows were given."""
    fields = _columns(model, names)
    values = _rows(fields, rows)
    if not values:
        return 0
    with connection.cursor() as cursor:
        cursor.executemany(_insert_sql(model, fields) + " ON CONFLICT DO NOTHING", values)
    return len(values)


def upsert(
    model: type[models.Model],
    names: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    conflict: Sequence[str],
    update: Sequence[str],
) -> int:
    """Inserts rows, or updates the ``update`` columns of the row that has the same
    ``conflict`` columns. Columns not in ``update`` keep their stored value."""
    fields = _columns(model, names)
    values = _rows(fields, rows)
    if not values:
        return 0
    quote = connection.ops.quote_name
    conflict_columns = ", ".join(quote(f.column) for f in _columns(model, conflict))
    assignments = ", ".join(
        f"{quote(f.column)} = excluded.{quote(f.column)}" for f in _columns(model, update)
    )
    sql = (
        _insert_sql(model, fields)
        + f" ON CONFLICT ({conflict_columns}) DO UPDATE SET {assignments}"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, values)
    return len(values)

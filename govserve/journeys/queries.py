"""The journey's hot reads as SQL built once per process: an application by id, its sealed answers.

Every journey request reads its application (the access check) and its
sealed answers (the journey state), and a page save reads the application
again under its row lock. Django's ORM spends many times the query's own
time building the same SQL each time (about 0.4 ms of CPU per query on the
benchmark machine), so these reads build their SQL through the ORM once per
database connection kind, keep it, and turn the rows into model instances
with the ORM's own converters (:meth:`Model.from_db`): the same SQL, the
same values, the same instances as the queryset would give.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Field, QuerySet

from govserve.journeys.models import Answer, Application

_SAMPLE_ID = uuid.UUID(int=0)

Converter = Callable[[Any, Any, Any], Any]


@dataclass(frozen=True)
class _Prepared:
    sql: str
    field_names: list[str]
    converters: list[tuple[int, list[Converter], Any]]


_prepared: dict[tuple[str, str, bool], _Prepared] = {}
_lock = threading.Lock()


def _id_parameter(field: Field[Any, Any], value: uuid.UUID) -> Any:
    """Return ``value`` as the database takes it for ``field`` (a UUID, or its hex on SQLite)."""
    return field.get_db_prep_value(value, connection, prepared=False)


def _application_query(*, for_update: bool) -> _Prepared:
    key = (connection.alias, connection.vendor, for_update)
    found = _prepared.get(key)
    if found is not None:
        return found
    queryset: QuerySet[Application] = Application.objects.filter(pk=_SAMPLE_ID).order_by()
    if for_update:
        queryset = queryset.select_for_update()
    compiler = queryset.query.get_compiler(connection=connection)
    sql, parameters = compiler.as_sql()
    pk_field = Application._meta.pk
    assert pk_field is not None  # noqa: S101 - every model has one
    # The one parameter must be the id, prepared as this function prepares it.
    if list(parameters) != [_id_parameter(pk_field, _SAMPLE_ID)]:  # pragma: no cover - a Django change
        msg = f"unexpected parameters for the application query: {parameters!r}"
        raise RuntimeError(msg)
    columns = [expression for expression, _, _ in compiler.select]
    field_names = [column.target.attname for column in columns]
    if field_names != [field.attname for field in Application._meta.concrete_fields]:  # pragma: no cover
        msg = "the application query does not select every field in order"
        raise RuntimeError(msg)
    converters = [
        (position, list(converters_of), expression)
        for position, (converters_of, expression) in compiler.get_converters(columns).items()
    ]
    prepared = _Prepared(sql=sql, field_names=field_names, converters=converters)
    with _lock:
        _prepared[key] = prepared
    return prepared


def application_by_id(application_id: uuid.UUID, *, for_update: bool = False) -> Application | None:
    """Return the application ``application_id``, or None; ``for_update`` locks its row (inside a transaction).

    The same as ``Application.objects.filter(pk=...)`` (``select_for_update()``)
    without the ORM building the SQL again.
    """
    prepared = _application_query(for_update=for_update)
    pk_field = Application._meta.pk
    assert pk_field is not None  # noqa: S101 - every model has one
    with connection.cursor() as cursor:
        cursor.execute(prepared.sql, [_id_parameter(pk_field, application_id)])
        row = cursor.fetchone()
    if row is None:
        return None
    values = list(row)
    for position, converters, expression in prepared.converters:
        value = values[position]
        for converter in converters:
            value = converter(value, expression, connection)
        values[position] = value
    return Application.from_db(connection.alias, prepared.field_names, values)


def sealed_answers(application_id: uuid.UUID) -> dict[str, bytes]:
    """Return the sealed answers of ``application_id`` by field id, as stored (one indexed query)."""
    quote = connection.ops.quote_name
    table = quote(Answer._meta.db_table)
    sql = (
        f"SELECT {quote('field_id')}, {quote('value_sealed')} FROM {table} "  # noqa: S608 - the model's own names
        f"WHERE {quote('application_id')} = %s"
    )
    foreign_key = Answer._meta.get_field("application")
    parameter = _id_parameter(foreign_key, application_id)
    with connection.cursor() as cursor:
        cursor.execute(sql, [parameter])
        rows: Sequence[tuple[str, Any]] = cursor.fetchall()
    return {field_id: bytes(sealed) for field_id, sealed in rows}

"""The journey's hot reads and writes as SQL built once per process.

Every journey request reads its application (the access check) and its
sealed answers (the journey state); a page save reads the application again
under its row lock, writes the page's answers, the application's progress
and the journey events. Django's ORM spends many times the query's own time
building the same SQL each time (about 0.4 ms of CPU per query on the
benchmark machine), so these statements are built once per database
connection kind and kept. Reads turn the rows into model instances with the
ORM's own converters (:meth:`Model.from_db`); writes prepare each value as
the field's own ``get_db_prep_save`` does (:func:`govserve.core.queries.save_preparer`):
the same SQL, the same values as the queryset or ``save()`` would give. (No model here has signal receivers: the
project does not use signals for domain logic.)
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Field, Model, QuerySet

from govserve.core.queries import save_preparer
from govserve.journeys.models import Answer, Application, JourneyEvent

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
    return _application_from_row(prepared, list(row))


_ANSWERS_OF_ROW = (
    ' LEFT JOIN LATERAL (SELECT array_agg({field_id}) AS "field_ids", array_agg({value}) AS "values" '
    'FROM {answers} WHERE {application_id} = {table}.{id}) AS "answers" ON TRUE'
)
_merged: dict[str, str] = {}


def _application_and_answers_sql() -> str | None:
    """Return the application read with its sealed answers as two arrays (PostgreSQL), or None (elsewhere)."""
    if connection.vendor != "postgresql":
        return None
    found = _merged.get(connection.alias)
    if found is not None:
        return found
    quote = connection.ops.quote_name
    table = quote(Application._meta.db_table)
    select, separator, rest = _application_query(for_update=False).sql.partition(f" FROM {table} WHERE ")
    if not separator or " FROM " in select:  # pragma: no cover - a Django change: read the two apart
        return None
    joined = _ANSWERS_OF_ROW.format(
        field_id=quote("field_id"),
        value=quote("value_sealed"),
        answers=quote(Answer._meta.db_table),
        application_id=quote("application_id"),
        table=table,
        id=quote("id"),
    )
    sql = f'{select}, "answers"."field_ids", "answers"."values" FROM {table}{joined} WHERE {rest}'
    with _lock:
        _merged[connection.alias] = sql
    return sql


def application_and_answers_by_id(application_id: uuid.UUID) -> tuple[Application, dict[str, bytes]] | None:
    """Return the application ``application_id`` and its sealed answers by field id (:func:`sealed_answers`), or None.

    What :func:`application_by_id` and then :func:`sealed_answers` return,
    read at once: one statement on PostgreSQL (the answers as two arrays of a
    lateral subquery), where each statement costs a round trip to the server
    and its CPU on both sides; two elsewhere (SQLite's statements cost little).
    """
    sql = _application_and_answers_sql()
    if sql is None:
        application = application_by_id(application_id)
        return None if application is None else (application, sealed_answers(application_id))
    prepared = _application_query(for_update=False)
    pk_field = Application._meta.pk
    assert pk_field is not None  # noqa: S101 - every model has one
    with connection.cursor() as cursor:
        cursor.execute(sql, [_id_parameter(pk_field, application_id)])
        row = cursor.fetchone()
    if row is None:
        return None
    *values, field_ids, sealed = row
    rows = {field_id: bytes(value) for field_id, value in zip(field_ids or (), sealed or (), strict=True)}
    return _application_from_row(prepared, values), rows


def _application_from_row(prepared: _Prepared, values: list[Any]) -> Application:
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


def _concrete(model: type[Model], name: str) -> Field[Any, Any]:
    field = model._meta.get_field(name)
    if not isinstance(field, Field) or field.column is None:  # pragma: no cover - a programming error
        msg = f"{model.__name__}.{name} is not a column"
        raise TypeError(msg)
    return field


def _column(field: Field[Any, Any]) -> str:
    return connection.ops.quote_name(str(field.column))


def _insert_sql(model: type[Model], field_names: Sequence[str], rows: int, conflict: str = "") -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(_column(_concrete(model, name)) for name in field_names)
    group = "(" + ", ".join(["%s"] * len(field_names)) + ")"
    values = ", ".join([group] * rows)
    return f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES {values}{conflict}"  # noqa: S608


def _prepared_values(model: type[Model], field_names: Sequence[str], objects: Sequence[Model]) -> list[Any]:
    prepared = [(field.attname, save_preparer(field)) for field in (_concrete(model, name) for name in field_names)]
    return [preparer(getattr(instance, attname), connection) for instance in objects for attname, preparer in prepared]


_ANSWER_FIELDS = ("application", "field_id", "value_sealed", "updated_at")


def answers_upsert(answers: Sequence[Answer]) -> None:
    """Insert ``answers``, replacing the value and time of an answer already stored for the field (one statement)."""
    if not answers:
        return
    quote = connection.ops.quote_name
    conflict = (
        f" ON CONFLICT ({quote('application_id')}, {quote('field_id')}) DO UPDATE SET "
        f"{quote('value_sealed')} = EXCLUDED.{quote('value_sealed')}, "
        f"{quote('updated_at')} = EXCLUDED.{quote('updated_at')}"
    )
    sql = _insert_sql(Answer, _ANSWER_FIELDS, len(answers), conflict)
    with connection.cursor() as cursor:
        cursor.execute(sql, _prepared_values(Answer, _ANSWER_FIELDS, answers))


_EVENT_FIELDS = (
    "occurred_at",
    "kind",
    "service_id",
    "version",
    "page_id",
    "channel",
    "language",
    "application_id",
    "is_test",
    "details",
)


def journey_events_insert(events: Sequence[JourneyEvent]) -> None:
    """Insert ``events`` in one statement (their ids are not read back)."""
    if not events:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            _insert_sql(JourneyEvent, _EVENT_FIELDS, len(events)), _prepared_values(JourneyEvent, _EVENT_FIELDS, events)
        )


def application_update(application: Application, field_names: Sequence[str]) -> None:
    """Write ``field_names`` of ``application`` and its ``updated_at`` (set now), as ``save(update_fields=...)``."""
    _concrete(Application, "updated_at").pre_save(application, add=False)
    names = [*field_names, "updated_at"] if "updated_at" not in field_names else list(field_names)
    fields = [_concrete(Application, name) for name in names]
    assignments = ", ".join(f"{_column(field)} = %s" for field in fields)
    pk_field = Application._meta.pk
    assert pk_field is not None  # noqa: S101 - every model has one
    table = connection.ops.quote_name(Application._meta.db_table)
    sql = f"UPDATE {table} SET {assignments} WHERE {_column(pk_field)} = %s"  # noqa: S608 - the model's own names
    parameters = [save_preparer(field)(getattr(application, field.attname), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*parameters, _id_parameter(pk_field, application.id)])

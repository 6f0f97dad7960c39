"""Primary-key reads and hot inserts on every request, as SQL built once per process.

Django's ORM builds the SQL of a query again on every call: for a read by
primary key that building costs several times the query itself (about
0.4 ms of CPU against 0.05 ms on the benchmark machine; benchmarks/README.md,
"Citizen journey pages"). :class:`PreparedGet` compiles the queryset
``Model.objects.filter(pk=..., **constants).order_by()`` once per database
connection kind and then runs that SQL with the id as its one varying
parameter, turning the row into the instance with the ORM's own converters
(:meth:`Model.from_db`): the same statement, the same values and the same
instance as ``Model.objects.filter(...).first()`` without an ordering.
(``govserve.journeys.queries`` does the same for the journey's own reads.)
:func:`row_insert` does the same for an INSERT of one instance.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Field, Model
from django.db.models.signals import post_save, pre_save

_SAMPLE_ID = uuid.UUID(int=0x5A3F_E7C1_0000_4000_8000_0000_0000_0001)

Converter = Callable[[Any, Any, Any], Any]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    parameters: list[Any]
    id_position: int
    field_names: list[str]
    converters: list[tuple[int, list[Converter], Any]]


class PreparedGet[M: Model]:
    """Read one ``model`` row by primary key (and fixed ``constants``), the SQL built once per connection kind.

    The primary key must be a UUID field (every govserve model's). Safe across
    threads: a race builds the same SQL twice.
    """

    def __init__(self, model: type[M], **constants: Any) -> None:
        self._model = model
        self._constants = constants
        self._compiled: dict[tuple[str, str], _Compiled] = {}
        self._lock = threading.Lock()

    def _compile(self, using: str) -> _Compiled:
        connection = connections[using]
        key = (using, connection.vendor)
        found = self._compiled.get(key)
        if found is not None:
            return found
        queryset = self._model._default_manager.using(using).filter(pk=_SAMPLE_ID, **self._constants).order_by()
        compiler = queryset.query.get_compiler(using=using)
        sql, parameters = compiler.as_sql()
        parameters = list(parameters)
        pk_field = self._model._meta.pk
        assert pk_field is not None  # noqa: S101 - every model has one
        sample = pk_field.get_db_prep_value(_SAMPLE_ID, connection, prepared=False)
        positions = [position for position, value in enumerate(parameters) if value == sample]
        # The constants are compiled as the ORM compiles them (a boolean is the bare column on PostgreSQL): kept as is.
        if len(positions) != 1:  # pragma: no cover - a Django change
            msg = f"unexpected parameters for a {self._model.__name__} read: {parameters!r}"
            raise RuntimeError(msg)
        columns = [expression for expression, _, _ in compiler.select]
        field_names = [column.target.attname for column in columns]
        if field_names != [field.attname for field in self._model._meta.concrete_fields]:  # pragma: no cover
            msg = f"the {self._model.__name__} read does not select every field in order"
            raise RuntimeError(msg)
        converters = [
            (position, list(converters_of), expression)
            for position, (converters_of, expression) in compiler.get_converters(columns).items()
        ]
        compiled = _Compiled(
            sql=sql, parameters=parameters, id_position=positions[0], field_names=field_names, converters=converters
        )
        with self._lock:
            self._compiled[key] = compiled
        return compiled

    def get(self, pk: uuid.UUID, *, using: str = DEFAULT_DB_ALIAS) -> M | None:
        """Return the row ``pk`` matching the constants as an instance, or None."""
        compiled = self._compile(using)
        connection = connections[using]
        pk_field = self._model._meta.pk
        assert pk_field is not None  # noqa: S101 - every model has one
        parameters = list(compiled.parameters)
        parameters[compiled.id_position] = pk_field.get_db_prep_value(pk, connection, prepared=False)
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, parameters)
            row = cursor.fetchone()
        if row is None:
            return None
        values = list(row)
        for position, converters, expression in compiled.converters:
            value = values[position]
            for converter in converters:
                value = converter(value, expression, connection)
            values[position] = value
        return self._model.from_db(using, compiled.field_names, values)


# --- Inserts ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Insert:
    sql: str
    fields: list[Field[Any, Any]]
    returned: Field[Any, Any] | None


_INSERTS: dict[tuple[type[Model], str, str, bool], _Insert | None] = {}


def _insert_prepared(model: type[Model], using: str, vendor: str, *, pk_set: bool) -> _Insert | None:
    """Return the INSERT of ``model`` (None: a model this must leave to ``save()``), built once per shape."""
    key = (model, using, vendor, pk_set)
    if key in _INSERTS:
        return _INSERTS[key]
    meta = model._meta
    fields = [field for field in meta.local_concrete_fields if not field.generated]
    returning = list(meta.db_returning_fields)
    simple = (
        not meta.parents
        and model.save is Model.save
        and not any(field.has_db_default() for field in fields)
        and returning in ([], [meta.auto_field])
        and (pk_set or meta.auto_field is not None)
    )
    prepared: _Insert | None = None
    if simple:
        returned = None if pk_set else meta.auto_field
        if returned is not None:
            fields = [field for field in fields if field is not returned]
        quote = connections[using].ops.quote_name
        columns = ", ".join(quote(str(field.column)) for field in fields)
        placeholders = ", ".join(["%s"] * len(fields))
        sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({placeholders})"  # noqa: S608 - model names
        if returned is not None:
            sql += f" RETURNING {quote(str(returned.column))}"
        prepared = _Insert(sql=sql, fields=fields, returned=returned)
    _INSERTS[key] = prepared
    return prepared


def row_insert(instance: Model, *, using: str = DEFAULT_DB_ALIAS) -> None:
    """Insert ``instance`` as ``instance.save(force_insert=True)`` would, the INSERT built once per model.

    The same statement and values as the ORM's (``pre_save`` of each field,
    so ``auto_now`` is set on the instance; a database-generated id is read
    back), and the instance is left saved. For the rows a request inserts
    several of (case files, tasks, case events, job records, emails), where
    the ORM builds the INSERT again each time (about 0.3 ms of CPU a row).
    Models with save signal receivers, their own ``save()``, a parent model or
    database defaults are saved by the ORM instead, so nothing is skipped.
    Raise IntegrityError as ``save()`` does.
    """
    model = type(instance)
    if pre_save.has_listeners(model) or post_save.has_listeners(model):
        instance.save(force_insert=True, using=using)
        return
    connection = connections[using]
    pk_set = instance.pk is not None
    prepared = _insert_prepared(model, using, connection.vendor, pk_set=pk_set)
    if prepared is None:
        instance.save(force_insert=True, using=using)
        return
    # As save() does: refuse an unsaved related object, take the id of one saved since it was assigned.
    instance._prepare_related_fields_for_save(operation_name="save")  # type: ignore[attr-defined]
    values = [field.get_db_prep_save(field.pre_save(instance, add=True), connection) for field in prepared.fields]
    with connection.cursor() as cursor:
        cursor.execute(prepared.sql, values)
        if prepared.returned is not None:
            row = cursor.fetchone()
            setattr(instance, prepared.returned.attname, int(row[0]))  # an AutoField: the only kind read back
    instance._state.adding = False
    instance._state.db = using

"""Primary-key reads on every request, as SQL built once per process.

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
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model

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

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
:class:`PreparedFilter` does the same for a filter on a few columns (the
rows of an owner, a unique key), :func:`row_insert` for an INSERT of one
instance, and :func:`row_insert_unless_taken` for an INSERT that a row
holding the same unique key turns into nothing (``ON CONFLICT DO NOTHING``:
no savepoint needed around it). :func:`save_preparer` gives the value a field
writes (its ``get_db_prep_save``) without the ORM's chain of conversions for
the plain values hot inserts hold.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import (
    BooleanField,
    CharField,
    DateTimeField,
    Field,
    ForeignKey,
    IntegerField,
    Model,
    TextField,
    UniqueConstraint,
    UUIDField,
)
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


_VARYING_LOOKUPS = frozenset({"exact", "gt", "gte", "lt", "lte"})


@dataclass(frozen=True)
class _CompiledFilter:
    sql: str
    parameters: list[Any]
    positions: list[tuple[str, int, Field[Any, Any]]]
    field_names: list[str]
    converters: list[tuple[int, list[Converter], Any]]


class PreparedFilter[M: Model]:
    """The rows of ``model`` matching a filter on a few varying values, the SQL built once per connection kind.

    The statement is the ORM's own for
    ``Model.objects.filter(**samples, **constants).order_by(*order_by)[:limit]``
    (``.values_list(*values)`` when ``values`` are named); only the varying
    values change between calls. ``samples`` name the varying lookups (a
    column of the model, a foreign key by its ``attname`` such as
    ``client_id``, optionally with ``__gt``, ``__gte``, ``__lt`` or ``__lte``),
    each with a sample value of the column's type that is used only to find
    its place among the statement's parameters: it must appear there once
    (choose values no constant has). ``constants`` are compiled into the
    statement as the ORM compiles them. Safe across threads: a race builds
    the same SQL twice.
    """

    def __init__(
        self,
        model: type[M],
        *,
        samples: Mapping[str, Any],
        constants: Mapping[str, Any] | None = None,
        order_by: Sequence[str] = (),
        limit: int | None = None,
        values: Sequence[str] | None = None,
    ) -> None:
        for name in samples:
            _, _, lookup = name.partition("__")
            if lookup and lookup not in _VARYING_LOOKUPS:
                msg = f"{model.__name__}: a varying lookup must be a comparison of one column, not {name!r}"
                raise ValueError(msg)
        self._model = model
        self._samples = dict(samples)
        self._constants = dict(constants or {})
        self._order_by = tuple(order_by)
        self._limit = limit
        self._values = tuple(values) if values is not None else None
        self._compiled: dict[tuple[str, str], _CompiledFilter] = {}
        self._lock = threading.Lock()

    def _compile(self, using: str) -> _CompiledFilter:
        connection = connections[using]
        key = (using, connection.vendor)
        found = self._compiled.get(key)
        if found is not None:
            return found
        queryset = (
            self._model._default_manager.using(using)
            .filter(**self._samples, **self._constants)
            .order_by(*self._order_by)
        )
        if self._values is not None:
            queryset = queryset.values_list(*self._values)
        if self._limit is not None:
            queryset = queryset[: self._limit]
        compiler = queryset.query.get_compiler(using=using)
        sql, compiled_parameters = compiler.as_sql()
        parameters = list(compiled_parameters)
        positions: list[tuple[str, int, Field[Any, Any]]] = []
        for name, sample in self._samples.items():
            field = self._model._meta.get_field(name.partition("__")[0])
            assert isinstance(field, Field)  # noqa: S101 - a concrete column, checked by the filter above
            prepared = field.get_db_prep_value(sample, connection, prepared=False)
            places = [position for position, value in enumerate(parameters) if value == prepared]
            if len(places) != 1:
                msg = f"the sample of {name!r} appears {len(places)} times in the {self._model.__name__} read"
                raise RuntimeError(msg)
            positions.append((name, places[0], field))
        columns = [expression for expression, _, _ in compiler.select]
        field_names = [column.target.attname for column in columns]
        if self._values is None and field_names != [field.attname for field in self._model._meta.concrete_fields]:
            msg = f"the {self._model.__name__} read does not select every field in order"  # pragma: no cover
            raise RuntimeError(msg)  # pragma: no cover - a Django change
        converters = [
            (position, list(converters_of), expression)
            for position, (converters_of, expression) in compiler.get_converters(columns).items()
        ]
        compiled = _CompiledFilter(
            sql=sql, parameters=parameters, positions=positions, field_names=field_names, converters=converters
        )
        with self._lock:
            self._compiled[key] = compiled
        return compiled

    def _fetch(self, using: str, values: Mapping[str, Any]) -> tuple[_CompiledFilter, list[list[Any]]]:
        if values.keys() != self._samples.keys():
            msg = f"give exactly the varying values {sorted(self._samples)}, not {sorted(values)}"
            raise TypeError(msg)
        compiled = self._compile(using)
        connection = connections[using]
        parameters = list(compiled.parameters)
        for name, position, field in compiled.positions:
            parameters[position] = field.get_db_prep_value(values[name], connection, prepared=False)
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, parameters)
            rows = cursor.fetchall()
        converted: list[list[Any]] = []
        for row in rows:
            row_values = list(row)
            for position, converters, expression in compiled.converters:
                value = row_values[position]
                for converter in converters:
                    value = converter(value, expression, connection)
                row_values[position] = value
            converted.append(row_values)
        return compiled, converted

    def rows(self, *, using: str = DEFAULT_DB_ALIAS, **values: Any) -> list[M]:
        """Return the matching rows as instances (the filter without ``values=``), in the statement's order."""
        if self._values is not None:
            msg = "a read of named values returns tuples: call tuples()"
            raise TypeError(msg)
        compiled, rows = self._fetch(using, values)
        return [self._model.from_db(using, compiled.field_names, row) for row in rows]

    def first(self, *, using: str = DEFAULT_DB_ALIAS, **values: Any) -> M | None:
        """Return the first matching row as an instance, or None."""
        found = self.rows(using=using, **values)
        return found[0] if found else None

    def tuples(self, *, using: str = DEFAULT_DB_ALIAS, **values: Any) -> list[tuple[Any, ...]]:
        """Return the named ``values`` of the matching rows, as ``values_list`` does."""
        if self._values is None:
            msg = "a read of whole rows returns instances: call rows()"
            raise TypeError(msg)
        return [tuple(row) for row in self._fetch(using, values)[1]]


# --- Inserts ------------------------------------------------------------------------------------------


SavePreparer = Callable[[Any, BaseDatabaseWrapper], Any]
"""``field.get_db_prep_save(value, connection)`` of one field, as a function of the value and the connection."""

_PREPARERS: dict[Field[Any, Any], SavePreparer] = {}


def save_preparer(field: Field[Any, Any]) -> SavePreparer:
    """Return the function giving ``field.get_db_prep_save(value, connection)``, built once per field.

    The ORM passes every value through ``get_db_prep_save``,
    ``get_db_prep_value``, ``get_prep_value`` and ``to_python`` (0.7 µs for
    a string, several for a datetime; a one-call submission writes about
    380 values). For a field of a Django class
    whose conversions are Django's own, a value of the exact type those
    conversions keep as it is (``str`` for text, an aware ``datetime``, a
    ``UUID``, ``int``, ``bool``, and ``None`` where it stays ``None``) goes
    straight to the backend's last step (``adapt_datetimefield_value``,
    ``adapt_integerfield_value``, a UUID's hex without a native type): the
    same value the ORM gives. Any other value, and every other field, goes
    through ``get_db_prep_save`` itself.
    """
    found = _PREPARERS.get(field)
    if found is None:
        found = _PREPARERS[field] = _preparer_build(field)
    return found


def insert_reader(field: Field[Any, Any]) -> Callable[[Model], Any]:
    """Return ``field.pre_save(instance, add=True)`` as a function of the instance (its attribute if that is all)."""
    if type(field).pre_save is Field.pre_save:
        return operator.attrgetter(field.attname)
    return functools.partial(_pre_save_adding, field)


def _pre_save_adding(field: Field[Any, Any], instance: Model) -> Any:
    return field.pre_save(instance, add=True)


_PREP = ("get_prep_value", "to_python")
_DB_PREP = ("get_db_prep_value", "get_prep_value", "to_python")


def _inherits(cls: type[Any], base: type[Any], methods: tuple[str, ...]) -> bool:
    """Return whether field class ``cls`` uses ``base``'s own ``methods`` (none overridden on the way)."""
    return all(getattr(cls, name) is getattr(base, name) for name in methods)


def _preparer_build(field: Field[Any, Any]) -> SavePreparer:  # noqa: PLR0911 - one case per kind of field
    cls = type(field)
    general = field.get_db_prep_save
    if isinstance(field, ForeignKey) and cls.get_db_prep_save is ForeignKey.get_db_prep_save:
        target = save_preparer(field.target_field)

        def related(value: Any, connection: BaseDatabaseWrapper) -> Any:
            # ForeignKey's own step turns None (and "" where it is no key) into NULL, then the target's.
            if value is None:
                return None
            return target(value, connection) if type(value) is not str else general(value, connection)

        return related
    if cls.get_db_prep_save is not Field.get_db_prep_save:
        return general
    plain_value = cls.get_db_prep_value is Field.get_db_prep_value
    if plain_value and (_inherits(cls, CharField, _PREP) or _inherits(cls, TextField, _PREP)):

        def text(value: Any, connection: BaseDatabaseWrapper) -> Any:
            return value if value is None or type(value) is str else general(value, connection)

        return text
    if _inherits(cls, DateTimeField, _DB_PREP):

        def moment(value: Any, connection: BaseDatabaseWrapper) -> Any:
            if type(value) is dt.datetime and value.utcoffset() is not None:  # aware: get_prep_value keeps it
                return connection.ops.adapt_datetimefield_value(value)
            return general(value, connection)

        return moment
    if _inherits(cls, UUIDField, _DB_PREP):

        def identifier(value: Any, connection: BaseDatabaseWrapper) -> Any:
            if type(value) is uuid.UUID:
                return value if connection.features.has_native_uuid_field else value.hex
            return general(value, connection)

        return identifier
    if _inherits(cls, IntegerField, ("get_db_prep_value", "get_prep_value")):
        internal_type = field.get_internal_type()

        def number(value: Any, connection: BaseDatabaseWrapper) -> Any:
            if type(value) is int:
                return connection.ops.adapt_integerfield_value(value, internal_type)
            return general(value, connection)

        return number
    if plain_value and (cls.get_prep_value, cls.to_python) == (BooleanField.get_prep_value, BooleanField.to_python):

        def truth(value: Any, connection: BaseDatabaseWrapper) -> Any:
            return value if value is None or type(value) is bool else general(value, connection)

        return truth
    return general


@dataclass(frozen=True)
class _Insert:
    sql: str
    columns: list[tuple[Callable[[Model], Any], SavePreparer]]  # each field's pre_save and get_db_prep_save
    returned: Field[Any, Any] | None


_INSERTS: dict[tuple[type[Model], str, str, bool, str], _Insert | None] = {}


def _insert_prepared(
    model: type[Model], using: str, vendor: str, *, pk_set: bool, unless_taken: str = ""
) -> _Insert | None:
    """Return the INSERT of ``model`` (None: a model this must leave to ``save()``), built once per shape.

    ``unless_taken``: the quoted columns of a unique key; a row holding the same value
    makes the INSERT do nothing, and the statement returns the primary key of
    the row it wrote (so no row back means nothing was written).
    """
    key = (model, using, vendor, pk_set, unless_taken)
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
        if unless_taken:
            assert meta.pk is not None  # noqa: S101 - every model has one
            sql += f" ON CONFLICT ({unless_taken}) DO NOTHING RETURNING {quote(str(meta.pk.column))}"
        elif returned is not None:
            sql += f" RETURNING {quote(str(returned.column))}"
        prepared = _Insert(
            sql=sql,
            columns=[(insert_reader(field), save_preparer(field)) for field in fields],
            returned=returned,
        )
    _INSERTS[key] = prepared
    return prepared


def row_insert(instance: Model, *, using: str = DEFAULT_DB_ALIAS) -> None:
    """Insert ``instance`` as ``instance.save(force_insert=True)`` would, the INSERT built once per model.

    The same statement and values as the ORM's (``pre_save`` of each field,
    so ``auto_now`` is set on the instance; a database-generated id is read
    back), and the instance is left saved. For the rows a request inserts
    several of (case files, tasks, case events, job records, emails), where
    the ORM builds the INSERT again each time (about 0.3 ms of CPU a row).
    The model's ``pre_save`` and ``post_save`` signals are sent as ``save()``
    sends them (``pre_save`` before the values are taken, so a receiver may
    still set them; ``post_save`` with ``created=True``). Models with their
    own ``save()``, a parent model or database defaults are saved by the ORM
    instead, so nothing is skipped. Raise IntegrityError as ``save()`` does.
    """
    model = type(instance)
    connection = connections[using]
    pk_set = instance.pk is not None
    prepared = _insert_prepared(model, using, connection.vendor, pk_set=pk_set)
    if prepared is None:
        instance.save(force_insert=True, using=using)
        return
    # As save() does: refuse an unsaved related object, take the id of one saved since it was assigned.
    instance._prepare_related_fields_for_save(operation_name="save")  # type: ignore[attr-defined]
    signalled = not model._meta.auto_created
    if signalled:
        pre_save.send(sender=model, instance=instance, raw=False, using=using, update_fields=None)
    values = [preparer(read(instance), connection) for read, preparer in prepared.columns]
    with connection.cursor() as cursor:
        cursor.execute(prepared.sql, values)
        if prepared.returned is not None:
            row = cursor.fetchone()
            setattr(instance, prepared.returned.attname, int(row[0]))  # an AutoField: the only kind read back
    instance._state.db = using
    instance._state.adding = False
    if signalled:
        post_save.send(sender=model, instance=instance, created=True, update_fields=None, raw=False, using=using)


def row_insert_unless_taken(instance: Model, *, unique: str | tuple[str, ...], using: str = DEFAULT_DB_ALIAS) -> bool:
    """Insert ``instance`` as :func:`row_insert` does unless a row has its value of the unique key ``unique``.

    Return True when the row was written (the instance is then saved), False
    when a row (committed, or written earlier in this transaction) already
    holds the value, and nothing was written. One statement
    (``INSERT ... ON CONFLICT (columns) DO NOTHING``) instead of a savepoint
    around an INSERT that may fail: on PostgreSQL a concurrent transaction
    writing the same value is waited for, as a unique violation would be, and
    its row then counts as taken once it commits. ``unique`` is a field with
    ``unique=True`` or the fields of one of the model's unconditional
    ``UniqueConstraint`` (a tuple, in its order). Another constraint's
    violation raises IntegrityError as ``save()`` does. Models
    :func:`row_insert` leaves to ``save()``, and models with save signal
    receivers, are saved in a savepoint, a violation of ``unique`` then
    answering False.
    """
    model = type(instance)
    key_fields = _unique_key(model, unique)
    connection = connections[using]
    pk_set = instance.pk is not None
    prepared = None
    if not (pre_save.has_listeners(model) or post_save.has_listeners(model)):
        columns = ", ".join(connection.ops.quote_name(str(field.column)) for field in key_fields)
        prepared = _insert_prepared(model, using, connection.vendor, pk_set=pk_set, unless_taken=columns)
    if prepared is None:
        try:
            with transaction.atomic(using=using):
                instance.save(force_insert=True, using=using)
        except IntegrityError:
            key_values = {field.attname: getattr(instance, field.attname) for field in key_fields}
            if not model._default_manager.using(using).filter(**key_values).exists():
                raise
            return False
        return True
    instance._prepare_related_fields_for_save(operation_name="save")  # type: ignore[attr-defined]
    values = [preparer(read(instance), connection) for read, preparer in prepared.columns]
    with connection.cursor() as cursor:
        cursor.execute(prepared.sql, values)
        row = cursor.fetchone()
    if row is None:
        return False
    if prepared.returned is not None:
        setattr(instance, prepared.returned.attname, int(row[0]))
    instance._state.adding = False
    instance._state.db = using
    return True


def _unique_key(model: type[Model], unique: str | tuple[str, ...]) -> list[Field[Any, Any]]:
    """Return the fields of ``model``'s unique key ``unique``; raise ValueError if it is not one."""
    meta = model._meta
    if isinstance(unique, str):
        field = meta.get_field(unique)
        if isinstance(field, Field) and field.unique and not field.primary_key:
            return [field]
    else:
        for constraint in meta.constraints:
            if (
                isinstance(constraint, UniqueConstraint)
                and tuple(constraint.fields) == unique
                and constraint.condition is None
                and not constraint.expressions
            ):
                fields = [meta.get_field(name) for name in unique]
                return [field for field in fields if isinstance(field, Field)]
    msg = f"{model.__name__}: {unique!r} is not a unique field or the fields of an unconditional unique constraint"
    raise ValueError(msg)

"""A JSON field stored as the exact canonical text the chain hashes.

``AuditEntry.details`` is hashed in canonical form (``govserve.audit.chain``).
PostgreSQL's ``jsonb`` re-orders keys and re-spaces the text, so verifying
every entry would mean parsing and re-serialising every row's details (the
largest cost of ``audit verify``, measured). This field stores them as
PostgreSQL ``json``, which keeps the input text exactly (and still refuses
invalid JSON), and as text on SQLite, always written canonically; the
verifier hashes the stored text as is.

Lookups still work: on PostgreSQL every lookup and key transform applies to
``details::jsonb`` (``details__queue="x"``, ``details__contains={...}``,
``details__has_key="x"``), at the cost of a cast per row scanned.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.expressions import Expression
from django.db.models.functions import Cast
from django.db.models.sql.compiler import SQLCompiler

from govserve.audit.chain import canonical_json


class _AsJsonb(Cast):
    """``value::jsonb`` on PostgreSQL; the value itself elsewhere (SQLite's JSON is text already)."""

    def __init__(self, expression: Any) -> None:
        super().__init__(expression, output_field=models.JSONField())

    def as_sqlite(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any) -> Any:
        return compiler.compile(self.source_expressions[0])


class CanonicalJSONField(models.JSONField):
    """A JSONField stored as exact canonical JSON text (``json`` on PostgreSQL, text on SQLite)."""

    def db_type(self, connection: BaseDatabaseWrapper) -> str | None:
        if connection.vendor == "postgresql":
            return "json"
        return super().db_type(connection)

    def get_db_prep_value(self, value: Any, connection: BaseDatabaseWrapper, prepared: bool = False) -> Any:
        if not prepared:
            value = self.get_prep_value(value)
        if isinstance(value, Expression) or hasattr(value, "as_sql"):
            return value
        # A plain string parameter: PostgreSQL reads it with json's input function, keeping it byte for byte.
        return canonical_json(value)

    def from_db_value(self, value: Any, expression: Any, connection: BaseDatabaseWrapper) -> Any:
        if value is not None and not isinstance(value, str):
            return value  # psycopg's json loader already decoded it
        return super().from_db_value(value, expression, connection)

    def get_transform(self, name: str) -> Any:
        transform = super().get_transform(name)
        if transform is None:
            return None
        return _on_jsonb(transform) if isinstance(transform, type) else _JsonbFactory(transform)

    def get_lookup(self, lookup_name: str) -> Any:
        lookup = super().get_lookup(lookup_name)
        return None if lookup is None else _on_jsonb(lookup)


_ON_JSONB: dict[type, type] = {}


def _on_jsonb(cls: type) -> type:
    """Return a subclass of the lookup or transform ``cls`` that applies to its left side cast to jsonb."""
    if cls not in _ON_JSONB:
        base_init: Callable[..., None] = cls.__init__  # type: ignore[misc]

        def __init__(self: Any, lhs: Any, *args: Any, **kwargs: Any) -> None:  # noqa: N807
            base_init(self, _AsJsonb(lhs), *args, **kwargs)

        _ON_JSONB[cls] = type(f"Jsonb{cls.__name__}", (cls,), {"__init__": __init__, "__module__": __name__})
    return _ON_JSONB[cls]


class _JsonbFactory:
    """A key-transform factory (``details__queue``) applied to the left side cast to jsonb."""

    def __init__(self, factory: Callable[..., Any]) -> None:
        self.factory = factory

    def __call__(self, lhs: Any, *args: Any, **kwargs: Any) -> Any:
        return self.factory(_AsJsonb(lhs), *args, **kwargs)

"""Fixtures for the audit tests: a chain that starts at id 1, entries, and an attacker with raw SQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from govserve.audit import guards
from govserve.audit.actors import Actor
from govserve.audit.events import register_event
from govserve.audit.models import AuditEntry
from govserve.audit.services import audit_record


def _unpatched(method: Any) -> Any:
    """Return the method Django's test case wrapped to forbid threads opening undeclared connections.

    The SQLite live database below is an alias created at run time, which no test
    can declare, so its fixture puts the wrapped method back for the test's duration.
    """
    names = method.__code__.co_freevars
    if "real_ensure_connection" in names:
        return method.__closure__[names.index("real_ensure_connection")].cell_contents
    return method


TEST_ACTION = register_event("audit.test_suite.recorded", description="An entry written by the audit tests.").name
NO_GRACE = dt.timedelta(0)


def sequence_restart(alias: str = "default") -> None:
    """Make the next audit entry id 1 (PostgreSQL sequences survive test rollbacks; SQLite's may survive a flush)."""
    with connections[alias].cursor() as cursor:
        if connections[alias].vendor == "postgresql":
            cursor.execute("SELECT setval(pg_get_serial_sequence('audit_auditentry', 'id'), 1, false)")
        else:
            cursor.execute("DELETE FROM sqlite_sequence WHERE name = 'audit_auditentry'")


@pytest.fixture
def chain(db: None) -> None:
    """An empty audit table whose next id is 1."""
    assert not AuditEntry.objects.exists()
    sequence_restart()


def record(count: int = 1, **overrides: Any) -> list[AuditEntry]:
    """Record ``count`` entries in one transaction, as a service would."""
    entries = []
    with transaction.atomic():
        for number in range(count):
            values: dict[str, Any] = {
                "actor": Actor.system("tests"),
                "action": TEST_ACTION,
                "subject_type": "application",
                "subject_id": f"app-{number}",
                "details": {"number": number, "queue": "licensing"},
            }
            values.update(overrides)
            entries.append(audit_record(**values))
    return entries


@pytest.fixture
def attacker() -> Iterator[Callable[..., int]]:
    """Return a function that runs raw SQL on the audit tables after dropping the guard triggers."""
    guards.uninstall(connection)

    def run(sql: str, params: list[Any] | None = None) -> int:
        with connection.cursor() as cursor:
            cursor.execute(sql, params or [])
            return int(cursor.rowcount)

    yield run
    guards.install(connection)


@pytest.fixture
def live_audit_database(transactional_db: None, tmp_path: Any) -> Iterator[str]:
    """Return a database alias that threads can share with real commits, its next audit id 1.

    PostgreSQL: the test database itself (the test is transactional). SQLite: the
    in-memory test database cannot be shared by writing threads, so a WAL file
    database with the audit tables and their triggers, under a temporary alias.
    """
    if connection.vendor == "postgresql":
        sequence_restart()
        yield "default"
        return
    from govserve.audit.models import AuditChainHead  # noqa: PLC0415

    alias = "audit_live"
    settings_dict = dict(connections.settings["default"])
    settings_dict.update(NAME=str(tmp_path / "audit-live.sqlite3"), TEST={"NAME": None})
    connections.settings[alias] = settings_dict
    patched = BaseDatabaseWrapper.ensure_connection
    BaseDatabaseWrapper.ensure_connection = _unpatched(patched)  # type: ignore[method-assign]
    try:
        with connections[alias].schema_editor() as editor:
            editor.create_model(AuditEntry)
            editor.create_model(AuditChainHead)
        guards.install(connections[alias])
        yield alias
    finally:
        connections[alias].close()
        del connections[alias]  # this thread's wrapper would keep the old file's settings
        del connections.settings[alias]
        BaseDatabaseWrapper.ensure_connection = patched  # type: ignore[method-assign]

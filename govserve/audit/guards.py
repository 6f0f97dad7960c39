"""Database triggers that make the audit tables append-only, and the one sanctioned way past them.

The triggers are a guard rail against bugs and casual tampering, not the
security boundary: someone who can drop a trigger can do anything, and that
is what the hash chain and ``govserve audit verify`` detect. They refuse:

- ``UPDATE`` of a sealed entry (``sealed_at`` set);
- ``UPDATE`` of an unsealed entry that changes anything but its seal
  (``previous_hash``, ``entry_hash``, ``sealed_at``), so the sealer is the
  only writer after the insert;
- ``DELETE`` of entries or of the chain head, and (PostgreSQL) ``TRUNCATE``;
- moving the chain head backwards.

Refusals are integrity errors (PostgreSQL SQLSTATE 23001 ``restrict_violation``,
SQLite ``SQLITE_CONSTRAINT``). The only exception is ``govserve flush``
(Django's "delete everything", used by development and by transactional
tests), which runs inside :func:`flush_permitted`: on PostgreSQL it sets the
session setting ``govserve.audit_flush = on``, on SQLite it flips a flag read
by the SQL function ``govserve_audit_flush_permitted()`` that govserve
registers on its own connections. Any other SQLite client (the ``sqlite3``
shell, a script) lacks that function, so its DELETE fails too.

A migration that alters ``audit_auditentry`` must run :func:`uninstall` before
and :func:`install` after (see migration 0004): PostgreSQL refuses to change
the type of a column a trigger uses, and SQLite drops a table's triggers when
Django's schema editor rebuilds the table (``govserve audit verify`` warns
when they are missing).
"""

# ruff: noqa: S608  (the trigger SQL interpolates fixed table and column names, never a value)
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

ENTRY_TABLE = "audit_auditentry"
HEAD_TABLE = "audit_auditchainhead"
_CONTENT_COLUMNS = (
    "id",
    "occurred_at",
    "actor_kind",
    "actor_id",
    "actor_is_supplier",
    "action",
    "subject_type",
    "subject_id",
    "outcome",
    "request_id",
    "details",
)
SQLITE_TRIGGERS = (
    "audit_entry_refuse_sealed_update",
    "audit_entry_refuse_content_update",
    "audit_entry_refuse_delete",
    "audit_head_refuse_backwards",
    "audit_head_refuse_delete",
)
POSTGRESQL_TRIGGERS = (
    "audit_entry_refuse_update",
    "audit_entry_refuse_delete",
    "audit_entry_refuse_truncate",
    "audit_head_refuse_update",
    "audit_head_refuse_delete",
    "audit_head_refuse_truncate",
)

_state = threading.local()


def _permitted() -> int:
    return 1 if getattr(_state, "flush_permitted", False) else 0


def sqlite_functions_register(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """Register ``govserve_audit_flush_permitted()`` on a new SQLite connection (``connection_created``)."""
    if connection.vendor == "sqlite":
        connection.connection.create_function("govserve_audit_flush_permitted", 0, _permitted)


@contextmanager
def flush_permitted(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """Let this thread's ``connection`` delete audit rows inside the block (``govserve flush`` only)."""
    _state.flush_permitted = True
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET govserve.audit_flush = 'on'")
    try:
        yield
    finally:
        _state.flush_permitted = False
        if connection.vendor == "postgresql" and connection.connection is not None:
            with connection.cursor() as cursor:
                cursor.execute("RESET govserve.audit_flush")


def _sqlite_statements() -> list[str]:
    # Fixed identifiers only: no value of any entry is ever interpolated into this SQL.
    changed = " OR ".join(f"NEW.{column} IS NOT OLD.{column}" for column in _CONTENT_COLUMNS)
    return [
        f"""CREATE TRIGGER IF NOT EXISTS audit_entry_refuse_sealed_update BEFORE UPDATE ON {ENTRY_TABLE}
        FOR EACH ROW WHEN OLD.sealed_at IS NOT NULL
        BEGIN SELECT RAISE(ABORT, 'audit entries are append-only: a sealed entry cannot be changed'); END""",
        f"""CREATE TRIGGER IF NOT EXISTS audit_entry_refuse_content_update BEFORE UPDATE ON {ENTRY_TABLE}
        FOR EACH ROW WHEN OLD.sealed_at IS NULL AND ({changed})
        BEGIN SELECT RAISE(ABORT, 'audit entries are append-only: only the sealer may set the seal'); END""",
        f"""CREATE TRIGGER IF NOT EXISTS audit_entry_refuse_delete BEFORE DELETE ON {ENTRY_TABLE}
        FOR EACH ROW WHEN NOT govserve_audit_flush_permitted()
        BEGIN SELECT RAISE(ABORT, 'audit entries are append-only: DELETE refused'); END""",
        f"""CREATE TRIGGER IF NOT EXISTS audit_head_refuse_backwards BEFORE UPDATE ON {HEAD_TABLE}
        FOR EACH ROW WHEN NEW.id IS NOT OLD.id OR NEW.last_sealed_id < OLD.last_sealed_id
        BEGIN SELECT RAISE(ABORT, 'the audit chain head only moves forward'); END""",
        f"""CREATE TRIGGER IF NOT EXISTS audit_head_refuse_delete BEFORE DELETE ON {HEAD_TABLE}
        FOR EACH ROW WHEN NOT govserve_audit_flush_permitted()
        BEGIN SELECT RAISE(ABORT, 'the audit chain head cannot be deleted'); END""",
    ]


def _postgresql_statements() -> list[str]:
    # Fixed identifiers only: no value of any entry is ever interpolated into this SQL.
    # json has no equality operator: compare its exact text.
    new_row = ", ".join(
        f"NEW.{column}::text" if column == "details" else f"NEW.{column}" for column in _CONTENT_COLUMNS
    )
    old_row = ", ".join(
        f"OLD.{column}::text" if column == "details" else f"OLD.{column}" for column in _CONTENT_COLUMNS
    )
    return [
        """CREATE OR REPLACE FUNCTION govserve_audit_flush_permitted() RETURNS boolean
        LANGUAGE sql STABLE AS $$ SELECT coalesce(current_setting('govserve.audit_flush', true), '') = 'on' $$""",
        # The WHEN condition runs in C for every sealed row; the function only words the refusal.
        """CREATE OR REPLACE FUNCTION audit_entry_refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF OLD.sealed_at IS NOT NULL THEN
            RAISE EXCEPTION 'audit entries are append-only: sealed entry % cannot be changed', OLD.id
              USING ERRCODE = 'restrict_violation';
          END IF;
          RAISE EXCEPTION 'audit entries are append-only: only the sealer may set the seal of entry %', OLD.id
            USING ERRCODE = 'restrict_violation';
        END $$""",
        """CREATE OR REPLACE FUNCTION audit_refuse_removal() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF govserve_audit_flush_permitted() THEN
            RETURN OLD;
          END IF;
          RAISE EXCEPTION 'audit tables are append-only: % on % refused', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation';
        END $$""",
        """CREATE OR REPLACE FUNCTION audit_head_refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.id <> OLD.id OR NEW.last_sealed_id < OLD.last_sealed_id THEN
            RAISE EXCEPTION 'the audit chain head only moves forward' USING ERRCODE = 'restrict_violation';
          END IF;
          RETURN NEW;
        END $$""",
        f"""CREATE OR REPLACE TRIGGER audit_entry_refuse_update BEFORE UPDATE ON {ENTRY_TABLE}
        FOR EACH ROW WHEN (OLD.sealed_at IS NOT NULL OR ROW({new_row}) IS DISTINCT FROM ROW({old_row}))
        EXECUTE FUNCTION audit_entry_refuse_update()""",
        f"""CREATE OR REPLACE TRIGGER audit_entry_refuse_delete BEFORE DELETE ON {ENTRY_TABLE}
        FOR EACH ROW EXECUTE FUNCTION audit_refuse_removal()""",
        f"""CREATE OR REPLACE TRIGGER audit_entry_refuse_truncate BEFORE TRUNCATE ON {ENTRY_TABLE}
        FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_removal()""",
        f"""CREATE OR REPLACE TRIGGER audit_head_refuse_update BEFORE UPDATE ON {HEAD_TABLE}
        FOR EACH ROW EXECUTE FUNCTION audit_head_refuse_update()""",
        f"""CREATE OR REPLACE TRIGGER audit_head_refuse_delete BEFORE DELETE ON {HEAD_TABLE}
        FOR EACH ROW EXECUTE FUNCTION audit_refuse_removal()""",
        f"""CREATE OR REPLACE TRIGGER audit_head_refuse_truncate BEFORE TRUNCATE ON {HEAD_TABLE}
        FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_removal()""",
        # Sealing rewrites each row once; free space on the page keeps that a
        # HOT update (no index churn) instead of a row moved to another page.
        f"ALTER TABLE {ENTRY_TABLE} SET (fillfactor = 70)",
    ]


def install(connection: BaseDatabaseWrapper) -> None:
    """Create (or re-create) the guard triggers on ``connection``; a no-op on other databases."""
    if connection.vendor == "sqlite":
        statements = _sqlite_statements()
    elif connection.vendor == "postgresql":
        statements = _postgresql_statements()
    else:
        return
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def uninstall(connection: BaseDatabaseWrapper) -> None:
    """Drop the guard triggers (migration rollback; tests that simulate an attacker who drops them)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for name in SQLITE_TRIGGERS:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
        elif connection.vendor == "postgresql":
            for name in POSTGRESQL_TRIGGERS:
                table = HEAD_TABLE if name.startswith("audit_head") else ENTRY_TABLE
                cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")


def missing(connection: BaseDatabaseWrapper) -> list[str]:
    """Return the names of the guard triggers missing on ``connection`` (empty when all are there)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            expected: tuple[str, ...] = SQLITE_TRIGGERS
        elif connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid IN (%s::regclass, %s::regclass) AND NOT tgisinternal",
                [ENTRY_TABLE, HEAD_TABLE],
            )
            expected = POSTGRESQL_TRIGGERS
        else:
            return []
        present = {row[0] for row in cursor.fetchall()}
    return [name for name in expected if name not in present]

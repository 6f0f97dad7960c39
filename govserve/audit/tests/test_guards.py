"""The append-only triggers refuse changes and deletions; only ``govserve flush`` gets past them."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from govserve.audit import guards
from govserve.audit.models import AuditChainHead, AuditEntry
from govserve.audit.sealer import seal_pending
from govserve.audit.tests.conftest import record, sequence_restart


def _refused(sql: str, params: list[str | int] | None = None) -> str:
    with pytest.raises(IntegrityError) as refusal, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params or [])
    return str(refusal.value)


def test_guards_are_installed_by_the_migrations(db: None) -> None:
    assert guards.missing(connection) == []


def test_a_sealed_entry_cannot_be_updated(chain: None) -> None:
    record(1)
    seal_pending()
    before = AuditEntry.objects.values().get(id=1)
    message = _refused("UPDATE audit_auditentry SET subject_id = 'x' WHERE id = 1")
    assert "append-only" in message
    assert "sealed" in message
    assert _refused("UPDATE audit_auditentry SET entry_hash = '' WHERE id = 1")
    assert AuditEntry.objects.values().get(id=1) == before


def test_an_unsealed_entry_accepts_only_its_seal(chain: None) -> None:
    record(1)
    before = AuditEntry.objects.values().get(id=1)
    assert "only the sealer may set the seal" in _refused("UPDATE audit_auditentry SET action = 'x' WHERE id = 1")
    assert "only the sealer may set the seal" in _refused("UPDATE audit_auditentry SET id = 9 WHERE id = 1")
    assert AuditEntry.objects.values().get(id=1) == before


def test_entries_and_the_head_cannot_be_deleted(chain: None) -> None:
    record(2)
    seal_pending()
    assert "append-only" in _refused("DELETE FROM audit_auditentry WHERE id = 2")
    assert "append-only" in _refused("DELETE FROM audit_auditentry WHERE sealed_at IS NULL OR id > 0")
    assert _refused("DELETE FROM audit_auditchainhead")
    assert AuditEntry.objects.count() == 2
    assert AuditChainHead.objects.get().last_sealed_id == 2


def test_the_head_never_moves_backwards(chain: None) -> None:
    record(2)
    seal_pending()
    assert "only moves forward" in _refused("UPDATE audit_auditchainhead SET last_sealed_id = 1")
    assert AuditChainHead.objects.get().last_sealed_id == 2


@pytest.mark.postgres_only
def test_postgresql_truncate_is_refused(chain: None) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    record(1)
    assert "append-only" in _refused("TRUNCATE audit_auditentry")
    assert AuditEntry.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_govserve_flush_is_the_one_way_to_wipe_the_audit_tables() -> None:
    # given committed, sealed entries (a transactional test: its teardown flushes the database too)
    sequence_restart()
    record(3)
    seal_pending()
    # when the database is flushed, the audit tables are emptied with everything else
    call_command("flush", interactive=False, verbosity=0)
    assert AuditEntry.objects.count() == 0
    assert AuditChainHead.objects.count() == 0
    # and the guard is back right after
    record(1)
    with pytest.raises(IntegrityError), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditentry")
    assert AuditEntry.objects.count() == 1

"""The sealer chains committed entries in id order and never skips one."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

import psycopg
import pytest
from django.db import connection, transaction

from govserve.audit.chain import GENESIS_HASH, canonical_bytes, chain_hash
from govserve.audit.errors import SealRefusedError
from govserve.audit.models import AuditChainHead, AuditEntry
from govserve.audit.sealer import HOLE_ACTION, seal_pending
from govserve.audit.tests.concurrency import run_writers_and_sealer
from govserve.audit.tests.conftest import NO_GRACE, record, sequence_restart
from govserve.audit.verify import _raw_row_values, stored_canonical, verify_chain
from govserve.core import clock

Attacker = Callable[..., int]


class _RollbackError(Exception):
    pass


def _record_and_roll_back(count: int = 1) -> None:
    try:
        with transaction.atomic():
            record(count)
            raise _RollbackError
    except _RollbackError:
        pass


def _leave_gap(attacker: Attacker) -> int:
    """Leave id 3 missing below a committed id 4 (rolled back on PostgreSQL; deleted before sealing on SQLite)."""
    record(2)
    if connection.vendor == "postgresql":
        _record_and_roll_back()  # the sequence never hands id 3 out again
    else:
        record(1)  # SQLite reuses rolled-back ids: a gap can only be an unsealed entry deleted
        attacker("DELETE FROM audit_auditentry WHERE id = 3")
    record(1)
    assert sorted(AuditEntry.objects.values_list("id", flat=True)) == [1, 2, 4]
    return 3


def test_entries_are_chained_in_id_order_from_the_genesis_hash(chain: None) -> None:
    # given three committed entries
    entries = record(3)
    # when the sealer runs
    report = seal_pending()
    # then each entry's hash chains onto the one before, starting at the genesis hash
    assert (report.sealed, report.holes, report.last_sealed_id, report.waiting_for_id, report.busy) == (
        3,
        (),
        3,
        None,
        False,
    )
    previous = GENESIS_HASH
    for entry in entries:
        entry.refresh_from_db()
        assert entry.previous_hash == previous
        stored = _raw_row_values(connection, entry.id)
        assert stored is not None
        assert entry.entry_hash == chain_hash(previous, canonical_bytes(stored_canonical(stored)))
        assert entry.sealed_at is not None
        previous = entry.entry_hash
    head = AuditChainHead.objects.get()
    assert (head.last_sealed_id, head.last_hash, head.last_sealed_at) == (3, previous, entries[-1].sealed_at)


def test_sealing_again_changes_nothing_and_later_entries_extend_the_chain(chain: None) -> None:
    record(2)
    seal_pending()
    sealed = list(AuditEntry.objects.values_list("id", "entry_hash", "sealed_at"))
    assert seal_pending().sealed == 0
    assert list(AuditEntry.objects.values_list("id", "entry_hash", "sealed_at")) == sealed
    record(1)
    assert seal_pending().sealed == 1
    assert AuditEntry.objects.get(id=3).previous_hash == sealed[-1][1]


def test_small_batches_chain_the_same_way(chain: None) -> None:
    record(7)
    assert seal_pending(batch_size=2).sealed == 7
    assert verify_chain().intact


def test_a_rolled_back_entry_leaves_no_gap(chain: None) -> None:
    # given committed entries around a transaction that rolled back
    record(2)
    _record_and_roll_back()
    record(2)
    # when the sealer runs (no grace period)
    report = seal_pending(hole_grace=NO_GRACE)
    # then PostgreSQL's lost id is chained as a hole; SQLite reused the id, so there is none
    if connection.vendor == "postgresql":
        assert (report.sealed, report.holes) == (5, (3,))
        hole = AuditEntry.objects.get(id=3)
        assert (hole.action, hole.actor_kind, hole.actor_id, hole.subject_type, hole.subject_id, hole.details) == (
            HOLE_ACTION,
            "system",
            "audit-sealer",
            "audit_entry",
            "3",
            {"reason": "id_not_committed"},
        )
    else:
        assert (report.sealed, report.holes) == (4, ())
    assert verify_chain().intact


def test_a_gap_waits_for_its_grace_period_then_becomes_a_hole(
    chain: None, attacker: Attacker, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given id 3 missing below committed id 4
    missing = _leave_gap(attacker)
    grace = dt.timedelta(seconds=60)
    # when the sealer runs within the grace period, it seals up to the gap and waits
    first = seal_pending(hole_grace=grace)
    assert (first.sealed, first.holes, first.waiting_for_id, first.last_sealed_id) == (2, (), missing, 2)
    head = AuditChainHead.objects.get()
    assert (head.horizon_id, head.probe_upto_id) == (4, 0)
    assert not AuditEntry.objects.filter(id=missing).exists()
    # 30 seconds later: still waiting
    started = clock.now()
    monkeypatch.setattr(clock, "now", lambda: started + dt.timedelta(seconds=30))
    assert seal_pending(hole_grace=grace).waiting_for_id == missing
    # after the grace period: the id is probed, recorded as a hole, and the chain goes on
    monkeypatch.setattr(clock, "now", lambda: started + dt.timedelta(seconds=61))
    later = seal_pending(hole_grace=grace)
    assert (later.sealed, later.holes, later.waiting_for_id, later.last_sealed_id) == (2, (missing,), None, 4)
    assert verify_chain().intact


def test_an_entry_already_sealed_after_the_head_stops_the_sealer(chain: None, attacker: Attacker) -> None:
    record(2)
    seal_pending()
    record(2)
    attacker("UPDATE audit_auditentry SET entry_hash = %s, sealed_at = %s WHERE id = 4", ["e" * 64, clock.now()])
    with pytest.raises(SealRefusedError, match=r"audit entries 3\.\.4 follow the chain head but some are already"):
        seal_pending()
    assert AuditChainHead.objects.get().last_sealed_id == 2
    assert AuditEntry.objects.get(id=3).sealed_at is None


def test_an_entry_that_cannot_be_canonical_stops_the_sealer(chain: None, attacker: Attacker) -> None:
    record(2)
    attacker("UPDATE audit_auditentry SET details = '[1, 2]' WHERE id = 2")
    with pytest.raises(SealRefusedError, match="audit entry 2 cannot be sealed: details must be a JSON object"):
        seal_pending()
    assert not AuditChainHead.objects.filter(last_sealed_id__gt=0).exists()
    assert AuditEntry.objects.get(id=1).sealed_at is None


# --- PostgreSQL: ids committed out of order, sealers in parallel ---------------------------------


def _other_connection() -> psycopg.Connection[tuple[object, ...]]:
    settings = connection.settings_dict
    return psycopg.connect(
        host=settings["HOST"] or "127.0.0.1",
        port=int(settings["PORT"] or 5432),
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        dbname=settings["NAME"],
    )


def _insert_sql() -> str:
    return (
        "INSERT INTO audit_auditentry (occurred_at, actor_kind, actor_id, actor_is_supplier, action, subject_type,"
        " subject_id, outcome, request_id, details, previous_hash, entry_hash)"
        " VALUES (now(), 'system', 'other', false, 'audit.test_suite.recorded', 'application', 'x', 'success',"
        " '', '{}', '', '') RETURNING id"
    )


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_postgresql_an_id_in_flight_is_waited_for_never_skipped() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL allocates ids before commit; SQLite serialises writers")
    sequence_restart()
    record(1)
    with _other_connection() as other:
        # given id 2 inserted by a transaction still open, and id 3 committed after it
        in_flight = other.execute(_insert_sql()).fetchone()
        assert in_flight == (2,)
        record(1)
        # when the sealer runs without grace: the probe waits for id 2, times out, and sealing stops before it
        report = seal_pending(hole_grace=NO_GRACE, hole_wait=dt.timedelta(milliseconds=200))
        assert (report.sealed, report.holes, report.waiting_for_id, report.last_sealed_id) == (1, (), 2, 1)
        # then the transaction commits, and the next run chains 2 then 3 in order
        other.commit()
    report = seal_pending(hole_grace=NO_GRACE)
    assert (report.sealed, report.holes, report.last_sealed_id) == (2, (), 3)
    assert list(AuditEntry.objects.values_list("actor_id", flat=True)) == ["tests", "other", "tests"]
    assert verify_chain().intact


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_postgresql_the_probe_waits_for_a_rollback_then_records_the_hole() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    sequence_restart()
    other = _other_connection()
    try:
        assert other.execute(_insert_sql()).fetchone() == (1,)
        record(1)
        timer = threading.Timer(0.3, other.rollback)
        timer.start()
        report = seal_pending(hole_grace=NO_GRACE, hole_wait=dt.timedelta(seconds=10))
        timer.join()
    finally:
        other.close()
    assert (report.sealed, report.holes, report.waiting_for_id, report.last_sealed_id) == (2, (1,), None, 2)
    assert verify_chain().intact


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_postgresql_a_second_sealer_finds_the_head_taken_and_returns() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    sequence_restart()
    record(2)
    seal_pending()
    record(1)
    with _other_connection() as other:
        other.execute("SELECT * FROM audit_auditchainhead WHERE id = 1 FOR UPDATE")
        report = seal_pending()
        assert (report.busy, report.sealed) == (True, 0)
    assert seal_pending().sealed == 1


# --- Concurrent writers (both databases) ----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_and_a_repeated_sealer_make_one_chain_without_fork_or_gap(
    live_audit_database: str,
) -> None:
    outcome = run_writers_and_sealer(alias=live_audit_database, writers=4, transactions=20, per_transaction=3)
    rows = outcome.rows
    ids = [row.id for row in rows]
    # no gap: every id from 1 to the last is in the chain, each sealed once, each link pointing to the one before
    assert ids == list(range(1, len(ids) + 1))
    assert all(row.sealed for row in rows)
    assert [row.previous_hash for row in rows[1:]] == [row.entry_hash for row in rows[:-1]]
    assert len({row.previous_hash for row in rows}) == len(rows)  # no fork: no two entries share a predecessor
    assert outcome.sealed_total == len(rows)  # each entry sealed exactly once across all the sealer's runs
    # every committed entry is in the chain; only ids of rolled-back transactions are holes
    entries = {row.id for row in rows if row.action != HOLE_ACTION}
    holes = {row.id for row in rows if row.action == HOLE_ACTION}
    assert entries == outcome.committed_ids
    assert holes == outcome.hole_ids_reported
    assert holes <= outcome.rolled_back_ids
    if outcome.vendor == "postgresql":
        assert holes == {i for i in outcome.rolled_back_ids if i < max(outcome.committed_ids)}
        assert holes, "the run should have rolled back some transactions below the last committed id"
    assert outcome.verify_intact
    assert outcome.rolled_back_transactions > 0

"""Writers in several threads (each with its own connection) while a sealer runs again and again."""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
from dataclasses import dataclass, field

from django.db import connections, transaction

from govserve.audit.models import AuditEntry
from govserve.audit.sealer import seal_pending
from govserve.audit.tests.conftest import TEST_ACTION
from govserve.audit.verify import verify_chain


class _RollbackError(Exception):
    pass


@dataclass(frozen=True)
class ChainRow:
    id: int
    action: str
    previous_hash: str
    entry_hash: str
    sealed: bool


@dataclass
class Outcome:
    vendor: str
    rows: list[ChainRow] = field(default_factory=list)
    committed_ids: set[int] = field(default_factory=set)
    rolled_back_ids: set[int] = field(default_factory=set)
    rolled_back_transactions: int = 0
    hole_ids_reported: set[int] = field(default_factory=set)
    sealed_total: int = 0
    verify_intact: bool = False


def run_writers_and_sealer(*, alias: str, writers: int, transactions: int, per_transaction: int) -> Outcome:
    """Run the scenario on database ``alias``; return what was committed, rolled back and chained."""
    vendor = connections[alias].vendor
    outcome = Outcome(vendor=vendor)
    # PostgreSQL: a short grace period, as in production (an id is never probed in the instant
    # between nextval() and its insert); SQLite cannot have an id in flight while the sealer writes.
    grace = dt.timedelta(seconds=0.3) if vendor == "postgresql" else dt.timedelta(0)
    wait = dt.timedelta(seconds=0.5)
    lock = threading.Lock()
    errors: list[BaseException] = []
    writers_done = threading.Event()

    def writer(number: int) -> None:
        chance = random.Random(number)
        try:
            for transaction_number in range(transactions):
                ids: list[int] = []
                try:
                    with transaction.atomic(using=alias):
                        for position in range(per_transaction):
                            entry = AuditEntry.objects.using(alias).create(
                                actor_kind="system",
                                actor_id=f"writer-{number}",
                                action=TEST_ACTION,
                                subject_type="test",
                                subject_id=f"{number}-{transaction_number}-{position}",
                                details={"writer": number},
                            )
                            ids.append(entry.id)
                            if chance.random() < 0.3:
                                time.sleep(0.002)  # keep the transaction open a little: commits interleave
                        if chance.random() < 0.25:
                            raise _RollbackError
                except _RollbackError:
                    with lock:
                        outcome.rolled_back_ids.update(ids)
                        outcome.rolled_back_transactions += 1
                else:
                    with lock:
                        outcome.committed_ids.update(ids)
        except BaseException as error:
            errors.append(error)
        finally:
            connections[alias].close()

    def sealer() -> None:
        try:
            while not writers_done.is_set():
                report = seal_pending(using=alias, hole_grace=grace, hole_wait=wait, batch_size=7)
                outcome.sealed_total += report.sealed
                outcome.hole_ids_reported.update(report.holes)
                time.sleep(0.005)
        except BaseException as error:
            errors.append(error)
        finally:
            connections[alias].close()

    threads = [threading.Thread(target=writer, args=(number,)) for number in range(writers)]
    sealing = threading.Thread(target=sealer)
    sealing.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    writers_done.set()
    sealing.join(timeout=120)
    assert not errors, errors
    # Drain: keep sealing until nothing waits (holes need their grace period to pass).
    deadline = time.monotonic() + 30
    while True:
        report = seal_pending(using=alias, hole_grace=grace, hole_wait=wait)
        outcome.sealed_total += report.sealed
        outcome.hole_ids_reported.update(report.holes)
        if report.waiting_for_id is None and report.sealed == 0:
            break
        assert time.monotonic() < deadline, report
        time.sleep(0.05)
    with connections[alias].cursor() as cursor:
        cursor.execute(
            "SELECT id, action, previous_hash, entry_hash, sealed_at IS NOT NULL FROM audit_auditentry ORDER BY id"
        )
        outcome.rows = [ChainRow(*row) for row in cursor.fetchall()]
    outcome.verify_intact = verify_chain(using=alias).intact
    return outcome

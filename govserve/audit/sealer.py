"""The sealer: chain committed audit entries in id order, behind a watermark, never skipping one.

Writers insert entries unchained inside their business transactions and never
wait for the chain. The sealer (a scheduled job every few seconds, or
``govserve audit seal``) extends the chain from its head, the single row of
``audit_auditchainhead``, which only sealers lock: ``SELECT ... FOR UPDATE SKIP
LOCKED`` on PostgreSQL (a second sealer finds it taken and returns at once), an
``IMMEDIATE`` transaction on SQLite (which serialises every writer anyway).

The hard part is PostgreSQL: an id comes from a sequence when the row is
inserted, not when it commits, so id 41 may become visible *after* id 42.
The sealer therefore chains only the contiguous run of visible ids that
follows the head and stops at the first missing id ``g``. That id is one of:

1. **in flight**: its transaction has not committed yet and will (wait);
2. **rolled back**: sequences never hand an id out twice, so it stays a hole;
3. **deleted** before it was sealed (an attacker or a bug with raw SQL).

It decides without guessing, in two steps:

- *Grace period* (``GOVSERVE_AUDIT_HOLE_GRACE_SECONDS``, default 60). The head
  keeps a *horizon*: an id seen committed at a time (``horizon_id``,
  ``horizon_at``). Every id below a committed id was allocated before it, so
  once the horizon is older than the grace period every id up to
  ``horizon_id`` has been allocated for at least that long; only those ids
  (``probe_upto_id``) may be probed. This covers the tiny window between
  ``nextval()`` and the row reaching the primary-key index.
- *Probe*. The sealer inserts the hole marker itself, an entry with id ``g``
  and action ``audit.chain.id_skipped``, under a lock timeout
  (``GOVSERVE_AUDIT_HOLE_WAIT_SECONDS``, default 2). The primary key decides:
  if a transaction still holds row ``g`` uncommitted, PostgreSQL makes the
  insert wait for it; it commits → unique violation → the real entry is
  chained next; it rolls back → the marker is inserted; the lock timeout
  expires → still in flight, stop and retry on the next run. The marker is
  then sealed like any entry, so the chain records "id g never committed"
  explicitly and the verifier can tell a hole from a deleted entry (a missing
  id inside the sealed range is always a deletion).

On SQLite, ids are assigned under the database's single write lock, which the
sealer holds for its whole batch, and a rolled-back id is reused: a gap there
is never in flight, and the probe records it at once after the grace period
(it can only come from a deletion before sealing; docs/audit.md says so).

Batches are separate transactions (``GOVSERVE_AUDIT_SEAL_BATCH`` entries,
default 2000) so the head lock, and SQLite's write lock, are held briefly.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

import psycopg
import structlog
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, IntegrityError, OperationalError, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from govserve.audit.actors import ActorKind
from govserve.audit.chain import CanonicalFormError, canonical_bytes, canonical_entry, chain_hash
from govserve.audit.errors import SealRefusedError
from govserve.audit.models import AuditChainHead, AuditEntry, Outcome
from govserve.core import clock

logger = structlog.get_logger(__name__)

SEALER_ACTOR_ID = "audit-sealer"
HOLE_ACTION = "audit.chain.id_skipped"
_SELECT_UNSEALED = (
    "SELECT id, occurred_at, actor_kind, actor_id, actor_is_supplier, action, subject_type, subject_id,"
    " outcome, request_id, details FROM audit_auditentry WHERE id > %s ORDER BY id LIMIT %s"
)
_LOCK_NOT_AVAILABLE = "55P03"


@dataclass(frozen=True)
class SealReport:
    """What one :func:`seal_pending` call did.

    ``sealed`` counts chained entries, hole markers included; ``holes`` are the
    ids recorded as never committed; ``waiting_for_id`` is the missing id that
    stopped sealing (in flight, or inside its grace period), if any; ``busy``
    means another sealer held the head and this call did nothing.
    """

    sealed: int
    holes: tuple[int, ...]
    last_sealed_id: int
    last_hash: str
    waiting_for_id: int | None = None
    busy: bool = False


@dataclass
class _Batch:
    sealed: int = 0
    holes: list[int] = field(default_factory=list)
    waiting_for_id: int | None = None
    busy: bool = False
    more: bool = False
    head: AuditChainHead | None = None


def _setting_seconds(name: str, default: float) -> dt.timedelta:
    return dt.timedelta(seconds=float(getattr(settings, name, default)))


def seal_pending(
    *,
    using: str = DEFAULT_DB_ALIAS,
    batch_size: int | None = None,
    hole_grace: dt.timedelta | None = None,
    hole_wait: dt.timedelta | None = None,
) -> SealReport:
    """Chain every committed entry that can be chained now, in id order, and return what was done.

    Idempotent and safe to run from any number of processes at once (one
    sealer works, the others return ``busy``). Never chains an entry out of
    order and never skips one: it stops before an id that is not yet visible
    and records it as a hole only as described in the module docstring.
    Raise SealRefusedError when an entry after the head is already sealed or
    cannot be put in canonical form (tampering or a bug; the chain stops there).
    """
    size = batch_size or int(getattr(settings, "GOVSERVE_AUDIT_SEAL_BATCH", 2000))
    grace = hole_grace if hole_grace is not None else _setting_seconds("GOVSERVE_AUDIT_HOLE_GRACE_SECONDS", 60)
    wait = hole_wait if hole_wait is not None else _setting_seconds("GOVSERVE_AUDIT_HOLE_WAIT_SECONDS", 2)
    sealed = 0
    holes: list[int] = []
    while True:
        with transaction.atomic(using=using):
            batch = _seal_batch(connections[using], using=using, size=size, grace=grace, wait=wait)
        sealed += batch.sealed
        holes.extend(batch.holes)
        if not batch.more:
            break
    head = batch.head
    report = SealReport(
        sealed=sealed,
        holes=tuple(holes),
        last_sealed_id=head.last_sealed_id if head else 0,
        last_hash=head.last_hash if head else "",
        waiting_for_id=batch.waiting_for_id,
        busy=batch.busy,
    )
    if sealed or holes or report.waiting_for_id is not None:
        logger.info(
            "audit.chain.sealed",
            sealed=sealed,
            holes=len(holes),
            last_sealed_id=report.last_sealed_id,
            waiting_for_id=report.waiting_for_id,
        )
    return report


def _head_lock(using: str) -> AuditChainHead | None:
    """Return the chain head locked for this transaction, or None when another sealer holds it."""
    heads = AuditChainHead.objects.using(using)
    # Also takes SQLite's write lock first, so the batch reads what it will write after.
    heads.bulk_create([AuditChainHead(pk=1)], ignore_conflicts=True)
    return heads.select_for_update(skip_locked=True).filter(pk=1).first()


def _seal_batch(
    connection: BaseDatabaseWrapper, *, using: str, size: int, grace: dt.timedelta, wait: dt.timedelta
) -> _Batch:
    batch = _Batch()
    head = _head_lock(using)
    if head is None:
        batch.busy = True
        return batch
    batch.head = head
    with connection.cursor() as cursor:
        cursor.execute(_SELECT_UNSEALED, [head.last_sealed_id, size])
        rows = cursor.fetchall()
    if not rows:
        return batch
    expected = head.last_sealed_id + 1
    run: list[tuple[Any, ...]] = []
    for row in rows:
        if row[0] != expected:
            break
        run.append(row)
        expected += 1
    if run:
        _chain(connection, head, run)
        batch.sealed = len(run)
    if len(run) < len(rows):
        # ``expected`` is missing while a later id is visible.
        next_visible = rows[len(run)][0]
        batch.more = _resolve_gap(connection, head, batch, start=expected, stop=next_visible, grace=grace, wait=wait)
    else:
        batch.more = len(rows) == size
    head.save(
        using=using,
        update_fields=["last_sealed_id", "last_hash", "last_sealed_at", "horizon_id", "horizon_at", "probe_upto_id"],
    )
    return batch


def _chain(connection: BaseDatabaseWrapper, head: AuditChainHead, run: list[tuple[Any, ...]]) -> None:
    """Hash ``run`` (contiguous ids after the head) onto the chain and write the seals and the new head."""
    sealed_at = clock.now()
    previous = head.last_hash
    seals: list[tuple[int, str, str]] = []
    for (
        entry_id,
        occurred_at,
        kind,
        actor_id,
        supplier,
        action,
        subject_type,
        subject_id,
        outcome,
        request,
        details,
    ) in run:
        try:
            values = canonical_entry(
                entry_id=entry_id,
                occurred_at=occurred_at,
                actor_kind=kind,
                actor_id=actor_id,
                actor_is_supplier=supplier,
                action=action,
                subject_type=subject_type,
                subject_id=subject_id,
                outcome=outcome,
                request_id=request,
                details=details,
                sealed_at=sealed_at,
            )
        except CanonicalFormError as error:
            msg = f"audit entry {entry_id} cannot be sealed: {error}"
            raise SealRefusedError(msg, entry_id=entry_id) from error
        digest = chain_hash(previous, canonical_bytes(values))
        seals.append((entry_id, previous, digest))
        previous = digest
    if connection.vendor == "postgresql":
        # A server-side-binding cursor sends the three arrays as parameters (Django's client-side
        # binding would quote each element); the id range lets PostgreSQL walk the primary key.
        with psycopg.Cursor(connection.connection) as raw:
            raw.execute(
                "UPDATE audit_auditentry AS e SET previous_hash = v.previous_hash, entry_hash = v.entry_hash,"
                " sealed_at = %s FROM unnest(%s::bigint[], %s::varchar[], %s::varchar[])"
                " AS v(id, previous_hash, entry_hash)"
                " WHERE e.id = v.id AND e.id BETWEEN %s AND %s AND e.sealed_at IS NULL",
                [
                    sealed_at,
                    [seal[0] for seal in seals],
                    [seal[1] for seal in seals],
                    [seal[2] for seal in seals],
                    seals[0][0],
                    seals[-1][0],
                ],
            )
            updated = raw.rowcount
    else:
        stored_at = connection.ops.adapt_datetimefield_value(sealed_at)
        with connection.cursor() as cursor:
            cursor.executemany(
                "UPDATE audit_auditentry SET previous_hash = %s, entry_hash = %s, sealed_at = %s"
                " WHERE id = %s AND sealed_at IS NULL",
                [(previous_hash, digest, stored_at, entry_id) for entry_id, previous_hash, digest in seals],
            )
            updated = cursor.rowcount
    if updated != len(seals):
        msg = (
            f"audit entries {seals[0][0]}..{seals[-1][0]} follow the chain head but some are already sealed:"
            " run `govserve audit verify`"
        )
        raise SealRefusedError(msg, entry_id=seals[0][0])
    head.last_sealed_id = seals[-1][0]
    head.last_hash = previous
    head.last_sealed_at = sealed_at


def _advance_horizon(head: AuditChainHead, *, max_visible: int, now: dt.datetime, grace: dt.timedelta) -> None:
    """Move ``probe_upto_id`` to the ids known to have been allocated at least ``grace`` ago."""
    if grace <= dt.timedelta(0):
        head.probe_upto_id = max(head.probe_upto_id, max_visible)
    elif head.horizon_at is not None and now - head.horizon_at >= grace:
        head.probe_upto_id = max(head.probe_upto_id, head.horizon_id)
    elif head.horizon_at is not None:
        return  # the current horizon is not old enough yet: keep it
    head.horizon_id = max_visible
    head.horizon_at = now


def _resolve_gap(
    connection: BaseDatabaseWrapper,
    head: AuditChainHead,
    batch: _Batch,
    *,
    start: int,
    stop: int,
    grace: dt.timedelta,
    wait: dt.timedelta,
) -> bool:
    """Probe the missing ids ``start .. stop - 1``; return True when sealing can go on at once."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT MAX(id) FROM audit_auditentry")
        max_visible = cursor.fetchone()[0]
    _advance_horizon(head, max_visible=max_visible, now=clock.now(), grace=grace)
    for missing in range(start, stop):
        if missing > head.probe_upto_id:
            batch.waiting_for_id = missing
            return False
        outcome = _probe(connection, missing, wait=wait)
        if outcome == "in_flight":
            batch.waiting_for_id = missing
            return False
        if outcome == "appeared":
            return True
        batch.holes.append(missing)
    return True


def _probe(
    connection: BaseDatabaseWrapper, entry_id: int, *, wait: dt.timedelta
) -> Literal["hole", "appeared", "in_flight"]:
    """Insert the hole marker for ``entry_id``; the primary key tells whether a real entry holds the id."""
    postgresql = connection.vendor == "postgresql"
    previous_timeout = ""
    if postgresql:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('lock_timeout')")
            previous_timeout = cursor.fetchone()[0]
            milliseconds = max(1, int(wait.total_seconds() * 1000))
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{milliseconds}ms"])
    try:
        with transaction.atomic(using=connection.alias):
            AuditEntry.objects.using(connection.alias).create(
                id=entry_id,
                actor_kind=ActorKind.SYSTEM.value,
                actor_id=SEALER_ACTOR_ID,
                action=HOLE_ACTION,
                subject_type="audit_entry",
                subject_id=str(entry_id),
                outcome=Outcome.SUCCESS,
                details={"reason": "id_not_committed"},
            )
    except IntegrityError:
        return "appeared"
    except OperationalError as error:
        if getattr(error.__cause__, "sqlstate", None) == _LOCK_NOT_AVAILABLE:
            return "in_flight"
        raise
    finally:
        if postgresql:
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('lock_timeout', %s, true)", [previous_timeout])
    return "hole"

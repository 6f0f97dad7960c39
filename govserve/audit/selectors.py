"""Read the audit log: the chain head (public), sealed entries for export, entries for auditors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.contrib.auth.models import AbstractUser, AnonymousUser
from django.db import DEFAULT_DB_ALIAS, connections

from govserve.audit.chain import CanonicalFormError
from govserve.audit.errors import AuditReadDeniedError
from govserve.audit.models import AuditEntry
from govserve.audit.verify import (
    STORED_NAMES,
    ChainHead,
    chain_head_read,
    read_snapshot,
    stored_canonical,
    stored_columns_sql,
    stream_rows,
)

READ_PERMISSION = "audit.view_auditentry"


def chain_head_get(*, using: str = DEFAULT_DB_ALIAS) -> ChainHead:
    """Return the chain head (id, hash, sealed_at); it reveals no entry content, so anyone may read it."""
    return chain_head_read(connections[using])


def chain_entries_sealed(*, using: str = DEFAULT_DB_ALIAS, from_id: int = 1) -> Iterator[dict[str, Any]]:
    """Yield the sealed entries from ``from_id`` to the head in canonical form, with their hashes.

    Streams with a raw cursor in one read snapshot. An entry that cannot be
    put in canonical form (tampered with) is yielded with its stored values as
    strings, so an external verifier sees and reports it.
    """
    connection = connections[using]
    with read_snapshot(connection):
        head = chain_head_read(connection)
        sql = f"SELECT {stored_columns_sql(connection.vendor)} FROM audit_auditentry"  # noqa: S608
        sql += " WHERE id >= %s AND id <= %s ORDER BY id"
        for batch in stream_rows(connection, sql, [from_id, head.id], name="govserve_audit_export"):
            for row in batch:
                stored = dict(zip(STORED_NAMES, row, strict=True))
                try:
                    entry = stored_canonical(stored)
                except CanonicalFormError:
                    entry = {
                        name: value if isinstance(value, int | bool) else str(value) for name, value in stored.items()
                    }
                entry["previous_hash"] = stored["previous_hash"]
                entry["entry_hash"] = stored["entry_hash"]
                yield entry


def _require_reader(user: AbstractUser | AnonymousUser) -> None:
    if not user.is_authenticated or not user.is_active or not user.has_perm(READ_PERMISSION):
        msg = "You do not have permission to read the audit log."
        raise AuditReadDeniedError(msg)


def audit_entries_for_subject(
    *, user: AbstractUser | AnonymousUser, subject_type: str, subject_id: object, limit: int = 200
) -> list[AuditEntry]:
    """Return the latest ``limit`` entries about one subject, newest first.

    The caller needs the ``audit.view_auditentry`` permission (the accounts
    app grants it to auditors and administrators); raise AuditReadDeniedError otherwise.
    """
    _require_reader(user)
    return list(
        AuditEntry.objects.filter(subject_type=subject_type, subject_id=str(subject_id)).order_by("-id")[:limit]
    )


def audit_entries_by_actor(
    *, user: AbstractUser | AnonymousUser, actor_kind: str, actor_id: object, limit: int = 200
) -> list[AuditEntry]:
    """Return the latest ``limit`` entries by one actor, newest first (same permission as above)."""
    _require_reader(user)
    return list(AuditEntry.objects.filter(actor_kind=actor_kind, actor_id=str(actor_id)).order_by("-id")[:limit])

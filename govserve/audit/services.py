"""Write audit entries, and the audited operations on the chain itself.

:func:`audit_record` is what every other app calls, inside the business
transaction that causes the entry. The ``chain_*`` services are the operator
operations behind ``govserve audit``; each records its own audit entry.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any, Protocol

from django.db import DEFAULT_DB_ALIAS, connections, transaction

from govserve.audit import selectors
from govserve.audit.actors import Actor
from govserve.audit.chain import details_check
from govserve.audit.events import event_type
from govserve.audit.models import AuditEntry, Outcome
from govserve.audit.verify import DEFAULT_MAX_UNSEALED_AGE, ChainHead, VerifyReport, verify_chain
from govserve.core.middleware import current_request_id
from govserve.core.queries import insert_reader, save_preparer


class TextOutput(Protocol):
    """Where an export is written (a text file, a command's stdout)."""

    def write(self, text: str, /) -> Any:
        """Write ``text``."""


def audit_record(
    *,
    actor: Actor,
    action: str,
    subject_type: str = "",
    subject_id: object = "",
    outcome: Outcome = Outcome.SUCCESS,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append an audit entry for ``action`` (a registered event name) and return it.

    ``details`` holds ids and codes, never personal values: a JSON object of
    strings, integers, booleans and nulls (lists and objects of those too);
    floats are refused because their text is not canonical. The entry is
    written on the current transaction, so it commits or rolls back with the
    change it records; the sealer chains it a few seconds after the commit.
    Raise LookupError for an unregistered action and
    ``govserve.audit.chain.CanonicalFormError`` (a ValueError) for bad details:
    both are programming errors.
    """
    event_type(action)
    entry = AuditEntry(
        actor_kind=actor.kind.value,
        actor_id=actor.id,
        actor_is_supplier=actor.is_supplier,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        outcome=outcome,
        request_id=current_request_id() or "",
        details=details_check(details or {}),
    )
    _entry_insert(entry)
    return entry


def _entry_insert(entry: AuditEntry, using: str = DEFAULT_DB_ALIAS) -> None:
    """Insert ``entry`` as ``save()`` would (the same statement and values), its id read back; SQL built once.

    Most writes of the platform write an entry: the ORM built this INSERT again
    each time (about 0.25 ms of CPU). AuditEntry has no signal receivers.
    """
    connection = connections[using]
    sql = _INSERT_SQL.get((using, connection.vendor))
    if sql is None:
        quote = connection.ops.quote_name
        columns = ", ".join(quote(str(field.column)) for field in _INSERT_FIELDS)
        placeholders = ", ".join(["%s"] * len(_INSERT_FIELDS))
        table, pk = quote(AuditEntry._meta.db_table), quote("id")
        sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) RETURNING {pk}"  # noqa: S608 - our names
        _INSERT_SQL[(using, connection.vendor)] = sql
    values = [preparer(read(entry), connection) for read, preparer in _INSERT_COLUMNS]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    entry.id = int(row[0])
    entry._state.adding = False
    entry._state.db = using


_INSERT_FIELDS = [field for field in AuditEntry._meta.concrete_fields if not field.primary_key]
_INSERT_COLUMNS = [(insert_reader(field), save_preparer(field)) for field in _INSERT_FIELDS]
_INSERT_SQL: dict[tuple[str, str], str] = {}


def chain_verify(
    *,
    actor: Actor,
    using: str = DEFAULT_DB_ALIAS,
    max_unsealed_age: dt.timedelta = DEFAULT_MAX_UNSEALED_AGE,
    anchors: Mapping[int, str] | None = None,
    workers: int | None = None,
) -> VerifyReport:
    """Verify the whole chain (see :func:`govserve.audit.verify.verify_chain`) and record ``audit.chain.verified``.

    The entry's outcome is ``success`` when the chain is intact, ``failure``
    otherwise; its details carry the counts and the first problem ids, never content.
    """
    report = verify_chain(using=using, max_unsealed_age=max_unsealed_age, anchors=anchors, workers=workers)
    with transaction.atomic(using=using):
        audit_record(
            actor=actor,
            action="audit.chain.verified",
            subject_type="audit_chain",
            subject_id=str(report.head.id),
            outcome=Outcome.SUCCESS if report.intact else Outcome.FAILURE,
            details={
                "checked": report.checked,
                "head_id": report.head.id,
                "problem_count": report.problem_count,
                "problem_ids": [p.entry_id for p in report.problems[:20] if p.entry_id is not None],
                "unsealed": report.unsealed,
            },
        )
    return report


def chain_head_export(*, actor: Actor, using: str = DEFAULT_DB_ALIAS) -> ChainHead:
    """Return the chain head for external anchoring and record ``audit.chain.head_exported``."""
    with transaction.atomic(using=using):
        head = selectors.chain_head_get(using=using)
        audit_record(
            actor=actor,
            action="audit.chain.head_exported",
            subject_type="audit_chain",
            subject_id=str(head.id),
            details={"head_id": head.id, "head_hash": head.hash},
        )
    return head


def chain_entries_export(*, actor: Actor, output: TextOutput, from_id: int = 1, using: str = DEFAULT_DB_ALIAS) -> int:
    """Write the sealed entries from ``from_id`` as JSON lines to ``output``; return how many.

    Each line is one entry in canonical form plus ``previous_hash`` and
    ``entry_hash``, the input of ``docs/audit_verify_standalone.py``. Records
    ``audit.entries.exported`` with the range written.
    """
    written = 0
    last_id = from_id - 1
    for entry in selectors.chain_entries_sealed(using=using, from_id=from_id):
        output.write(json.dumps(entry, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n")
        written += 1
        last_id = entry["id"]
    with transaction.atomic(using=using):
        audit_record(
            actor=actor,
            action="audit.entries.exported",
            subject_type="audit_chain",
            subject_id=str(last_id),
            details={"from_id": from_id, "to_id": last_id, "entries": written},
        )
    return written

"""Write audit entries. Call inside the business transaction that causes them."""

from __future__ import annotations

from typing import Any

from govserve.audit.actors import Actor
from govserve.audit.events import event_type
from govserve.audit.models import AuditEntry, Outcome
from govserve.core.middleware import current_request_id


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

    ``details`` holds ids and codes, never personal values. The entry is
    written on the current transaction, so it commits or rolls back with the
    change it records. Raise LookupError for an unregistered action.
    """
    event_type(action)
    return AuditEntry.objects.create(
        actor_kind=actor.kind.value,
        actor_id=actor.id,
        actor_is_supplier=actor.is_supplier,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        outcome=outcome,
        request_id=current_request_id() or "",
        details=details or {},
    )

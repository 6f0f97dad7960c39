"""Outbound messages: the delivery state machine that email and text messages share.

A stored message (:class:`~govserve.notifications.models.OutboundEmail`,
:class:`~govserve.notifications.models.OutboundSms`) is delivered by one job
(``notifications.email.deliver``, ``notifications.sms.deliver``) that calls
:func:`outbound_deliver` with its :class:`OutboundChannel`:

- the attempt begins: ``status`` becomes ``sending``, committed before the
  network is touched (a message already ``sent`` is left alone);
- content removed by the retention job, or sealed under a key that cannot
  open it, fails for good; a key-encryption key missing from the
  configuration fails for now (an operator can fix it, so the job retries);
- the provider accepts it: ``sent``, ``delivery_status`` from its answer
  (unless a callback for an earlier copy already confirmed delivery),
  audited as ``notifications.<channel>.sent``;
- the provider refuses it for now: ``failed_temporary`` and the job retries,
  final on the job's last attempt; for good: ``failed_permanent``. A final
  failure sets ``delivery_status`` (unless it is already final) and is
  audited as ``notifications.<channel>.failed``.

Part of the email kernel (docs/decisions/0002-platform-kernels.md): it
imports only core, audit, the privacy kernel's errors and its own app.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from django.db import transaction

from govserve.audit.actors import Actor
from govserve.audit.services import audit_record
from govserve.core import clock
from govserve.core.jobs import PermanentJobError, current_job
from govserve.core.models import JobRecord
from govserve.notifications.faults import fault_point
from govserve.notifications.models import (
    FINAL_DELIVERY_STATUSES,
    DeliveryStatus,
    EmailStatus,
    OutboundEmail,
    OutboundSms,
)
from govserve.notifications.providers.base import (
    PermanentProviderError,
    Provider,
    ProviderResult,
    ProviderStatus,
    TemporaryProviderError,
)
from govserve.privacy.errors import DecryptionError, UnknownKeyError

__all__ = [
    "IDEMPOTENCY_KEY",
    "MAX_ATTEMPTS",
    "OutboundChannel",
    "delivery_status_of",
    "failure_delivery_status",
    "is_last_attempt",
    "outbound_deliver",
    "reference_for",
]

logger = structlog.get_logger(__name__)

IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")  # printable ASCII: safe in headers, logs and job rows
MAX_ATTEMPTS = 10
_WORKER = Actor.system("worker")


@dataclass(frozen=True)
class OutboundChannel[Row: (OutboundEmail, OutboundSms), Message]:
    """One kind of outbound message: its rows, its provider and how a row becomes what the provider sends."""

    name: str
    """``email`` or ``sms``: names the audit actions, the audit subject, log events and job errors."""
    model: type[Row]
    provider: Callable[[], Provider[Message]]
    outgoing: Callable[[Row], Message]
    """Unseal a row into the provider's message (raise the privacy kernel's errors when it cannot)."""
    log_provider_status: bool = False
    """Whether the ``<name>.sent`` log line carries the provider's status (email's does)."""

    @property
    def subject_type(self) -> str:
        """Return the audit subject type of its rows (``outbound_email``, ``outbound_sms``)."""
        return f"outbound_{self.name}"


def reference_for(idempotency_key: str) -> str:
    """Return ``sha256(idempotency_key)[:32]`` in hex: the reference every copy of a message carries.

    It is the local part of the email's Message-ID and the ``reference`` sent
    to GOV.UK Notify (email and text messages); the hash keeps the key itself
    (which may name internal ids) out of headers and provider records.
    """
    return hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:32]


def delivery_status_of(result: ProviderResult) -> DeliveryStatus:
    """Return the delivery status a provider's answer means (accepted: ``sending``; confirmed: ``delivered``)."""
    return DeliveryStatus.DELIVERED if result.status is ProviderStatus.DELIVERED else DeliveryStatus.SENDING


def failure_delivery_status(code: str) -> DeliveryStatus:
    """Return the delivery status of a message that will not go: refused by the provider, or never handed over.

    A 5xx SMTP reply or Notify 400 is about the message (``permanent-failure``);
    anything else (retries exhausted, content gone) is ``technical-failure``.
    """
    if code.startswith("smtp_5") or code == "notify_400":
        return DeliveryStatus.PERMANENT_FAILURE
    return DeliveryStatus.TECHNICAL_FAILURE


def is_last_attempt() -> bool:
    """Return whether the running job has no attempt left after this one (False outside a job)."""
    try:
        context = current_job()
    except RuntimeError:
        return False
    if context.job_id is None:
        return False
    left = JobRecord.objects.filter(id=context.job_id).values_list("attempts_left", flat=True).first()
    return left == 0


def outbound_deliver[Row: (OutboundEmail, OutboundSms), Message](
    channel: OutboundChannel[Row, Message], row_id: uuid.UUID
) -> None:
    """Deliver one stored message of ``channel`` through its provider (the body of the channel's delivery job).

    Idempotent: a message already sent is not sent again. Raise
    TemporaryProviderError (or UnknownKeyError) to retry; PermanentJobError
    when retrying cannot help. A job retried by an operator after a permanent
    failure sends again.
    """
    row = _attempt_begin(channel, row_id)
    if row is None:
        return
    if row.content_removed_at is not None:
        _attempt_failed(channel, row.id, code="content_removed", permanent=True)
        msg = f"{channel.name} {row.id}: its content was removed by the retention job before it could be sent"
        raise PermanentJobError(msg)
    try:
        message = channel.outgoing(row)
    except UnknownKeyError as error:
        # A key-encryption key is missing from the configuration: an operator can fix it, so retry.
        _attempt_failed(channel, row.id, code=error.code, permanent=False)
        raise
    except DecryptionError as error:
        _attempt_failed(channel, row.id, code=error.code, permanent=True)
        msg = f"{channel.name} {row.id}: content cannot be opened ({error.code})"
        raise PermanentJobError(msg) from error
    provider = channel.provider()
    fault_point("before_connect")
    try:
        result = provider.send(message)
    except TemporaryProviderError as error:
        # On the job's last attempt the failure is final (until an operator retries the dead job).
        _attempt_failed(channel, row.id, code=error.code, permanent=is_last_attempt(), provider=provider.name)
        raise
    except PermanentProviderError as error:
        _attempt_failed(channel, row.id, code=error.code, permanent=True, provider=provider.name)
        msg = f"{channel.name} {row.id}: refused by {provider.name} ({error.code})"
        raise PermanentJobError(msg) from error
    fault_point("after_accept")
    _attempt_succeeded(channel, row.id, result)


def _attempt_begin[Row: (OutboundEmail, OutboundSms), Message](
    channel: OutboundChannel[Row, Message], row_id: uuid.UUID
) -> Row | None:
    """Mark the message as sending (committed before the network is touched); None if already sent or gone."""
    with transaction.atomic():
        row = channel.model.objects.select_for_update().filter(id=row_id).first()
        if row is None or row.status == EmailStatus.SENT:
            return None
        row.status = EmailStatus.SENDING
        row.attempts += 1
        row.last_attempt_at = clock.now()
        row.save(update_fields=["status", "attempts", "last_attempt_at", "updated_at"])
    return row


def _attempt_succeeded[Row: (OutboundEmail, OutboundSms), Message](
    channel: OutboundChannel[Row, Message], row_id: uuid.UUID, result: ProviderResult
) -> None:
    with transaction.atomic():
        row = channel.model.objects.select_for_update().get(id=row_id)
        row.status = EmailStatus.SENT
        row.sent_at = clock.now()
        row.provider = result.provider
        row.provider_reference = result.reference
        row.last_error_code = ""
        update_fields = ["status", "sent_at", "provider", "provider_reference", "last_error_code", "updated_at"]
        if row.delivery_status != DeliveryStatus.DELIVERED:
            # A callback for an earlier copy (a worker died after the provider accepted it) may
            # already have confirmed delivery; anything else is superseded by this copy.
            row.delivery_status = delivery_status_of(result)
            row.delivery_status_at = row.sent_at
            update_fields += ["delivery_status", "delivery_status_at"]
        row.save(update_fields=update_fields)
        audit_record(
            actor=_WORKER,
            action=f"notifications.{channel.name}.sent",
            subject_type=channel.subject_type,
            subject_id=row.id,
            details={"provider": result.provider, "status": result.status.value, "attempt": row.attempts},
        )
    status = {"provider_status": result.status.value} if channel.log_provider_status else {}
    logger.info(f"{channel.name}.sent", **{f"{channel.name}_id": str(row_id)}, provider=result.provider, **status)


def _attempt_failed[Row: (OutboundEmail, OutboundSms), Message](
    channel: OutboundChannel[Row, Message], row_id: uuid.UUID, *, code: str, permanent: bool, provider: str = ""
) -> None:
    with transaction.atomic():
        row = channel.model.objects.select_for_update().get(id=row_id)
        row.status = EmailStatus.FAILED_PERMANENT if permanent else EmailStatus.FAILED_TEMPORARY
        row.last_error_code = code[:64]
        row.failed_at = clock.now()
        if provider:
            row.provider = provider
        update_fields = ["status", "last_error_code", "failed_at", "provider", "updated_at"]
        if permanent and row.delivery_status not in FINAL_DELIVERY_STATUSES:
            row.delivery_status = failure_delivery_status(code)
            row.delivery_status_at = row.failed_at
            update_fields += ["delivery_status", "delivery_status_at"]
        row.save(update_fields=update_fields)
        if permanent:
            audit_record(
                actor=_WORKER,
                action=f"notifications.{channel.name}.failed",
                subject_type=channel.subject_type,
                subject_id=row.id,
                details={"code": code[:64], "provider": provider, "attempt": row.attempts},
            )
    logger.warning(
        f"{channel.name}.failed",
        **{f"{channel.name}_id": str(row_id)},
        code=code,
        permanent=permanent,
        provider=provider,
    )

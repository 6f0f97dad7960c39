"""Text messages: seal, store and deliver through the outbox, like platform email.

:func:`sms_send` takes a rendered text (service notifications render the
definition's ``sms`` templates, :mod:`govserve.notifications.services`), seals
the phone number and the text under ``owner``, stores an
:class:`~govserve.notifications.models.OutboundSms` and enqueues
``notifications.sms.deliver`` in the caller's transaction. The job hands it to
the provider chosen by ``settings.SMS_URL`` (``log://`` or ``notify://``).

Delivery is at least once, like email: every copy of a message carries the
same Notify ``reference`` (sha256(idempotency key)[:32]). Nothing personal
leaves the sealed columns: job arguments are the message id, log lines carry
ids and codes.
"""

from __future__ import annotations

import re
import uuid

import structlog
from django.db import IntegrityError, connection, transaction

from govserve.audit.actors import Actor
from govserve.audit.services import audit_record
from govserve.core.jobs import enqueue, job
from govserve.notifications.errors import EmailIdempotencyConflictError, EmailRequestError, InvalidRecipientError
from govserve.notifications.models import OutboundSms
from govserve.notifications.outbound import (
    IDEMPOTENCY_KEY,
    MAX_ATTEMPTS,
    OutboundChannel,
    outbound_deliver,
    reference_for,
)
from govserve.notifications.providers import sms_provider
from govserve.notifications.providers.base import OutgoingSms
from govserve.privacy.crypto import seal, unseal_text

logger = structlog.get_logger(__name__)

FIELD_RECIPIENT = "notifications.sms.recipient"
FIELD_BODY = "notifications.sms.body"
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
MAX_SMS_LENGTH = 918  # Notify's limit: 6 concatenated messages of 153 characters
_SENDER = Actor.system("notifications")


def sms_send(
    *, to: str, text: str, template: str, language: str, idempotency_key: str, owner: str, purpose: str
) -> OutboundSms:
    """Store the text message ``text`` for ``to`` sealed under ``owner`` and enqueue its delivery; return the row.

    Call inside ``transaction.atomic()`` (RuntimeError otherwise). ``to`` is
    an E.164 number (``+447700900123``; journeys stores phone answers so).
    Idempotent on ``idempotency_key`` (EmailIdempotencyConflictError if the
    template, purpose or owner differ). Raise InvalidRecipientError for a
    number not in E.164 form, EmailRequestError for an empty or too long text
    or a malformed key. Audited as ``notifications.sms.queued``.
    """
    if not connection.in_atomic_block:
        msg = "sms_send() must run inside transaction.atomic(): the message commits with the change that causes it"
        raise RuntimeError(msg)
    if not isinstance(idempotency_key, str) or not IDEMPOTENCY_KEY.match(idempotency_key):
        msg = "The idempotency key must be 1 to 200 printable ASCII characters without spaces"
        raise EmailRequestError(msg)
    existing = OutboundSms.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return _same_request(existing, template=template, purpose=purpose, owner=owner)
    number = to.strip() if isinstance(to, str) else ""
    if not E164.match(number):
        msg = "Enter a phone number in international form, like +447700900123"
        raise InvalidRecipientError(msg)
    body = text.strip()
    if not body or len(body) > MAX_SMS_LENGTH:
        msg = f"A text message must have 1 to {MAX_SMS_LENGTH} characters"
        raise EmailRequestError(msg)
    sms_id = uuid.uuid4()
    try:
        with transaction.atomic():
            sms = OutboundSms.objects.create(
                id=sms_id,
                purpose=purpose,
                template=template,
                language=language,
                idempotency_key=idempotency_key,
                reference=reference_for(idempotency_key),
                owner=owner,
                recipient_sealed=seal(owner=owner, field=FIELD_RECIPIENT, plaintext=number),
                body_sealed=seal(owner=owner, field=FIELD_BODY, plaintext=body),
            )
    except IntegrityError:
        existing = OutboundSms.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return _same_request(existing, template=template, purpose=purpose, owner=owner)
    enqueue(sms_deliver, idempotency_key=f"notifications.sms:{sms.id}", outbound_sms_id=str(sms.id))
    audit_record(
        actor=_SENDER,
        action="notifications.sms.queued",
        subject_type="outbound_sms",
        subject_id=sms.id,
        details={"template": template, "language": language, "purpose": purpose},
    )
    logger.info("sms.queued", sms_id=str(sms.id), template=template)
    return sms


def _same_request(existing: OutboundSms, *, template: str, purpose: str, owner: str) -> OutboundSms:
    if (existing.template, existing.purpose, existing.owner) != (template, purpose, owner):
        msg = "This idempotency key was already used for a different text message"
        raise EmailIdempotencyConflictError(msg, sms_id=str(existing.id))
    return existing


@job(name="notifications.sms.deliver", max_attempts=MAX_ATTEMPTS)
def sms_deliver(*, outbound_sms_id: str) -> None:
    """Deliver one stored text message through the configured provider (the job behind :func:`sms_send`).

    Idempotent: a message already sent is not sent again. Raise
    TemporaryProviderError to retry; PermanentJobError when retrying cannot help
    (:func:`~govserve.notifications.outbound.outbound_deliver`).
    """
    outbound_deliver(_CHANNEL, uuid.UUID(outbound_sms_id))


def _outgoing(sms: OutboundSms) -> OutgoingSms:
    return OutgoingSms(
        reference=str(sms.id),
        notify_reference=sms.reference,
        recipient=unseal_text(owner=sms.owner, field=FIELD_RECIPIENT, sealed=sms.recipient_sealed),
        body=unseal_text(owner=sms.owner, field=FIELD_BODY, sealed=sms.body_sealed),
        language=sms.language,
    )


_CHANNEL = OutboundChannel(name="sms", model=OutboundSms, provider=sms_provider, outgoing=_outgoing)

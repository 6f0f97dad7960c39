"""Platform email: render, seal, store and deliver through the outbox (a kernel every app may import).

::

    from govserve.notifications.email import email_send, PlatformTemplate

    with transaction.atomic():
        ...  # the business change
        email_send(
            to=address,
            template=PlatformTemplate.SIGN_IN_LINK,
            context={"service_name": "Westmoor City Council", "sign_in_url": url, "expiry_minutes": "15"},
            language="cy",
            idempotency_key=f"sign-in-link:{link.id}",
            owner=f"citizen:{citizen.id}",
            purpose="sign_in",
        )

:func:`email_send` renders the template (``((placeholders))``, see
:mod:`govserve.notifications.templating`), seals the recipient, subject and
body under ``owner`` (:mod:`govserve.privacy.crypto`), stores an
:class:`~govserve.notifications.models.OutboundEmail` and enqueues the job
``notifications.email.deliver`` in the caller's transaction (transactional
outbox): if the business change rolls back, no email exists and none goes.

The delivery job unseals the message, hands it to the provider chosen by
``settings.EMAIL_URL`` and records the outcome. Delivery is at least once: a
worker can die after the server accepted the message and before the job
recorded it, and the retry sends it again; every copy carries the same
``Message-ID`` (derived from the idempotency key, :func:`message_id_for`), so
mail systems and people can recognise it as the same message. Temporary
failures (server down, 4xx) raise so the job retries with backoff;
permanent ones (5xx, content crypto-shredded) end the job at once
(PermanentJobError). No log line or job argument carries an address,
subject or body: only ids.

This module imports only core, audit, the privacy kernel and its own app, as
a kernel must (docs/decisions/0002-platform-kernels.md).
"""

from __future__ import annotations

import hashlib
import re
import urllib.parse
import uuid
from collections.abc import Mapping

import structlog
from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction

from govserve.audit.actors import Actor
from govserve.audit.services import audit_record
from govserve.core import clock
from govserve.core.jobs import PermanentJobError, current_job, enqueue, job
from govserve.core.models import JobRecord
from govserve.notifications.errors import (
    EmailIdempotencyConflictError,
    EmailRequestError,
    HeaderInjectionError,
    InvalidRecipientError,
)
from govserve.notifications.faults import fault_point
from govserve.notifications.models import FINAL_DELIVERY_STATUSES, DeliveryStatus, EmailStatus, OutboundEmail
from govserve.notifications.platform_templates import (
    EmailTemplate,
    PlatformTemplate,
    email_template_get,
    email_template_lookup_register,
)
from govserve.notifications.providers import email_provider
from govserve.notifications.providers.base import (
    OutgoingEmail,
    PermanentProviderError,
    ProviderResult,
    ProviderStatus,
    TemporaryProviderError,
    has_header_breaker,
)
from govserve.privacy.crypto import seal, unseal_text
from govserve.privacy.errors import DecryptionError, UnknownKeyError

__all__ = [
    "EmailTemplate",
    "OutboundEmail",
    "PlatformTemplate",
    "email_deliver",
    "email_send",
    "email_template_get",
    "email_template_lookup_register",
    "is_last_attempt",
    "message_id_for",
    "normalise_recipient",
    "reference_for",
]

logger = structlog.get_logger(__name__)

# Sealed field names (the associated data binds each ciphertext to one of them).
FIELD_RECIPIENT = "notifications.email.recipient"
FIELD_SUBJECT = "notifications.email.subject"
FIELD_BODY = "notifications.email.body"

_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")  # printable ASCII: safe in headers, logs and job rows
_PURPOSE = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")
_MAX_ADDRESS_LENGTH = 254  # RFC 5321 path limit less the angle brackets
MAX_ATTEMPTS = 10
_WORKER = Actor.system("worker")
_SENDER = Actor.system("notifications")


def reference_for(idempotency_key: str) -> str:
    """Return ``sha256(idempotency_key)[:32]`` in hex: the reference every copy of a message carries.

    It is the local part of the email's Message-ID and the ``reference`` sent
    to GOV.UK Notify (email and text messages); the hash keeps the key itself
    (which may name internal ids) out of headers and provider records.
    """
    return hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:32]


def message_id_for(idempotency_key: str) -> str:
    """Return the Message-ID for ``idempotency_key``: ``<sha256(key)[:32]@host of PUBLIC_BASE_URL>``.

    Deterministic, so every send of one message carries the same header.
    """
    digest = reference_for(idempotency_key)
    host = urllib.parse.urlsplit(settings.PUBLIC_BASE_URL).hostname or "govserve.invalid"
    return f"<{digest}@{host.encode('idna').decode('ascii')}>"


def normalise_recipient(to: str) -> str:
    """Return ``to`` as one plain address (surrounding spaces removed, domain lower-cased and in ASCII).

    Raise HeaderInjectionError when it contains CR, LF or NUL (checked before
    anything is stripped), InvalidRecipientError when it is not exactly one
    well-formed address (display names and lists are refused) or its local
    part is not ASCII (no SMTPUTF8 support yet).
    """
    if not isinstance(to, str):
        msg = "The email address must be text"
        raise InvalidRecipientError(msg)
    if has_header_breaker(to):
        msg = "The email address must be on one line"
        raise HeaderInjectionError(msg, field="to")
    address = to.strip()
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        msg = "Enter an email address in the correct format, like name@example.com"
        raise InvalidRecipientError(msg)
    if "." not in domain.strip("."):
        msg = "Enter an email address in the correct format, like name@example.com"
        raise InvalidRecipientError(msg)
    if not local.isascii():
        msg = "The part of the email address before the @ must use only unaccented letters, digits and symbols"
        raise InvalidRecipientError(msg)
    try:
        ascii_domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        msg = "The part of the email address after the @ is not a valid domain"
        raise InvalidRecipientError(msg) from None
    address = f"{local}@{ascii_domain}"
    try:
        validate_email(address)
    except DjangoValidationError:
        msg = "Enter an email address in the correct format, like name@example.com"
        raise InvalidRecipientError(msg) from None
    if len(address) > _MAX_ADDRESS_LENGTH:
        msg = f"The email address must be {_MAX_ADDRESS_LENGTH} characters or fewer"
        raise InvalidRecipientError(msg)
    return address


def email_send(
    *,
    to: str,
    template: str,
    context: Mapping[str, str],
    language: str = "en",
    idempotency_key: str,
    owner: str,
    purpose: str,
) -> OutboundEmail:
    """Render ``template`` for ``to``, store it sealed under ``owner`` and enqueue its delivery; return the row.

    Call inside ``transaction.atomic()`` (RuntimeError otherwise): the message
    and its delivery job commit or roll back with the caller's change.
    Idempotent on ``idempotency_key``: a second call with the same key
    returns the first message and sends nothing more (EmailIdempotencyConflictError
    if template, purpose or owner differ). Audited as
    ``notifications.email.queued`` (ids and codes only).

    Raise InvalidRecipientError / HeaderInjectionError for a bad address,
    TemplateNotFoundError, PlaceholderMissingError / PlaceholderValueError
    for a template that cannot be rendered with ``context`` (nothing stored),
    HeaderInjectionError when the rendered subject is not one line,
    EmailRequestError for a malformed key, purpose or language.
    """
    if not connection.in_atomic_block:
        msg = "email_send() must run inside transaction.atomic(): the email commits with the change that causes it"
        raise RuntimeError(msg)
    if not isinstance(idempotency_key, str) or not _IDEMPOTENCY_KEY.match(idempotency_key):
        msg = "The idempotency key must be 1 to 200 printable ASCII characters without spaces"
        raise EmailRequestError(msg)
    if not isinstance(purpose, str) or not _PURPOSE.match(purpose):
        msg = "The purpose must be a short lower-case code such as sign_in"
        raise EmailRequestError(msg)
    template_name = str(template)
    existing = OutboundEmail.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return _same_request(existing, template=template_name, purpose=purpose, owner=owner)

    recipient = normalise_recipient(to)
    chosen = email_template_get(name=template_name, language=language)
    subject = chosen.subject.render(context).strip()
    if has_header_breaker(subject):
        msg = "The email subject must be one line: a placeholder value contains a line break"
        raise HeaderInjectionError(msg, field="subject")
    body = chosen.body.render(context)

    email_id = uuid.uuid4()
    try:
        # A savepoint: a concurrent send with the same key must not poison the caller's transaction.
        with transaction.atomic():
            email = OutboundEmail.objects.create(
                id=email_id,
                purpose=purpose,
                template=template_name,
                template_origin=chosen.origin,
                language=chosen.language,
                idempotency_key=idempotency_key,
                message_id=message_id_for(idempotency_key),
                reference=reference_for(idempotency_key),
                owner=owner,
                recipient_sealed=seal(owner=owner, field=FIELD_RECIPIENT, plaintext=recipient),
                subject_sealed=seal(owner=owner, field=FIELD_SUBJECT, plaintext=subject),
                body_sealed=seal(owner=owner, field=FIELD_BODY, plaintext=body),
            )
    except IntegrityError:
        existing = OutboundEmail.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return _same_request(existing, template=template_name, purpose=purpose, owner=owner)
    enqueue(email_deliver, idempotency_key=f"notifications.email:{email.id}", outbound_email_id=str(email.id))
    audit_record(
        actor=_SENDER,
        action="notifications.email.queued",
        subject_type="outbound_email",
        subject_id=email.id,
        details={"template": template_name, "language": chosen.language, "purpose": purpose},
    )
    logger.info("email.queued", email_id=str(email.id), template=template_name, language=chosen.language)
    return email


def _same_request(existing: OutboundEmail, *, template: str, purpose: str, owner: str) -> OutboundEmail:
    if (existing.template, existing.purpose, existing.owner) != (template, purpose, owner):
        msg = "This idempotency key was already used for a different email"
        raise EmailIdempotencyConflictError(msg, email_id=str(existing.id))
    return existing


@job(name="notifications.email.deliver", max_attempts=MAX_ATTEMPTS)
def email_deliver(*, outbound_email_id: str) -> None:
    """Deliver one stored email through the configured provider (the job behind :func:`email_send`).

    Idempotent: a message already sent is not sent again. Raise
    TemporaryProviderError to retry; PermanentJobError when retrying cannot
    help. A job retried by an operator after a permanent failure sends again.
    """
    email = _attempt_begin(uuid.UUID(outbound_email_id))
    if email is None:
        return
    if email.content_removed_at is not None:
        _attempt_failed(email.id, code="content_removed", permanent=True)
        msg = f"email {email.id}: its content was removed by the retention job before it could be sent"
        raise PermanentJobError(msg)
    try:
        message = _outgoing(email)
    except UnknownKeyError as error:
        # A key-encryption key is missing from the configuration: an operator can fix it, so retry.
        _attempt_failed(email.id, code=error.code, permanent=False)
        raise
    except DecryptionError as error:
        _attempt_failed(email.id, code=error.code, permanent=True)
        msg = f"email {email.id}: content cannot be opened ({error.code})"
        raise PermanentJobError(msg) from error
    provider = email_provider()
    fault_point("before_connect")
    try:
        result = provider.send(message)
    except TemporaryProviderError as error:
        # On the job's last attempt the failure is final (until an operator retries the dead job).
        _attempt_failed(email.id, code=error.code, permanent=is_last_attempt(), provider=provider.name)
        raise
    except PermanentProviderError as error:
        _attempt_failed(email.id, code=error.code, permanent=True, provider=provider.name)
        msg = f"email {email.id}: refused by {provider.name} ({error.code})"
        raise PermanentJobError(msg) from error
    fault_point("after_accept")
    _attempt_succeeded(email.id, result)


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


def _attempt_begin(email_id: uuid.UUID) -> OutboundEmail | None:
    """Mark the email as sending (committed before the network is touched); None if already sent or gone."""
    with transaction.atomic():
        email = OutboundEmail.objects.select_for_update().filter(id=email_id).first()
        if email is None or email.status == EmailStatus.SENT:
            return None
        email.status = EmailStatus.SENDING
        email.attempts += 1
        email.last_attempt_at = clock.now()
        email.save(update_fields=["status", "attempts", "last_attempt_at", "updated_at"])
    return email


def _outgoing(email: OutboundEmail) -> OutgoingEmail:
    return OutgoingEmail(
        reference=str(email.id),
        message_id=email.message_id,
        sender=settings.DEFAULT_FROM_EMAIL,
        recipient=unseal_text(owner=email.owner, field=FIELD_RECIPIENT, sealed=email.recipient_sealed),
        subject=unseal_text(owner=email.owner, field=FIELD_SUBJECT, sealed=email.subject_sealed),
        body=unseal_text(owner=email.owner, field=FIELD_BODY, sealed=email.body_sealed),
        language=email.language,
    )


def _attempt_succeeded(email_id: uuid.UUID, result: ProviderResult) -> None:
    with transaction.atomic():
        email = OutboundEmail.objects.select_for_update().get(id=email_id)
        email.status = EmailStatus.SENT
        email.sent_at = clock.now()
        email.provider = result.provider
        email.provider_reference = result.reference
        email.last_error_code = ""
        update_fields = ["status", "sent_at", "provider", "provider_reference", "last_error_code", "updated_at"]
        if email.delivery_status != DeliveryStatus.DELIVERED:
            # A callback for an earlier copy (a worker died after the provider accepted it) may
            # already have confirmed delivery; anything else is superseded by this copy.
            email.delivery_status = delivery_status_of(result)
            email.delivery_status_at = email.sent_at
            update_fields += ["delivery_status", "delivery_status_at"]
        email.save(update_fields=update_fields)
        audit_record(
            actor=_WORKER,
            action="notifications.email.sent",
            subject_type="outbound_email",
            subject_id=email.id,
            details={"provider": result.provider, "status": result.status.value, "attempt": email.attempts},
        )
    logger.info("email.sent", email_id=str(email_id), provider=result.provider, provider_status=result.status.value)


def _attempt_failed(email_id: uuid.UUID, *, code: str, permanent: bool, provider: str = "") -> None:
    with transaction.atomic():
        email = OutboundEmail.objects.select_for_update().get(id=email_id)
        email.status = EmailStatus.FAILED_PERMANENT if permanent else EmailStatus.FAILED_TEMPORARY
        email.last_error_code = code[:64]
        email.failed_at = clock.now()
        if provider:
            email.provider = provider
        update_fields = ["status", "last_error_code", "failed_at", "provider", "updated_at"]
        if permanent and email.delivery_status not in FINAL_DELIVERY_STATUSES:
            email.delivery_status = failure_delivery_status(code)
            email.delivery_status_at = email.failed_at
            update_fields += ["delivery_status", "delivery_status_at"]
        email.save(update_fields=update_fields)
        if permanent:
            audit_record(
                actor=_WORKER,
                action="notifications.email.failed",
                subject_type="outbound_email",
                subject_id=email.id,
                details={"code": code[:64], "provider": provider, "attempt": email.attempts},
            )
    logger.warning("email.failed", email_id=str(email_id), code=code, permanent=permanent, provider=provider)

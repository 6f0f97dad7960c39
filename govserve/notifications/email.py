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

import re
import urllib.parse
import uuid
from collections.abc import Mapping

import structlog
from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection

from govserve.audit.actors import Actor
from govserve.audit.services import audit_record
from govserve.core.errors import ApplicationError
from govserve.core.jobs import enqueue, job
from govserve.core.queries import row_insert_unless_taken
from govserve.notifications.errors import (
    EmailIdempotencyConflictError,
    EmailRequestError,
    HeaderInjectionError,
    InvalidRecipientError,
)
from govserve.notifications.models import OutboundEmail
from govserve.notifications.outbound import (
    IDEMPOTENCY_KEY,
    MAX_ATTEMPTS,
    OutboundChannel,
    is_last_attempt,
    outbound_deliver,
    reference_for,
)
from govserve.notifications.platform_templates import (
    EmailTemplate,
    PlatformTemplate,
    email_template_get,
    email_template_lookup_register,
)
from govserve.notifications.providers import email_provider
from govserve.notifications.providers.base import OutgoingEmail, has_header_breaker
from govserve.privacy.crypto import seal_fields, unseal_text

__all__ = [
    "MAX_ATTEMPTS",
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

_PURPOSE = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")
_MAX_ADDRESS_LENGTH = 254  # RFC 5321 path limit less the angle brackets
_SENDER = Actor.system("notifications")


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
    loaded: EmailTemplate | None = None,
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
    ``loaded``: the template as the caller has just read it
    (``email_template_get(name=template, language=language)``), not looked up again.
    """
    if not connection.in_atomic_block:
        msg = "email_send() must run inside transaction.atomic(): the email commits with the change that causes it"
        raise RuntimeError(msg)
    if not isinstance(idempotency_key, str) or not IDEMPOTENCY_KEY.match(idempotency_key):
        msg = "The idempotency key must be 1 to 200 printable ASCII characters without spaces"
        raise EmailRequestError(msg)
    if not isinstance(purpose, str) or not _PURPOSE.match(purpose):
        msg = "The purpose must be a short lower-case code such as sign_in"
        raise EmailRequestError(msg)
    template_name = str(template)
    # No read of the key first: almost every key is new, and the row's unique key answers a repeated one (below).
    try:
        recipient = normalise_recipient(to)
        chosen = (
            loaded
            if loaded is not None and loaded.name == template_name
            else email_template_get(name=template_name, language=language)
        )
        subject = chosen.subject.render(context).strip()
        if has_header_breaker(subject):
            msg = "The email subject must be one line: a placeholder value contains a line break"
            raise HeaderInjectionError(msg, field="subject")
        body = chosen.body.render(context)
    except ApplicationError:
        # A key already sent answers with its email whatever this request's content, as before the render.
        existing = OutboundEmail.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return _same_request(existing, template=template_name, purpose=purpose, owner=owner)
        raise

    email_id = uuid.uuid4()
    sealed = seal_fields(owner=owner, plaintexts={FIELD_RECIPIENT: recipient, FIELD_SUBJECT: subject, FIELD_BODY: body})
    email = OutboundEmail(
        id=email_id,
        purpose=purpose,
        template=template_name,
        template_origin=chosen.origin,
        language=chosen.language,
        idempotency_key=idempotency_key,
        message_id=message_id_for(idempotency_key),
        reference=reference_for(idempotency_key),
        owner=owner,
        recipient_sealed=sealed[FIELD_RECIPIENT],
        subject_sealed=sealed[FIELD_SUBJECT],
        body_sealed=sealed[FIELD_BODY],
    )
    # INSERT ... ON CONFLICT DO NOTHING: a repeated or concurrent send with the same key writes nothing and leaves
    # the caller's transaction usable, without a savepoint around the insert.
    if not row_insert_unless_taken(email, unique="idempotency_key"):
        existing = OutboundEmail.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:  # pragma: no cover - removed between the two statements
            msg = f"the email with idempotency key {idempotency_key!r} was removed while it was sent again"
            raise IntegrityError(msg)
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
    help. A job retried by an operator after a permanent failure sends again
    (:func:`~govserve.notifications.outbound.outbound_deliver`).
    """
    outbound_deliver(_CHANNEL, uuid.UUID(outbound_email_id))


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


_CHANNEL = OutboundChannel(
    name="email", model=OutboundEmail, provider=email_provider, outgoing=_outgoing, log_provider_status=True
)

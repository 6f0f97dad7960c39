"""Reads of outbound messages: the demo mail page, and the delivery records of an application for staff."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.conf import settings

from govserve.core.errors import NotFoundError
from govserve.notifications.email import FIELD_BODY, FIELD_RECIPIENT, FIELD_SUBJECT
from govserve.notifications.models import OutboundEmail, OutboundSms
from govserve.privacy.crypto import unseal_text
from govserve.privacy.errors import DecryptionError


@dataclass(frozen=True)
class DemoMail:
    """One message as the demo mail page shows it; ``content_available`` is False once crypto-shredded."""

    id: uuid.UUID
    created_at: dt.datetime
    status: str
    status_label: str
    template: str
    language: str
    message_id: str
    recipient: str
    subject: str
    body: str
    content_available: bool


def demo_mail_list(*, limit: int = 50) -> list[DemoMail]:
    """Return the most recent emails, newest first, decrypted for the demo mail page.

    Only when ``settings.GOVSERVE_DEMO`` is true: raise NotFoundError
    otherwise, so no deployment shows anyone's mail by accident. A message
    whose content cannot be opened (its owner's data key destroyed) is listed
    without content.
    """
    if not getattr(settings, "GOVSERVE_DEMO", False):
        msg = "The demo mail page is only available in the demo"
        raise NotFoundError(msg)
    return [_demo_mail(email) for email in OutboundEmail.objects.order_by("-created_at", "-id")[:limit]]


def _demo_mail(email: OutboundEmail) -> DemoMail:
    try:
        recipient = unseal_text(owner=email.owner, field=FIELD_RECIPIENT, sealed=email.recipient_sealed)
        subject = unseal_text(owner=email.owner, field=FIELD_SUBJECT, sealed=email.subject_sealed)
        body = unseal_text(owner=email.owner, field=FIELD_BODY, sealed=email.body_sealed)
        available = True
    except DecryptionError:
        recipient = subject = body = ""
        available = False
    return DemoMail(
        id=email.id,
        created_at=email.created_at,
        status=email.status,
        status_label=email.get_status_display(),
        template=email.template,
        language=email.language,
        message_id=email.message_id,
        recipient=recipient,
        subject=subject,
        body=body,
        content_available=available,
    )


@dataclass(frozen=True)
class DeliveryRecord:
    """One message about an application as staff see it on the file: no address, no content.

    ``purpose`` is the event or platform purpose (``sent_back``,
    ``submission_confirmation``); ``status`` govserve's hand-over to the
    provider, ``delivery_status`` what the provider reported (labels beside
    the codes); ``content_removed`` once retention emptied it.
    """

    id: uuid.UUID
    channel: str
    purpose: str
    language: str
    created_at: dt.datetime
    status: str
    status_label: str
    delivery_status: str
    delivery_status_label: str
    delivery_status_at: dt.datetime | None
    attempts: int
    provider: str
    sent_at: dt.datetime | None
    last_error_code: str
    content_removed: bool


def application_deliveries(*, crypto_owner: str) -> list[DeliveryRecord]:
    """Return the emails and text messages sealed under an application's ``crypto_owner``, oldest first.

    For the staff file page: casework calls it through a provider hook after
    its own permission check (the records carry no personal value: no
    address, no content). Read-only, not audited.
    """
    # Only the columns a record shows: not the sealed recipient, subject and body (read on every file view).
    emails = OutboundEmail.objects.filter(owner=crypto_owner).only(*_RECORD_FIELDS).order_by("created_at")
    records = [_record(message, "email") for message in emails]
    texts = OutboundSms.objects.filter(owner=crypto_owner).only(*_RECORD_FIELDS).order_by("created_at")
    records += [_record(message, "sms") for message in texts]
    return sorted(records, key=lambda record: (record.created_at, record.channel))


_RECORD_FIELDS = (
    "purpose",
    "language",
    "created_at",
    "status",
    "delivery_status",
    "delivery_status_at",
    "attempts",
    "provider",
    "sent_at",
    "last_error_code",
    "content_removed_at",
)
"""The columns :func:`_record` reads (the id is always read)."""


def _record(message: OutboundEmail | OutboundSms, channel: str) -> DeliveryRecord:
    return DeliveryRecord(
        id=message.id,
        channel=channel,
        purpose=message.purpose,
        language=message.language,
        created_at=message.created_at,
        status=message.status,
        status_label=message.get_status_display(),
        delivery_status=message.delivery_status,
        delivery_status_label=message.get_delivery_status_display(),
        delivery_status_at=message.delivery_status_at,
        attempts=message.attempts,
        provider=message.provider,
        sent_at=message.sent_at,
        last_error_code=message.last_error_code,
        content_removed=message.content_removed_at is not None,
    )

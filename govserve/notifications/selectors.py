"""Reads of outbound email."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.conf import settings

from govserve.core.errors import NotFoundError
from govserve.notifications.email import FIELD_BODY, FIELD_RECIPIENT, FIELD_SUBJECT
from govserve.notifications.models import OutboundEmail
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

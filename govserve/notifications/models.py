"""Outbound email and text messages: one row per message, content sealed, delivery state in clear.

The recipient, subject and body are sealed with :mod:`govserve.privacy.crypto`
under the ``owner`` the caller names (``citizen:<uuid>``), so erasing that
owner's data key makes the content unreadable while the delivery record (who
asked, which template, when it went, the provider's reference) stays. The
retention job empties the sealed columns after
``NOTIFICATION_CONTENT_RETENTION_DAYS`` (``content_removed_at``); the record
stays.

Two states per message:

- ``status``: govserve's hand-over to the provider (the outbox: queued,
  sending, sent, failed and retrying, failed for good);
- ``delivery_status``: what the provider says about delivery to the person,
  GOV.UK Notify's vocabulary (``pending`` until handed over, then
  ``sending``, ``delivered``, ``permanent-failure``, ``temporary-failure``,
  ``technical-failure``), updated by Notify's delivery callbacks.
"""

from __future__ import annotations

from django.db import models

from govserve.core.models import BaseModel


class EmailStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED_TEMPORARY = "failed_temporary", "Failed, will retry"
    FAILED_PERMANENT = "failed_permanent", "Failed permanently"


class DeliveryStatus(models.TextChoices):
    """What the provider says about delivery (GOV.UK Notify's statuses, plus ``pending`` before hand-over)."""

    PENDING = "pending", "Not handed over yet"
    SENDING = "sending", "Sending"
    DELIVERED = "delivered", "Delivered"
    PERMANENT_FAILURE = "permanent-failure", "Not delivered: address or number not accepted"
    TEMPORARY_FAILURE = "temporary-failure", "Not delivered: inbox full or phone off"
    TECHNICAL_FAILURE = "technical-failure", "Not delivered: technical failure"


FINAL_DELIVERY_STATUSES = frozenset(
    {
        DeliveryStatus.DELIVERED,
        DeliveryStatus.PERMANENT_FAILURE,
        DeliveryStatus.TEMPORARY_FAILURE,
        DeliveryStatus.TECHNICAL_FAILURE,
    }
)


class OutboundEmail(BaseModel):
    """An email the platform sends; written by ``email_send``, updated only by the delivery job."""

    purpose = models.CharField(max_length=64, help_text="Why it is sent (sign_in, resume, submitted); a code.")
    template = models.CharField(max_length=200)
    template_origin = models.CharField(max_length=64, default="platform")
    language = models.CharField(max_length=8)
    idempotency_key = models.CharField(max_length=200, unique=True)
    message_id = models.CharField(max_length=255, help_text="The RFC 5322 Message-ID header, with angle brackets.")
    owner = models.CharField(max_length=100, help_text="The data-key owner the content is sealed under.")
    recipient_sealed = models.BinaryField()
    subject_sealed = models.BinaryField()
    body_sealed = models.BinaryField()
    status = models.CharField(max_length=20, choices=EmailStatus.choices, default=EmailStatus.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    provider = models.CharField(max_length=32, blank=True, default="")
    provider_reference = models.CharField(max_length=255, blank=True, default="")
    last_error_code = models.CharField(max_length=64, blank=True, default="")
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    reference = models.CharField(
        max_length=64, db_index=True, default="", help_text="sha256(idempotency key)[:32]: Notify's reference."
    )
    delivery_status = models.CharField(max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    delivery_status_at = models.DateTimeField(null=True, blank=True)
    content_removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["owner"], name="outbound_email_owner_idx"),
            models.Index(fields=["status", "created_at"], name="outbound_email_status_idx"),
            models.Index(fields=["-created_at"], name="outbound_email_recent_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=EmailStatus.values), name="outbound_email_status_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(status=EmailStatus.SENT) | models.Q(sent_at__isnull=False),
                name="outbound_email_sent_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"email {self.id} ({self.template}, {self.status})"


class OutboundSms(BaseModel):
    """A text message; written by ``sms_send``, updated by its delivery job and Notify's callbacks."""

    purpose = models.CharField(max_length=64, help_text="Why it is sent (service event code); a code.")
    template = models.CharField(max_length=200)
    language = models.CharField(max_length=8)
    idempotency_key = models.CharField(max_length=200, unique=True)
    reference = models.CharField(max_length=64, db_index=True, help_text="sha256(idempotency key)[:32].")
    owner = models.CharField(max_length=100, help_text="The data-key owner the content is sealed under.")
    recipient_sealed = models.BinaryField()
    body_sealed = models.BinaryField()
    status = models.CharField(max_length=20, choices=EmailStatus.choices, default=EmailStatus.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    provider = models.CharField(max_length=32, blank=True, default="")
    provider_reference = models.CharField(max_length=255, blank=True, default="")
    last_error_code = models.CharField(max_length=64, blank=True, default="")
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    delivery_status = models.CharField(max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    delivery_status_at = models.DateTimeField(null=True, blank=True)
    content_removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["owner"], name="outbound_sms_owner_idx"),
            models.Index(fields=["status", "created_at"], name="outbound_sms_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=EmailStatus.values), name="outbound_sms_status_valid"),
            models.CheckConstraint(
                condition=~models.Q(status=EmailStatus.SENT) | models.Q(sent_at__isnull=False),
                name="outbound_sms_sent_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"sms {self.id} ({self.template}, {self.status})"

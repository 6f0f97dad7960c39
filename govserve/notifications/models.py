"""Outbound email: one row per message, content sealed, delivery state in clear.

The recipient, subject and body are sealed with :mod:`govserve.privacy.crypto`
under the ``owner`` the caller names (``citizen:<uuid>``), so erasing that
owner's data key makes the content unreadable while the delivery record (who
asked, which template, when it went, the provider's reference) stays.
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

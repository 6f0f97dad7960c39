"""Issued results (licences, certificates): their numbers, signed codes, sealed PDFs and revocations.

An :class:`IssuedResult` is one result of one registration of one approved
application, at most once (unique on application, registration, result: issuing
is idempotent). Its ``number`` comes from a :class:`ResultSequence` (one per
service and result id, with a unique human prefix such as ``STL-L``). Its
``code`` is the Ed25519-signed verification code (:mod:`.signing`) that the
QR code and ``/verify/<code>`` carry.

The PDF is rendered by a job after the approval commits (``pdf_state``
``preparing`` → ``ready``); it is sealed with the application's data key
(owner ``application:<uuid>``, field ``result.<id>.pdf``) and written to the
documents storage under a random name, so erasing the application erases its
results' PDFs and holder names too. What the public page shows is plain data
(type, number, issuer, dates, status); the holder's name is sealed.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from govserve.core.models import BaseModel


class PdfState(models.TextChoices):
    PREPARING = "preparing", _("Being prepared")
    READY = "ready", _("Ready")


class ResultSequence(models.Model):
    """The number sequence of one result of one service: ``<prefix>-<year>-<next_value, 6 digits>``."""

    id = models.BigAutoField(primary_key=True)
    service_id = models.CharField(max_length=64)
    result_id = models.CharField(max_length=64)
    prefix = models.CharField(max_length=24, unique=True)
    last_value = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["service_id", "result_id"], name="results_sequence_one_per_result"),
        ]

    def __str__(self) -> str:
        return f"{self.prefix} ({self.service_id}/{self.result_id}) at {self.last_value}"


class IssuedResult(BaseModel):
    """One issued result (see the module docstring); rows are never deleted by casework, only revoked."""

    application = models.ForeignKey("journeys.Application", on_delete=models.CASCADE, related_name="+")
    service_id = models.CharField(max_length=64)
    version_number = models.PositiveIntegerField()
    registration_id = models.CharField(max_length=64)
    result_id = models.CharField(max_length=64)
    institution_code = models.CharField(max_length=64, help_text="The issuer: the registration's institution.")
    number = models.CharField(max_length=40, unique=True)
    issued_at = models.DateTimeField()
    issued_on = models.DateField(help_text="The issue date in the service's time zone (what the code signs).")
    valid_until = models.DateField(null=True, blank=True, help_text="Last valid day (inclusive); None: no expiry.")
    key_id = models.CharField(max_length=16)
    code = models.CharField(max_length=200, unique=True)
    holder_name_sealed = models.BinaryField(null=True, blank=True)
    show_holder_name = models.BooleanField(default=False)
    pdf_state = models.CharField(max_length=16, choices=PdfState.choices, default=PdfState.PREPARING)
    pdf_storage_name = models.CharField(max_length=255, blank=True, default="")
    pdf_sealed_sha256 = models.CharField(max_length=64, blank=True, default="")
    pdf_size_bytes = models.PositiveIntegerField(null=True, blank=True)
    rendered_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.CharField(max_length=100, blank=True, default="", help_text="The audit actor (kind:id).")
    revocation_reason_sealed = models.BinaryField(null=True, blank=True)

    class Meta:
        ordering = ["issued_at", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "registration_id", "result_id"], name="results_issued_once_per_result"
            ),
            models.CheckConstraint(condition=Q(pdf_state__in=PdfState.values), name="results_pdf_state_valid"),
            models.CheckConstraint(
                condition=Q(pdf_state="preparing") | ~Q(pdf_storage_name=""), name="results_ready_has_pdf"
            ),
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True) | Q(revocation_reason_sealed__isnull=False),
                name="results_revoked_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"result {self.number} ({self.service_id}/{self.registration_id}/{self.result_id})"

    @property
    def crypto_owner(self) -> str:
        """Return the owner its sealed values belong to: the application's."""
        return f"application:{self.application_id}"

    @property
    def pdf_field(self) -> str:
        """Return the sealing field of the PDF (binds the bytes to this row)."""
        return f"result.{self.id}.pdf"

    @property
    def holder_name_field(self) -> str:
        """Return the sealing field of the holder's name."""
        return f"result.{self.id}.holder_name"

    @property
    def revocation_reason_field(self) -> str:
        """Return the sealing field of the revocation reason."""
        return f"result.{self.id}.revocation_reason"

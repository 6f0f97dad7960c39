"""Uploaded documents: metadata rows here, sealed bytes in Django's file storage.

A :class:`Document` is one file given for one *slot* (a file field's id or a
document requirement's id) of one *owner* (``"application:<uuid>"``: the
owner is also the data key the bytes and the file name are sealed with, so
crypto-shredding the application erases its documents too). At most one
current (not removed) document per (owner, slot): a second upload replaces.

What is stored, and what deliberately is not:

- the bytes, sealed (AES-256-GCM, :mod:`govserve.privacy.crypto`), under a
  random storage name that says nothing about the file (``documents/ab/<uuid hex>``);
- the original file name, sanitised and sealed (it is often personal);
- the *sniffed* kind and content type, the plaintext size, the scan state;
- ``sealed_sha256``: the SHA-256 of the stored (sealed) object, so an
  operator can check the file store against the database without any key.
  No hash of the plaintext is kept: a plaintext hash of a personal document
  confirms a guess ("is this their passport scan?") and links the same file
  across applications, which the sealed bytes never do.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from govserve.core import clock
from govserve.core.models import BaseModel


class ScanState(models.TextChoices):
    PENDING = "pending", "Waiting for the virus scan"
    CLEAN = "clean", "No virus found"
    INFECTED = "infected", "A virus was found"
    FAILED = "failed", "Could not be scanned"


class Document(BaseModel):
    """One uploaded file of one owner's slot (see the module docstring)."""

    owner = models.CharField(max_length=100, help_text='The entity it belongs to, e.g. "application:<uuid>".')
    slot = models.CharField(max_length=100, help_text="The file field id or document requirement id.")
    citizen = models.ForeignKey(
        "accounts.Citizen",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The signed-in citizen who uploaded it (None for anonymous applicants).",
    )
    filename_sealed = models.BinaryField(help_text="The sanitised original file name, sealed; emptied when purged.")
    kind = models.CharField(max_length=16, help_text='The sniffed kind ("pdf", "jpg", ...).')
    content_type = models.CharField(max_length=100, help_text="The sniffed content type: what the bytes are.")
    size_bytes = models.PositiveBigIntegerField(help_text="The size of the file as uploaded (plaintext).")
    storage_name = models.CharField(max_length=255, unique=True)
    sealed_sha256 = models.CharField(max_length=64, help_text="SHA-256 of the stored, sealed object (not the file).")
    scan_state = models.CharField(max_length=16, choices=ScanState.choices, default=ScanState.PENDING)
    scanner = models.CharField(max_length=32, blank=True, default="", help_text="The scanner that gave the verdict.")
    scan_signature = models.CharField(max_length=200, blank=True, default="", help_text="What the scanner found.")
    scanned_at = models.DateTimeField(null=True, blank=True)
    uploaded_at = models.DateTimeField(default=clock.now)
    removed_at = models.DateTimeField(null=True, blank=True)
    purged_at = models.DateTimeField(null=True, blank=True, help_text="When the stored object was deleted.")
    replaces = models.OneToOneField(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replaced_by"
    )

    class Meta:
        ordering = ["owner", "slot", "uploaded_at"]
        indexes = [
            models.Index(fields=["owner", "slot"], name="documents_owner_slot_idx"),
            models.Index(fields=["scan_state"], name="documents_pending_idx", condition=Q(scan_state="pending")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "slot"],
                condition=Q(removed_at__isnull=True),
                name="documents_one_current_per_slot",
            ),
            models.CheckConstraint(
                condition=Q(scan_state__in=["pending", "clean", "infected", "failed"]),
                name="documents_scan_state_valid",
            ),
            models.CheckConstraint(condition=Q(size_bytes__gt=0), name="documents_size_positive"),
            models.CheckConstraint(
                condition=Q(scan_state="pending", scanned_at__isnull=True)
                | (~Q(scan_state="pending") & Q(scanned_at__isnull=False)),
                name="documents_scanned_at_with_verdict",
            ),
            models.CheckConstraint(
                condition=Q(purged_at__isnull=True) | Q(removed_at__isnull=False) | Q(scan_state="infected"),
                name="documents_purged_only_when_removed_or_infected",
            ),
        ]

    def __str__(self) -> str:
        return f"document {self.id} ({self.kind}, {self.scan_state}) of {self.owner}/{self.slot}"

    @property
    def is_current(self) -> bool:
        """Return whether the document is still the slot's file (not removed or replaced)."""
        return self.removed_at is None

"""Data keys of the envelope encryption (see docs/decisions/0003-envelope-encryption.md).

One :class:`DataKey` per owner (``"application:<uuid>"``, ``"citizen:<uuid>"``,
``"message:<uuid>"`` ...): 32 random bytes that encrypt the owner's values,
stored only *wrapped* (AES-256-GCM) by a key-encryption key (KEK) from
``settings.GOVSERVE_KEYS``; ``kek_id`` names that KEK. Destroying a data key
(crypto-shredding) deletes the wrapped bytes and keeps a tombstone, so the
owner's values can never be opened again and no new key can be created for
that owner by accident.
"""

from __future__ import annotations

from django.db import models

from govserve.core.models import BaseModel


class DataKey(BaseModel):
    """The wrapped data key of one owner, or its tombstone once destroyed.

    Invariant (DB constraint): a live key has wrapped bytes and a KEK id; a
    destroyed key has neither. ``wrapped_key`` is ``nonce (12) || AES-GCM
    ciphertext of the 32-byte key || tag (16)``, with associated data binding
    it to ``owner``, this row's id and ``kek_id``.
    """

    owner = models.CharField(max_length=100, unique=True)
    wrapped_key = models.BinaryField(null=True, editable=False)
    kek_id = models.CharField(max_length=32, blank=True, default="")
    destroyed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # Rotation walks the keys of one KEK in id order (keyset pagination).
        indexes = [models.Index(fields=["kek_id", "id"], name="privacy_datakey_kek_idx")]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(destroyed_at__isnull=True, wrapped_key__isnull=False, kek_id__gt="")
                    | models.Q(destroyed_at__isnull=False, wrapped_key__isnull=True, kek_id="")
                ),
                name="privacy_datakey_live_or_destroyed",
            ),
        ]

    def __str__(self) -> str:
        state = "destroyed" if self.destroyed_at else f"wrapped by {self.kek_id}"
        return f"data key of {self.owner} ({state})"


class RetentionAction(models.TextChoices):
    """What the retention job (or an erasure) did to a file: see docs/privacy.md, "Retention"."""

    ANONYMISE = "anonymise", "Anonymised"
    DELETE = "delete", "Deleted"


class RetentionReason(models.TextChoices):
    """Why a file's personal data went: its retention period passed, or the person asked (erasure)."""

    RETENTION = "retention", "Retention period passed"
    ERASURE = "erasure", "Erasure request"


class RetentionRecord(models.Model):
    """The record that one application file's personal data was removed (never personal itself).

    One row per application, written in the transaction that removes the data,
    so the retention job and erasure skip a file already done (idempotent).
    ``application_id`` is not a foreign key: the record outlives whatever
    the action removed.
    """

    id = models.BigAutoField(primary_key=True)
    application_id = models.UUIDField(unique=True)
    service_id = models.CharField(max_length=64)
    version_number = models.PositiveIntegerField()
    action = models.CharField(max_length=16, choices=RetentionAction.choices)
    reason = models.CharField(max_length=16, choices=RetentionReason.choices)
    closed_at = models.DateTimeField(null=True, blank=True, help_text="When the file closed (None: never sent).")
    done_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["service_id", "done_at"], name="privacy_retention_service_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(action__in=RetentionAction.values), name="privacy_retention_action_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(reason__in=RetentionReason.values), name="privacy_retention_reason_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} of application {self.application_id} ({self.reason})"


class LegalHold(BaseModel):
    """A legal hold on one application file: while it is active, neither retention nor erasure touches the file.

    ``reason_code`` is a short code (``litigation``, ``investigation``,
    ``complaint``, ``regulator``), never free text about the person;
    ``placed_by`` / ``released_by`` are audit actors (``kind:id``).
    """

    application_id = models.UUIDField()
    reason_code = models.SlugField(max_length=32)
    placed_by = models.CharField(max_length=100)
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["application_id"],
                condition=models.Q(released_at__isnull=True),
                name="privacy_legal_hold_one_active",
            ),
        ]

    def __str__(self) -> str:
        state = "released" if self.released_at else "active"
        return f"legal hold on {self.application_id} ({state})"

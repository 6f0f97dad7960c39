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


class SubjectAccessState(models.TextChoices):
    """Where a data protection officer's subject access request stands (see docs/privacy.md, "Subject access").

    A request whose job went to the dead letter is shown as failed: that is
    read from the job, not stored here, so an operator's retry of the job
    makes it "being prepared" again.
    """

    PREPARING = "preparing", "Being prepared"
    READY = "ready", "Ready"
    REMOVED = "removed", "Removed"


class SubjectAccessRequest(BaseModel):
    """One officer's request for everything their institutions hold about a person, prepared by a job.

    The person's email address is sealed (owner :attr:`crypto_owner`, field
    ``email``); the prepared zip is sealed for the same owner and stored as
    the object ``storage_name``. Removing the request destroys that data key
    (crypto-shredding), so both are unreadable for good, then deletes the
    object. ``institutions`` is the scope when asked; only ``requested_by``,
    while still data protection officer of every one of them, may see it.
    ``subject_type``/``subject_id`` are those of the export's audit entry
    (an account id or a blind index, never a value), for the download's.
    """

    requested_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    institutions = models.JSONField(default=list)
    language = models.CharField(max_length=8, default="en")
    email_sealed = models.BinaryField(editable=False)
    state = models.CharField(max_length=16, choices=SubjectAccessState.choices, default=SubjectAccessState.PREPARING)
    job_id = models.UUIDField(null=True, blank=True)
    storage_name = models.CharField(max_length=100, blank=True, default="")
    size_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    applications = models.PositiveIntegerField(null=True, blank=True)
    subject_type = models.CharField(max_length=64, blank=True, default="")
    subject_id = models.CharField(max_length=100, blank=True, default="")
    ready_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["expires_at"], condition=models.Q(removed_at__isnull=True), name="privacy_sar_due_idx")
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=SubjectAccessState.values), name="privacy_sar_state_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(state="ready") | (models.Q(ready_at__isnull=False) & ~models.Q(storage_name="")),
                name="privacy_sar_ready_has_file",
            ),
        ]

    @property
    def crypto_owner(self) -> str:
        """Return the owner of this request's data key: ``subject_access:<uuid>``."""
        return f"subject_access:{self.id}"

    def __str__(self) -> str:
        return f"subject access request {self.id} ({self.state})"

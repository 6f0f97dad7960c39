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

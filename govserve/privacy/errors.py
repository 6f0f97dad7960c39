"""Typed errors of the encryption kernel and key management.

Messages name owners, fields and key ids at most; they never carry key
material or plaintext, so they are safe in logs and problem+json bodies.
A failed decryption is never the person's fault, hence the 5xx statuses:
callers catch :class:`DecryptionError` to show a specific page or to stop a
job permanently, never to hide the failure.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from govserve.core.errors import ApplicationError, ConflictError


class PrivacyError(ApplicationError):
    """Root of govserve.privacy's expected failures."""

    code = "privacy_error"


class DecryptionError(PrivacyError):
    """A sealed value cannot be opened: tampered, truncated, or sealed for another owner or field."""

    code = "decryption_failed"
    status = 500


class UnknownKeyError(DecryptionError):
    """The data key is wrapped by a key-encryption key that is not in ``GOVSERVE_KEYS``."""

    code = "key_encryption_key_unknown"
    status = 500


class DataKeyMissingError(DecryptionError):
    """No data key exists for the owner (never created, or its row was deleted)."""

    code = "data_key_missing"
    status = 500


class DataKeyDestroyedError(DecryptionError):
    """The owner's data key was destroyed (crypto-shredding): its values are gone for good."""

    code = "data_key_destroyed"
    status = 410


class KeyInUseError(PrivacyError, ConflictError):
    """A key-encryption key cannot be retired while data keys are still wrapped by it."""

    code = "key_encryption_key_in_use"


class KeyRetireRefusedError(PrivacyError, ConflictError):
    """A key-encryption key cannot be retired (it is the current one, or it is not configured)."""

    code = "key_encryption_key_retire_refused"


class RotationBlockedError(PrivacyError, ConflictError):
    """Rotation cannot proceed: some data keys are wrapped by key-encryption keys that are not configured."""

    code = "key_rotation_blocked"


class SubjectAccessRequestError(PrivacyError):
    """A subject access export was asked for something that is not an email address."""

    code = "subject_access_email_invalid"
    status = 400

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or _("Enter an email address in the correct format, like name@example.com"))

"""Typed errors of govserve.documents, with stable codes and the words the person reads.

Every refusal of an upload is an :class:`UploadRefusedError` (422) whose
``code`` is stable (the journey maps it to a definition's own message: the
``max_size_mb`` and ``types`` messages of a file field) and whose message
follows the GOV.UK Design System's file upload error patterns. Refusals are
raised before anything is stored: no row, no file, no data key.

Scanner failures are not the person's fault and not ApplicationErrors: an
unreachable scanner leaves the document *pending* and a job retries.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.translation import gettext as _

from govserve.core.errors import ApplicationError, ConflictError, NotFoundError, ValidationError

MEBIBYTE = 1024 * 1024


class DocumentsError(ApplicationError):
    """Root of govserve.documents' expected failures."""

    code = "documents_error"


# --- Refused uploads ----------------------------------------------------------------------


class UploadRefusedError(DocumentsError, ValidationError):
    """An upload refused before anything was stored; ``code`` says why, the message says what to do."""

    code = "upload_refused"
    status = 422


class FileMissingError(UploadRefusedError):
    code = "file_missing"

    def __init__(self) -> None:
        super().__init__(_("Select a file"))


class FileEmptyError(UploadRefusedError):
    code = "file_empty"

    def __init__(self) -> None:
        super().__init__(_("The selected file is empty"))


def size_label(limit_bytes: int) -> str:
    """Return ``limit_bytes`` as people read it in an error message: "5MB", "2.5MB", "500KB"."""
    if limit_bytes >= MEBIBYTE:
        megabytes = limit_bytes / MEBIBYTE
        return f"{megabytes:.0f}MB" if limit_bytes % MEBIBYTE == 0 else f"{megabytes:.1f}MB"
    return f"{max(1, limit_bytes // 1024)}KB"


class FileTooLargeError(UploadRefusedError):
    code = "file_too_large"

    def __init__(self, *, limit_bytes: int) -> None:
        super().__init__(
            _("The selected file must be smaller than %(size)s") % {"size": size_label(limit_bytes)},
            limit_bytes=limit_bytes,
        )


def types_label(type_names: Sequence[str]) -> str:
    """Return "PDF, JPG or PNG" for ``["pdf", "jpg", "png"]`` (the catalogue's default message does the same)."""
    names: list[str] = []
    for name in type_names:
        if name.upper() not in names:
            names.append(name.upper())
    if len(names) == 1:
        return names[0]
    return _("%(first)s or %(last)s") % {"first": ", ".join(names[:-1]), "last": names[-1]}


class FileTypeError(UploadRefusedError):
    code = "file_type"

    def __init__(self, *, allowed_types: Sequence[str], sniffed: str = "") -> None:
        super().__init__(
            _("The selected file must be a %(types)s") % {"types": types_label(allowed_types)},
            allowed_types=list(allowed_types),
            sniffed=sniffed,
        )


class FileNameError(UploadRefusedError):
    """The name carries characters or shapes that only attacks use (``reason`` says which)."""

    code = "file_name"

    def __init__(self, *, reason: str) -> None:
        super().__init__(_("The file name contains characters we cannot accept"), reason=reason)
        self.reason = reason


class FilePasswordProtectedError(UploadRefusedError):
    code = "file_password_protected"

    def __init__(self) -> None:
        super().__init__(_("The selected file is password protected"))


class FileDamagedError(UploadRefusedError):
    """The bytes start like the type but do not hold together (truncated, malformed)."""

    code = "file_damaged"

    def __init__(self, *, reason: str) -> None:
        super().__init__(_("The selected file is damaged or incomplete – upload a complete copy"), reason=reason)  # noqa: RUF001 - GOV.UK style uses the en dash
        self.reason = reason


class FileActiveContentError(UploadRefusedError):
    """A PDF carries scripts, launch actions or embedded files (``feature`` names which)."""

    code = "file_active_content"

    def __init__(self, *, feature: str) -> None:
        super().__init__(
            _("The selected PDF contains scripts or attached files – save it as a new PDF without them"),  # noqa: RUF001 - GOV.UK style uses the en dash
            feature=feature,
        )
        self.feature = feature


class ImageTooLargeError(UploadRefusedError):
    """An image whose pixel count would take too much memory to open (a decompression bomb, or a huge scan)."""

    code = "image_too_large"

    def __init__(self, *, max_pixels: int) -> None:
        megapixels = max(1, max_pixels // 1_000_000)
        super().__init__(
            _("The selected image is too big – it must be %(megapixels)s megapixels or fewer")  # noqa: RUF001 - GOV.UK style uses the en dash
            % {"megapixels": megapixels},
            max_pixels=max_pixels,
        )


class ArchiveExpandsTooMuchError(UploadRefusedError):
    """A container whose entries claim to expand far beyond any real document (a zip bomb)."""

    code = "file_expands_too_much"

    def __init__(self) -> None:
        super().__init__(_("The selected file is too big when it is opened – upload a smaller file"))  # noqa: RUF001 - GOV.UK style uses the en dash


class FileInfectedError(UploadRefusedError):
    """The scanner found malware; ``signature`` names it (for the audit entry, never shown)."""

    code = "file_infected"

    def __init__(self, *, signature: str) -> None:
        super().__init__(_("The selected file contains a virus"), signature=signature)
        self.signature = signature


# --- Documents that exist ---------------------------------------------------------------


class DocumentNotFoundError(DocumentsError, NotFoundError):
    """No such document, it was removed, or the caller may not know it exists (never a 403: no oracle)."""

    code = "document_not_found"

    def __init__(self) -> None:
        super().__init__(_("The file was not found"))


class SlotOccupiedError(DocumentsError, ConflictError):
    """The slot already holds a document: replace it or remove it first."""

    code = "document_slot_occupied"

    def __init__(self) -> None:
        super().__init__(_("A file has already been uploaded here – replace it or remove it"))  # noqa: RUF001 - GOV.UK style uses the en dash


class DocumentNotAvailableError(DocumentsError, ConflictError):
    """The document exists but may not be served (not scanned clean)."""

    code = "document_not_available"

    def __init__(self, message: str) -> None:
        super().__init__(message)


class StoredObjectMismatchError(DocumentsError):
    """The stored object is not the one the row recorded (its SHA-256 differs): tampering or a storage fault."""

    code = "document_object_mismatch"
    status = 500

    def __init__(self) -> None:
        super().__init__(_("Sorry, there is a problem with the service"))


# --- Scanners (infrastructure, not the person's fault) --------------------------------------


class ScannerError(Exception):
    """The scanner could not give a verdict (a protocol error, a limit, a reply it could not parse)."""


class ScannerUnavailableError(ScannerError):
    """The scanner could not be reached or did not answer in time."""

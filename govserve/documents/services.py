"""Every write of govserve.documents: upload, replace, remove, and the background scan and purge.

An upload (:func:`document_upload`, :func:`document_replace`) passes these
steps in order; each refuses with its own GOV.UK-style message
(:mod:`govserve.documents.errors`) and stores nothing — no row, no object,
no data key — and each refusal is audited as ``documents.upload.refused``:

1. **name**: NUL, control and bidi characters and ``..`` segments refused
   (:mod:`.filenames`);
2. **size**: read in 64 KiB chunks and refused as soon as it passes the
   limit — the smaller of the slot's ``max_size_bytes`` and the platform
   ceiling ``GOVSERVE_UPLOAD_MAX_BYTES`` (with govserve's upload handler the
   request body was already bounded while it streamed in: :mod:`.upload_handlers`);
   an empty file is refused;
3. **type** from the bytes (:mod:`.sniffing`), which must be an allowed type;
4. **sanity** of PDFs and images (:mod:`.sanity`);
5. **scan**, synchronously within ``GOVSERVE_SCANNER_SYNC_TIMEOUT_SECONDS``:
   infected → refused ("The selected file contains a virus"); scanner
   unreachable, slow or without a verdict → the document is stored
   *pending* and a ``documents.document.scan`` job (enqueued in the same
   transaction) scans it with retries; when the retries run out it is
   *failed*. Pending, infected and failed documents block submission
   (:func:`govserve.documents.selectors.documents_blocking_submission`);
6. **store**, in one transaction: seal the bytes and the sanitised name
   with the owner's data key (fields ``documents.<id>.file`` and
   ``documents.<id>.filename``, so a sealed object cannot be passed off as
   another document's), insert the row, write the sealed object under a
   random name, audit, enqueue. If the transaction fails after the object
   was written, the object is deleted again.

Callers (the journey) authorise the person for ``owner`` first; these
services check that a document belongs to the ``owner`` they are given, so a
document id from a URL cannot reach another owner's file. Call them outside
an outer ``transaction.atomic()``: an outer rollback after the upload
committed its savepoint would leave the sealed object without its row
(harmless — sealed — but garbage).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import structlog
from django.conf import settings
from django.db import IntegrityError, transaction

from govserve.accounts.models import Citizen
from govserve.audit.actors import Actor
from govserve.audit.models import Outcome
from govserve.audit.services import audit_record
from govserve.core import clock
from govserve.core.jobs import PermanentJobError, enqueue
from govserve.documents import errors
from govserve.documents.filenames import filename_check, filename_display
from govserve.documents.models import Document, ScanState
from govserve.documents.sanity import file_sanity_check
from govserve.documents.scanning import ScanResult, scanner_from_settings
from govserve.documents.sniffing import FileKind, file_kind_sniff
from govserve.documents.storage import (
    sealed_object_delete,
    sealed_object_read,
    sealed_object_write,
    storage_name_new,
)
from govserve.privacy.crypto import OWNER_PATTERN, seal, unseal
from govserve.privacy.errors import DecryptionError

logger = structlog.get_logger(__name__)

DEFAULT_MAX_UPLOAD_BYTES = 25 * 1024 * 1024
DEFAULT_SYNC_SCAN_TIMEOUT = 10.0
DEFAULT_SCAN_TIMEOUT = 120.0
READ_CHUNK_BYTES = 64 * 1024
SLOT_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")
SCAN_JOB = "documents.document.scan"
PURGE_JOB = "documents.document.purge"
SUBJECT = "documents.document"


class UploadedFileLike(Protocol):
    """What an upload needs of Django's UploadedFile (or any django.core.files.File)."""

    name: str | None

    def chunks(self, chunk_size: int | None = None) -> Iterator[bytes]: ...


# --- Settings (read at call time) --------------------------------------------------------------


def platform_max_upload_bytes() -> int:
    """Return the platform ceiling for one file (``GOVSERVE_UPLOAD_MAX_BYTES``, default 25 MiB)."""
    return int(getattr(settings, "GOVSERVE_UPLOAD_MAX_BYTES", DEFAULT_MAX_UPLOAD_BYTES))


def _sync_scan_timeout() -> float:
    return float(getattr(settings, "GOVSERVE_SCANNER_SYNC_TIMEOUT_SECONDS", DEFAULT_SYNC_SCAN_TIMEOUT))


def scan_timeout() -> float:
    """Return the time a background scan may take (``GOVSERVE_SCANNER_TIMEOUT_SECONDS``, default 120)."""
    return float(getattr(settings, "GOVSERVE_SCANNER_TIMEOUT_SECONDS", DEFAULT_SCAN_TIMEOUT))


# --- Sealed fields -----------------------------------------------------------------------------


def file_field(document_id: uuid.UUID) -> str:
    """Return the sealing field of a document's bytes (binds the ciphertext to this document)."""
    return f"documents.{document_id}.file"


def filename_field(document_id: uuid.UUID) -> str:
    """Return the sealing field of a document's original name."""
    return f"documents.{document_id}.filename"


def _chunks(data: bytes) -> Iterator[bytes]:
    for start in range(0, len(data), READ_CHUNK_BYTES):
        yield data[start : start + READ_CHUNK_BYTES]


# --- Checking an upload ------------------------------------------------------------------------


@dataclass(frozen=True)
class PreparedUpload:
    """An upload that passed every check: its bytes, kind, display name and (maybe) scan verdict."""

    data: bytes
    kind: FileKind
    display_name: str
    verdict: ScanResult | None
    scanner: str


def _check_owner(owner: str) -> None:
    if not isinstance(owner, str) or len(owner) > 100 or not OWNER_PATTERN.match(owner):
        msg = f"owner must look like 'application:<uuid>' (at most 100 characters), not {owner!r}"
        raise ValueError(msg)


def _check_owner_and_slot(owner: str, slot: str) -> None:
    _check_owner(owner)
    if not isinstance(slot, str) or not SLOT_PATTERN.match(slot):
        msg = f"slot must be 1-100 of A-Z a-z 0-9 _ . : -, not {slot!r}"
        raise ValueError(msg)


def _read_bounded(uploaded_file: UploadedFileLike, limit_bytes: int) -> bytes:
    """Return the file's bytes; raise FileTooLargeError as soon as more than ``limit_bytes`` were read."""
    if getattr(uploaded_file, "govserve_oversize", False):
        raise errors.FileTooLargeError(limit_bytes=limit_bytes)
    declared = getattr(uploaded_file, "size", None)
    if isinstance(declared, int) and declared > limit_bytes:
        raise errors.FileTooLargeError(limit_bytes=limit_bytes)
    seek = getattr(uploaded_file, "seek", None)
    if callable(seek):
        seek(0)
    received = bytearray()
    for chunk in uploaded_file.chunks(READ_CHUNK_BYTES):
        received += chunk
        if len(received) > limit_bytes:
            raise errors.FileTooLargeError(limit_bytes=limit_bytes)
    return bytes(received)


def _scan_now(data: bytes) -> tuple[ScanResult | None, str]:
    scanner = scanner_from_settings()
    try:
        return scanner.scan(_chunks(data), timeout=_sync_scan_timeout()), scanner.name
    except errors.ScannerError as error:
        # Not the person's fault: store it pending, the job scans it when the scanner answers.
        logger.warning("documents.scan.deferred", scanner=scanner.name, error=str(error))
        return None, scanner.name


def upload_prepare(
    *, uploaded_file: UploadedFileLike | None, allowed_types: Sequence[str], max_size_bytes: int
) -> PreparedUpload:
    """Run checks 1-5 of the module docstring on ``uploaded_file`` and return what passed; store nothing.

    Raise the step's UploadRefusedError (FileMissingError for no file at
    all), ValueError for unknown ``allowed_types`` or a non-positive
    ``max_size_bytes`` (programming errors). Not audited: the services are.
    """
    if max_size_bytes <= 0:
        msg = "max_size_bytes must be positive"
        raise ValueError(msg)
    if uploaded_file is None:
        raise errors.FileMissingError
    # The name exactly as the client sent it (kept by govserve's upload handler;
    # Django's own parser would have silently cut paths and unprintable characters).
    raw_name = str(getattr(uploaded_file, "govserve_raw_name", None) or uploaded_file.name or "")
    filename_check(raw_name)
    data = _read_bounded(uploaded_file, min(max_size_bytes, platform_max_upload_bytes()))
    if not data:
        raise errors.FileEmptyError
    kind = file_kind_sniff(data, allowed_types=allowed_types)
    file_sanity_check(data, kind)
    verdict, scanner = _scan_now(data)
    if verdict is not None and verdict.infected:
        raise errors.FileInfectedError(signature=verdict.signature)
    return PreparedUpload(
        data=data,
        kind=kind,
        display_name=filename_display(raw_name, extensions=kind.extensions),
        verdict=verdict,
        scanner=scanner,
    )


def _refusal_record(*, actor: Actor, owner: str, slot: str, error: errors.UploadRefusedError) -> None:
    details: dict[str, str] = {"slot": slot, "code": error.code}
    for key in ("reason", "feature", "signature", "sniffed"):
        value = error.extra.get(key)
        if isinstance(value, str) and value:
            details[key] = value[:200]
    kind, _, identifier = owner.partition(":")
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="documents.upload.refused",
            subject_type=kind,
            subject_id=identifier,
            outcome=Outcome.DENIED,
            details=details,
        )


def _prepare_or_refuse(
    *,
    actor: Actor,
    owner: str,
    slot: str,
    uploaded_file: UploadedFileLike | None,
    allowed_types: Sequence[str],
    max_size_bytes: int,
) -> PreparedUpload:
    try:
        return upload_prepare(uploaded_file=uploaded_file, allowed_types=allowed_types, max_size_bytes=max_size_bytes)
    except errors.UploadRefusedError as error:
        _refusal_record(actor=actor, owner=owner, slot=slot, error=error)
        raise


# --- Storing -----------------------------------------------------------------------------------


def _slot_occupied(owner: str, slot: str) -> bool:
    return Document.objects.filter(owner=owner, slot=slot, removed_at__isnull=True).exists()


def _document_store(
    *,
    owner: str,
    slot: str,
    citizen: Citizen | None,
    prepared: PreparedUpload,
    written: list[str],
    replaces: Document | None = None,
) -> Document:
    """Seal, insert and write one document inside the caller's transaction; list the written object in ``written``."""
    now = clock.now()
    document_id = uuid.uuid4()
    sealed = seal(owner=owner, field=file_field(document_id), plaintext=prepared.data)
    verdict = prepared.verdict
    document = Document(
        id=document_id,
        owner=owner,
        slot=slot,
        citizen=citizen,
        filename_sealed=seal(owner=owner, field=filename_field(document_id), plaintext=prepared.display_name),
        kind=prepared.kind.name,
        content_type=prepared.kind.content_type,
        size_bytes=len(prepared.data),
        storage_name=storage_name_new(),
        sealed_sha256=hashlib.sha256(sealed).hexdigest(),
        scan_state=ScanState.PENDING if verdict is None else ScanState.CLEAN,
        scanner=prepared.scanner if verdict is not None else "",
        scanned_at=None if verdict is None else now,
        uploaded_at=now,
        replaces=replaces,
    )
    try:
        with transaction.atomic():
            document.save(force_insert=True)
    except IntegrityError:
        if _slot_occupied(owner, slot):
            raise errors.SlotOccupiedError from None
        raise
    sealed_object_write(document.storage_name, sealed)
    written.append(document.storage_name)
    if document.scan_state == ScanState.PENDING:
        enqueue(SCAN_JOB, idempotency_key=f"documents.scan:{document.id}", document_id=str(document.id))
    return document


def _delete_written(written: list[str]) -> None:
    for name in written:
        try:
            sealed_object_delete(name)
        except Exception:
            logger.exception("documents.object.delete_failed", storage_name=name)


def _upload_details(document: Document) -> dict[str, str | int]:
    return {
        "owner": document.owner,
        "slot": document.slot,
        "kind": document.kind,
        "size_bytes": document.size_bytes,
        "scan_state": document.scan_state,
        "scanner": document.scanner,
    }


def document_upload(
    *,
    owner: str,
    slot: str,
    uploaded_file: UploadedFileLike | None,
    allowed_types: Sequence[str],
    max_size_bytes: int,
    actor: Actor,
    citizen: Citizen | None = None,
) -> Document:
    """Check, scan, seal and store ``uploaded_file`` as ``owner``'s file for ``slot``; return the document.

    ``allowed_types`` are a definition's type names (``["pdf", "jpg",
    "png"]``); ``max_size_bytes`` the slot's limit (``max_size_mb * 1024 *
    1024``), capped by the platform ceiling; ``citizen`` the signed-in
    uploader, who may then view it. The document is *clean* when the scanner
    answered at once, else *pending* (a scan job is enqueued). Raise an
    UploadRefusedError with the person's message when a check fails (audited
    as ``documents.upload.refused``; nothing stored), SlotOccupiedError when
    the slot already has a current file (use :func:`document_replace`),
    ValueError for a malformed owner, slot or type list. One transaction;
    audited as ``documents.document.uploaded``.
    """
    _check_owner_and_slot(owner, slot)
    if _slot_occupied(owner, slot):
        raise errors.SlotOccupiedError
    prepared = _prepare_or_refuse(
        actor=actor,
        owner=owner,
        slot=slot,
        uploaded_file=uploaded_file,
        allowed_types=allowed_types,
        max_size_bytes=max_size_bytes,
    )
    written: list[str] = []
    try:
        with transaction.atomic():
            document = _document_store(owner=owner, slot=slot, citizen=citizen, prepared=prepared, written=written)
            audit_record(
                actor=actor,
                action="documents.document.uploaded",
                subject_type=SUBJECT,
                subject_id=document.id,
                details=_upload_details(document),
            )
    except BaseException:
        _delete_written(written)
        raise
    return document


def _current_for_update(*, owner: str, document_id: uuid.UUID) -> Document:
    document = Document.objects.select_for_update().filter(id=document_id, owner=owner, removed_at__isnull=True).first()
    if document is None:
        raise errors.DocumentNotFoundError
    return document


def _removal_mark(document: Document) -> None:
    document.removed_at = clock.now()
    document.save(update_fields=["removed_at", "updated_at"])
    enqueue(PURGE_JOB, idempotency_key=f"documents.purge:{document.id}", document_id=str(document.id))


def document_replace(
    *,
    owner: str,
    document_id: uuid.UUID,
    uploaded_file: UploadedFileLike | None,
    allowed_types: Sequence[str],
    max_size_bytes: int,
    actor: Actor,
    citizen: Citizen | None = None,
) -> Document:
    """Replace ``owner``'s current document ``document_id`` by ``uploaded_file`` in the same slot; return the new one.

    Checks, scanning and storing as :func:`document_upload`; the old
    document is marked removed and its bytes purged by a job, in the same
    transaction. A refused upload leaves the old document as it was. Raise
    DocumentNotFoundError when ``document_id`` is not a current document of
    ``owner``; UploadRefusedError as document_upload. Audited as
    ``documents.document.replaced``.
    """
    _check_owner(owner)
    existing = Document.objects.filter(id=document_id, owner=owner, removed_at__isnull=True).first()
    if existing is None:
        raise errors.DocumentNotFoundError
    prepared = _prepare_or_refuse(
        actor=actor,
        owner=owner,
        slot=existing.slot,
        uploaded_file=uploaded_file,
        allowed_types=allowed_types,
        max_size_bytes=max_size_bytes,
    )
    written: list[str] = []
    try:
        with transaction.atomic():
            old = _current_for_update(owner=owner, document_id=document_id)
            _removal_mark(old)
            document = _document_store(
                owner=owner, slot=old.slot, citizen=citizen, prepared=prepared, written=written, replaces=old
            )
            audit_record(
                actor=actor,
                action="documents.document.replaced",
                subject_type=SUBJECT,
                subject_id=document.id,
                details={**_upload_details(document), "replaced_document_id": str(old.id)},
            )
    except BaseException:
        _delete_written(written)
        raise
    return document


def document_remove(*, owner: str, document_id: uuid.UUID, actor: Actor) -> Document:
    """Remove ``owner``'s current document ``document_id`` from its slot; its bytes are purged by a job.

    Raise DocumentNotFoundError when it is not a current document of
    ``owner`` (removing twice is refused the same way). One transaction;
    audited as ``documents.document.removed``.
    """
    with transaction.atomic():
        document = _current_for_update(owner=owner, document_id=document_id)
        _removal_mark(document)
        audit_record(
            actor=actor,
            action="documents.document.removed",
            subject_type=SUBJECT,
            subject_id=document.id,
            details={"owner": document.owner, "slot": document.slot, "scan_state": document.scan_state},
        )
    return document


# --- Background work (called by govserve.documents.jobs) ----------------------------------------

SYSTEM = Actor.system("documents")


def document_plaintext(document: Document) -> bytes:
    """Return the decrypted bytes of ``document`` (no permission check: callers are selectors and jobs).

    Raise FileNotFoundError when the stored object is gone, DecryptionError
    when it does not open (tampered, swapped, or the owner's key destroyed),
    StoredObjectMismatchError when the object is not the one the row recorded.
    """
    sealed = sealed_object_read(document.storage_name)
    if hashlib.sha256(sealed).hexdigest() != document.sealed_sha256:
        raise errors.StoredObjectMismatchError
    return unseal(owner=document.owner, field=file_field(document.id), sealed=sealed)


def document_scan_run(*, document_id: uuid.UUID, last_attempt: bool) -> str:
    """Scan a pending document and record the verdict; return its scan state afterwards.

    Nothing to do (returns the state as it is) when the document is gone,
    removed or no longer pending. Raise ScannerUnavailableError to be
    retried, unless ``last_attempt``: then, as for a scanner that answers
    without a verdict, the document becomes *failed*. Raise
    PermanentJobError when the stored bytes cannot be read any more. The
    verdict is audited as ``documents.document.scanned``; an infected
    document's bytes are purged by a job.
    """
    document = Document.objects.filter(id=document_id).first()
    if document is None or document.removed_at is not None or document.scan_state != ScanState.PENDING:
        return "" if document is None else str(document.scan_state)
    try:
        data = document_plaintext(document)
    except (FileNotFoundError, DecryptionError, errors.StoredObjectMismatchError) as error:
        msg = f"document {document_id}: stored bytes unreadable ({type(error).__name__})"
        raise PermanentJobError(msg) from error
    scanner = scanner_from_settings()
    failure = ""
    result: ScanResult | None = None
    try:
        result = scanner.scan(_chunks(data), timeout=scan_timeout())
    except errors.ScannerUnavailableError:
        if not last_attempt:
            raise
        failure = "scanner_unavailable"
    except errors.ScannerError as error:
        logger.warning(
            "documents.scan.no_verdict", document_id=str(document_id), scanner=scanner.name, error=str(error)
        )
        failure = "no_verdict"
    with transaction.atomic():
        locked = Document.objects.select_for_update().filter(id=document_id).first()
        if locked is None or locked.removed_at is not None or locked.scan_state != ScanState.PENDING:
            return "" if locked is None else str(locked.scan_state)
        if result is None:
            locked.scan_state = ScanState.FAILED
        else:
            locked.scan_state = ScanState.INFECTED if result.infected else ScanState.CLEAN
            locked.scan_signature = result.signature[:200]
        locked.scanner = scanner.name
        locked.scanned_at = clock.now()
        locked.save(update_fields=["scan_state", "scan_signature", "scanner", "scanned_at", "updated_at"])
        details: dict[str, str] = {"scan_state": locked.scan_state, "scanner": scanner.name}
        if locked.scan_signature:
            details["signature"] = locked.scan_signature
        if failure:
            details["reason"] = failure
        audit_record(
            actor=SYSTEM,
            action="documents.document.scanned",
            subject_type=SUBJECT,
            subject_id=locked.id,
            outcome=Outcome.SUCCESS if result is not None else Outcome.FAILURE,
            details=details,
        )
        if locked.scan_state == ScanState.INFECTED:
            enqueue(PURGE_JOB, idempotency_key=f"documents.purge:{locked.id}", document_id=str(locked.id))
        return str(locked.scan_state)


def document_purge(*, document_id: uuid.UUID) -> bool:
    """Delete the stored bytes of a removed or infected document and forget its name; return whether it purged.

    Idempotent: a document already purged, still current and clean, or gone
    is left alone (False). The object is deleted inside the transaction that
    records it, so a failed commit leaves the row unpurged and the retry
    deletes again (deleting a missing object is fine). Audited as
    ``documents.document.purged``.
    """
    with transaction.atomic():
        document = Document.objects.select_for_update().filter(id=document_id).first()
        if document is None or document.purged_at is not None:
            return False
        if document.removed_at is None and document.scan_state != ScanState.INFECTED:
            return False
        sealed_object_delete(document.storage_name)
        document.purged_at = clock.now()
        document.filename_sealed = b""
        document.save(update_fields=["purged_at", "filename_sealed", "updated_at"])
        audit_record(
            actor=SYSTEM,
            action="documents.document.purged",
            subject_type=SUBJECT,
            subject_id=document.id,
            details={"owner": document.owner, "slot": document.slot, "scan_state": document.scan_state},
        )
    return True


def storage_orphans_delete(*, names: Sequence[str], actor: Actor) -> int:
    """Delete the stored objects ``names`` that still have no document row; return how many were deleted.

    ``names`` come from :func:`govserve.documents.selectors.storage_orphans_find`;
    each is checked again here (a row may have appeared since). Audited as
    ``documents.storage.orphans_deleted`` with the count (names are random, not personal).
    """
    with transaction.atomic():
        known = set(Document.objects.filter(storage_name__in=list(names)).values_list("storage_name", flat=True))
        deleted = 0
        for name in names:
            if name not in known:
                sealed_object_delete(name)
                deleted += 1
        audit_record(
            actor=actor,
            action="documents.storage.orphans_deleted",
            subject_type="documents.storage",
            details={"deleted": deleted},
        )
    return deleted

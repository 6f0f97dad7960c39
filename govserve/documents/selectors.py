"""Reads of documents, with the permission policy applied inside.

- :func:`document_open` — the decrypted bytes for the download view: checks
  :func:`can_view_document`, serves only documents scanned *clean*, and
  audits the read (``documents.document.viewed``; a refusal is audited too,
  with outcome *denied*). A refused viewer gets DocumentNotFoundError, never
  a 403, so document ids cannot be probed.
- :func:`documents_for_owner` — the current documents of an owner as a
  viewer may see them (the journey's "your files" list).
- :func:`documents_blocking_submission` — why an owner's documents stop it
  from submitting (pending, infected, failed scans), in words for the person.

``can_view_document`` (from :mod:`govserve.documents.policies`) is the one
rule for all of them; it is re-exported here for callers that show links.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from govserve.accounts.models import Citizen, User
from govserve.audit.actors import Actor
from govserve.audit.models import Outcome
from govserve.audit.services import audit_record
from govserve.core.queries import PreparedFilter
from govserve.documents import errors
from govserve.documents.models import Document, ScanState
from govserve.documents.policies import OwnerAccess, can_view_document
from govserve.documents.services import SUBJECT, document_plaintext, filename_field
from govserve.documents.storage import sealed_object_modified_at, sealed_object_names
from govserve.privacy.crypto import unseal_text

__all__ = [
    "OpenedDocument",
    "SubmissionBlock",
    "can_view_document",
    "document_open",
    "documents_blocking_submission",
    "documents_for_owner",
    "storage_orphans_find",
]

Viewer = Citizen | User | OwnerAccess | Any

INLINE_CONTENT_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg"})
"""The only types shown in the browser (sandboxed); everything else downloads as an attachment."""


def _actor_for(viewer: Viewer) -> Actor:
    if isinstance(viewer, Citizen):
        return Actor.for_citizen(viewer.id)
    if isinstance(viewer, User) and getattr(viewer, "is_authenticated", False):
        return Actor.for_user(viewer)
    return Actor.system("web")  # an anonymous applicant (owner token) or nobody


def _access_label(viewer: Viewer) -> str:
    if isinstance(viewer, OwnerAccess):
        return "owner_token"
    if isinstance(viewer, Citizen):
        return "citizen"
    if isinstance(viewer, User) and getattr(viewer, "is_authenticated", False):
        return "staff"
    return "anonymous"


def _not_available_message(state: str) -> str:
    if state == ScanState.PENDING:
        return _("This file is still being checked for viruses – try again in a few minutes")  # noqa: RUF001 - GOV.UK style uses the en dash
    if state == ScanState.INFECTED:
        return _("This file contains a virus and cannot be opened")
    return _("This file could not be checked for viruses and cannot be opened")


@dataclass(frozen=True)
class OpenedDocument:
    """A document's decrypted bytes with what the download view needs to serve them safely."""

    id: uuid.UUID
    content: bytes
    content_type: str
    filename: str

    @property
    def inline(self) -> bool:
        """Return whether the browser may show it (PDF, PNG, JPEG only; never SVG or HTML)."""
        return self.content_type in INLINE_CONTENT_TYPES


def document_open(*, viewers: Sequence[Viewer], document_id: uuid.UUID) -> OpenedDocument:
    """Return ``document_id``'s bytes for the first of ``viewers`` allowed to see it; audited.

    ``viewers`` are every identity the request carries (the signed-in
    citizen, the staff user, owner grants from the session), in that order.
    Raise DocumentNotFoundError when the document does not exist, was
    removed, or no viewer may see it (audited as a denied
    ``documents.document.viewed`` when it exists); DocumentNotAvailableError
    when it is not scanned clean (pending, infected, failed). The successful
    read is audited before the bytes are returned.
    """
    document = Document.objects.filter(id=document_id).first()
    if document is None:
        raise errors.DocumentNotFoundError
    allowed = next((viewer for viewer in viewers if can_view_document(viewer, document)), None)
    if allowed is None:
        first = viewers[0] if viewers else None
        with transaction.atomic():
            audit_record(
                actor=_actor_for(first),
                action="documents.document.viewed",
                subject_type=SUBJECT,
                subject_id=document.id,
                outcome=Outcome.DENIED,
                details={"access": _access_label(first), "owner": document.owner},
            )
        raise errors.DocumentNotFoundError
    if document.scan_state != ScanState.CLEAN:
        raise errors.DocumentNotAvailableError(_not_available_message(document.scan_state))
    content = document_plaintext(document)
    filename = unseal_text(owner=document.owner, field=filename_field(document.id), sealed=document.filename_sealed)
    with transaction.atomic():
        audit_record(
            actor=_actor_for(allowed),
            action="documents.document.viewed",
            subject_type=SUBJECT,
            subject_id=document.id,
            details={"access": _access_label(allowed), "owner": document.owner, "kind": document.kind},
        )
    return OpenedDocument(id=document.id, content=content, content_type=document.content_type, filename=filename)


@dataclass(frozen=True)
class DocumentSummary:
    """A current document as its owner sees it listed."""

    id: uuid.UUID
    slot: str
    filename: str
    kind: str
    content_type: str
    size_bytes: int
    scan_state: str
    uploaded_at: dt.datetime


# Every submission and documents page lists them (most often none): the ORM's statement built once per process.
_CURRENT_OF_OWNER = PreparedFilter(
    Document,
    samples={"owner": "\x00sample owner"},
    constants={"removed_at__isnull": True},
    order_by=("slot", "uploaded_at"),
)


def documents_for_owner(*, viewer: Viewer, owner: str) -> list[DocumentSummary]:
    """Return ``owner``'s current documents that ``viewer`` may see, by slot, with their file names.

    Not audited: the policy lets only the applicant themselves see them
    today; when casework lets staff in, staff reads must be audited here.
    An infected document stays current once its bytes are purged, its name
    forgotten (``filename_sealed`` emptied): listed with an empty file name.
    """
    documents = _CURRENT_OF_OWNER.rows(owner=owner)
    return [
        DocumentSummary(
            id=document.id,
            slot=document.slot,
            filename=unseal_text(
                owner=document.owner, field=filename_field(document.id), sealed=document.filename_sealed
            )
            if len(document.filename_sealed)
            else "",
            kind=document.kind,
            content_type=document.content_type,
            size_bytes=document.size_bytes,
            scan_state=document.scan_state,
            uploaded_at=document.uploaded_at,
        )
        for document in documents
        if can_view_document(viewer, document)
    ]


@dataclass(frozen=True)
class SubmissionBlock:
    """Why one document stops its owner from submitting: a stable ``code`` and the person's ``message``."""

    document_id: uuid.UUID
    slot: str
    scan_state: str
    code: str
    message: str


def _block_reasons() -> dict[str, tuple[str, str]]:
    """Return (code, person's message) per scan state that blocks a submission, in the active language."""
    return {
        ScanState.PENDING: (
            "document_scan_pending",
            _("The selected file is still being checked for viruses – try again in a few minutes"),  # noqa: RUF001 - GOV.UK style uses the en dash
        ),
        ScanState.INFECTED: (
            "document_infected",
            _("The selected file contains a virus – remove it and upload a different file"),  # noqa: RUF001 - GOV.UK style uses the en dash
        ),
        ScanState.FAILED: (
            "document_scan_failed",
            _("The selected file could not be checked for viruses – remove it and upload it again"),  # noqa: RUF001 - GOV.UK style uses the en dash
        ),
    }


def documents_blocking_submission(owner: str) -> list[SubmissionBlock]:
    """Return a reason for each current document of ``owner`` that is not scanned clean, by slot.

    Empty when every document is clean (or there are none). Codes:
    ``document_scan_pending``, ``document_infected``, ``document_scan_failed``.
    Messages name no file (the journey puts them next to the slot's label).
    A system read for the journey's submit step: no personal data, not audited.
    Callers that have just read the owner's documents with
    :func:`documents_for_owner` get the same answer from :func:`submission_blocks` without a read.
    """
    reasons = _block_reasons()
    documents = (
        Document.objects.filter(owner=owner, removed_at__isnull=True)
        .exclude(scan_state=ScanState.CLEAN)
        .order_by("slot", "uploaded_at")
    )
    blocks: list[SubmissionBlock] = []
    for document in documents:
        code, message = reasons[ScanState(document.scan_state)]
        blocks.append(
            SubmissionBlock(
                document_id=document.id, slot=document.slot, scan_state=document.scan_state, code=code, message=message
            )
        )
    return blocks


def submission_blocks(documents: Iterable[DocumentSummary]) -> list[SubmissionBlock]:
    """Return :func:`documents_blocking_submission`'s reasons for ``documents``, in their order. Pure.

    ``documents`` are an owner's current documents as :func:`documents_for_owner`
    lists them for the owner (all of them, by slot and upload time): the same
    blocks as reading them again.
    """
    reasons = _block_reasons()
    return [
        SubmissionBlock(
            document_id=document.id,
            slot=document.slot,
            scan_state=document.scan_state,
            code=reasons[ScanState(document.scan_state)][0],
            message=reasons[ScanState(document.scan_state)][1],
        )
        for document in documents
        if document.scan_state != ScanState.CLEAN
    ]


def storage_orphans_find(*, older_than: dt.timedelta) -> list[str]:
    """Return the stored objects no document row names, written more than ``older_than`` ago.

    Orphans come from a process that died between writing the sealed object
    and committing its row, or from an outer transaction rolled back after an
    upload (see govserve.documents.services). They are sealed, so harmless,
    but garbage. The age bound keeps uploads still in flight out of the list.
    """
    from govserve.core import clock  # noqa: PLC0415 - read at call time, tests move it

    known = set(Document.objects.values_list("storage_name", flat=True))
    cutoff = clock.now() - older_than
    return [name for name in sealed_object_names() if name not in known and sealed_object_modified_at(name) < cutoff]

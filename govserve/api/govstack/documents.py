"""GovStack documents: ``POST /documents`` keeps an upload for the client until an application file uses it.

GovStack uploads a document before the application it belongs to exists,
then names it (by the URL the upload answered) in ``documentUrls`` or as a
file question's answer. So an upload is stored by govserve.documents'
ordinary upload (name, size, type from the bytes, PDF/image sanity, the
virus scan; sealed with its owner's key) as a document of the client itself
(owner ``api_client:<client id>``), with every type govserve knows and the
platform's size ceiling. When an application file names it, its bytes go
through the journey's own upload of that question or required document —
the definition's types and size, scanned again — and the client's copy is
removed once the file is saved.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from dataclasses import dataclass

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest

from govserve.api.govstack.bodies import FORM, BodyMalformedError, BodyTooLargeError, media_type
from govserve.api.govstack.http import RequestInvalidError
from govserve.api.govstack.selectors import GovStackNotFoundError
from govserve.api.models import ApiClient, ClientApplication
from govserve.audit.actors import Actor
from govserve.documents import errors as document_errors
from govserve.documents import services as documents
from govserve.documents.models import Document
from govserve.documents.policies import OwnerAccess
from govserve.documents.selectors import OpenedDocument, document_open
from govserve.documents.services import filename_field, platform_max_upload_bytes
from govserve.documents.sniffing import KINDS
from govserve.privacy.crypto import unseal_text

SLOT_PREFIX = "govstack:"
_DATA_URI = re.compile(r"^data:[\w.+/-]*(;[\w=.-]+)*;base64,", re.IGNORECASE)
_ID_IN_URL = re.compile(r"(?:^|/)([0-9A-Fa-f]{8}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{12})/?$")
JSON_SLACK_BYTES = 64 * 1024


class DocumentBase64InvalidError(RequestInvalidError):
    """A document sent as text that is not base64."""

    code = "document_base64_invalid"


class DocumentMissingError(RequestInvalidError):
    """No document in the body (no ``file`` part or member)."""

    code = "document_missing"


class DocumentUnknownError(RequestInvalidError):
    """``documentUrls`` (or a file answer) names a document this client did not upload (or no longer has)."""

    code = "document_unknown"


def owner_of(client: ApiClient) -> str:
    """Return the documents' owner of the client's uploads not yet in an application."""
    return f"api_client:{client.id}"


@dataclass(frozen=True)
class Sent:
    """A document as sent: its bytes in an uploaded file (multipart) or decoded from base64."""

    upload: UploadedFile[bytes] | ContentFile[bytes]


def _decoded(text: str, name: str) -> ContentFile[bytes]:
    limit = platform_max_upload_bytes()
    cleaned = _DATA_URI.sub("", text.strip(), count=1)
    cleaned = "".join(cleaned.split())
    if len(cleaned) > (limit // 3 + 1) * 4:
        raise document_errors.FileTooLargeError(limit_bytes=limit)
    try:
        data = base64.b64decode(cleaned.replace("-", "+").replace("_", "/") + "=" * (-len(cleaned) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise DocumentBase64InvalidError("The document is not valid base64") from None
    return ContentFile(data, name=name)


def _name(value: object) -> str:
    return value[:255] if isinstance(value, str) else ""


def sent_document(request: HttpRequest) -> Sent:
    """Return the one document of a ``POST /documents`` body: multipart (a file, or base64 text, in ``file``) or JSON.

    JSON: ``{"file": "<base64>"}`` (or a list of one; a ``data:...;base64,``
    prefix is taken), with an optional ``fileName``. Raise
    DocumentMissingError, DocumentBase64InvalidError, the documents' FileTooLargeError.
    """
    kind = media_type(request)
    if kind in {"multipart/form-data", FORM}:
        try:
            files, texts = request.FILES.getlist("file"), request.POST.getlist("file")
        except (RequestDataTooBig, TooManyFieldsSent):
            message = "The body is too large for a document in text: send it as a file part, or as JSON"
            raise BodyTooLargeError(message) from None
        if len(files) + len(texts) > 1:
            raise RequestInvalidError("Send one document a request")
        if files:
            return Sent(upload=files[0])
        if texts:
            return Sent(upload=_decoded(texts[0], _name(request.POST.get("fileName"))))
        raise DocumentMissingError("Send the document in the part named file")
    limit = (platform_max_upload_bytes() // 3 + 1) * 4 + JSON_SLACK_BYTES
    raw = request.read(limit + 1)
    if len(raw) > limit:
        raise document_errors.FileTooLargeError(limit_bytes=platform_max_upload_bytes())
    body = _json_object(raw)
    value = body.get("file")
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, list):
        raise RequestInvalidError("Send one document a request")
    if not isinstance(value, str) or not value.strip():
        raise DocumentMissingError("Send the document as base64 text in the member file")
    return Sent(upload=_decoded(value, _name(body.get("fileName") or body.get("name"))))


def _json_object(raw: bytes) -> dict[str, object]:
    try:
        parsed = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError):
        raise BodyMalformedError("The request body is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise BodyMalformedError("The request body must be a JSON object with the member file")
    return parsed


def document_keep(client: ApiClient, sent: Sent) -> Document:
    """Store ``sent`` as the client's document through govserve.documents' upload; raise its UploadRefusedError."""
    return documents.document_upload(
        owner=owner_of(client),
        slot=f"{SLOT_PREFIX}{uuid.uuid4().hex}",
        uploaded_file=sent.upload,
        allowed_types=list(KINDS),
        max_size_bytes=platform_max_upload_bytes(),
        actor=Actor.for_api_client(client.id),
    )


def document_id_of(reference: str) -> uuid.UUID | None:
    """Return the document id a ``documentUrls`` entry (a URL ending in the id, or the id) names; None if none."""
    found = _ID_IN_URL.search(reference.strip().split("?", 1)[0])
    return uuid.UUID(found.group(1)) if found else None


def kept_document(client: ApiClient, reference: str, member: str) -> Document:
    """Return the client's kept upload ``reference`` names; raise DocumentUnknownError naming ``member``."""
    document_id = document_id_of(reference)
    document = (
        Document.objects.filter(id=document_id, owner=owner_of(client), removed_at__isnull=True).first()
        if document_id
        else None
    )
    if document is None:
        message = f"{reference[:100]} is not a document this client uploaded (POST /documents) and has not used"
        raise DocumentUnknownError(message, errors=[{"field": member, "code": "document_unknown", "detail": message}])
    return document


def as_upload(document: Document) -> ContentFile[bytes]:
    """Return a kept document's bytes as an upload (its original name), for the journey's own upload."""
    name = unseal_text(owner=document.owner, field=filename_field(document.id), sealed=document.filename_sealed)
    return ContentFile(documents.document_plaintext(document), name=name)


def kept_remove(client: ApiClient, used: list[Document]) -> None:
    """Remove the client's uploads an application file now holds a copy of (each once, however often it was named)."""
    for document in {document.id: document for document in used}.values():
        documents.document_remove(
            owner=owner_of(client), document_id=document.id, actor=Actor.for_api_client(client.id)
        )


def document_read(client: ApiClient, document_id: str) -> OpenedDocument:
    """Return a document the client may read: one it uploaded, or one of an application it made.

    Read through govserve.documents (audited; a document not scanned clean is
    409 ``document_not_available``). Raise GovStackNotFoundError otherwise.
    """
    wanted = document_id_of(document_id)
    document = Document.objects.filter(id=wanted, removed_at__isnull=True).first() if wanted else None
    if document is not None and document.owner != owner_of(client):
        kind, _, application_id = document.owner.partition(":")
        made = ClientApplication.objects.filter(client=client, application_id=application_id)
        if kind != "application" or not made.exists():
            document = None
    if document is None:
        raise GovStackNotFoundError(f"There is no document {document_id[:100]}")
    return document_open(viewers=[OwnerAccess(owner=document.owner)], document_id=document.id)

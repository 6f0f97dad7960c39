"""Real multipart requests through govserve's upload handler: raw names kept, memory bounded, no temp files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import InMemoryUploadedFile, UploadedFile
from django.http import HttpRequest
from django.test import RequestFactory

from govserve.audit.actors import Actor
from govserve.documents import errors
from govserve.documents.models import Document
from govserve.documents.services import document_upload
from govserve.documents.tests import samples
from govserve.documents.tests.conftest import stored_files
from govserve.documents.upload_handlers import BoundedMemoryUploadHandler, OversizeUploadedFile

BOUNDARY = "govserve-test-boundary"


def _file(request: HttpRequest) -> UploadedFile[bytes]:
    uploaded = request.FILES["file"]
    assert isinstance(uploaded, UploadedFile)
    return uploaded


def _multipart(filename: str, data: bytes, *, extra_field: bool = True) -> HttpRequest:
    """Return a POST with one file part whose filename header is exactly ``filename`` (no client-side cleaning)."""
    parts = []
    if extra_field:
        parts.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="slot"\r\n\r\nproof\r\n'.encode())
    header = (
        f"--{BOUNDARY}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    )
    parts.append(header.encode("utf-8", "surrogatepass") + data + b"\r\n")
    parts.append(f"--{BOUNDARY}--\r\n".encode())
    request: HttpRequest = RequestFactory().generic(
        "POST", "/upload", data=b"".join(parts), content_type=f"multipart/form-data; boundary={BOUNDARY}"
    )
    return request


def test_the_settings_install_the_bounded_memory_handler(settings: Any) -> None:
    assert settings.FILE_UPLOAD_HANDLERS == ["govserve.documents.upload_handlers.BoundedMemoryUploadHandler"]
    request = _multipart("a.pdf", b"%PDF-1.7")
    assert [type(handler) for handler in request.upload_handlers] == [BoundedMemoryUploadHandler]


def test_a_large_upload_stays_in_memory_and_never_touches_the_temp_dir(settings: Any, tmp_path: Path) -> None:
    # Given a temp dir Django would spill to, and a file over FILE_UPLOAD_MAX_MEMORY_SIZE
    spill = tmp_path / "spill"
    spill.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(spill)
    data = samples.pdf_document(raw_content=b"0" * (3 * 1024 * 1024))

    # When
    request = _multipart("big.pdf", data)
    uploaded = _file(request)

    # Then
    assert isinstance(uploaded, InMemoryUploadedFile)
    assert uploaded.read() == data
    assert request.POST["slot"] == "proof"
    assert list(spill.iterdir()) == []


def test_past_the_ceiling_no_bytes_are_kept_and_the_service_says_how_big_is_allowed(
    settings: Any, owner: str, media_root: Path, db: None
) -> None:
    # Given a ceiling of 2 KB
    settings.GOVSERVE_UPLOAD_MAX_BYTES = 2048

    # When a 10 KB file streams in
    request = _multipart("big.pdf", b"%PDF-1.7\n" + b"0" * 10_000)
    uploaded = _file(request)

    # Then the handler kept nothing, and the service refuses with the ceiling
    assert isinstance(uploaded, OversizeUploadedFile)
    assert (uploaded.size, uploaded.read()) == (10_009, b"")
    with pytest.raises(errors.FileTooLargeError) as refused:
        document_upload(
            owner=owner,
            slot="proof",
            uploaded_file=uploaded,
            allowed_types=["pdf"],
            max_size_bytes=10 * 1024 * 1024,
            actor=Actor.system("test"),
        )
    assert refused.value.message == "The selected file must be smaller than 2KB"
    assert stored_files(media_root) == []


@pytest.mark.parametrize(
    ("sent", "django_name"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\..\\win.ini.pdf", "win.ini.pdf"),
        ("&#46;&#46;/&#46;&#46;/etc/passwd.pdf", "passwd.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("..", "upload"),
    ],
)
def test_names_django_would_silently_clean_reach_the_service_as_sent_and_are_refused(
    owner: str, media_root: Path, db: None, sent: str, django_name: str
) -> None:
    # When
    request = _multipart(sent, samples.pdf_document())
    uploaded = _file(request)

    # Then Django's cleaned name is the file's name, the raw one travels beside it
    assert uploaded.name == django_name
    with pytest.raises(errors.FileNameError) as refused:
        document_upload(
            owner=owner,
            slot="proof",
            uploaded_file=uploaded,
            allowed_types=["pdf"],
            max_size_bytes=1024 * 1024,
            actor=Actor.system("test"),
        )
    assert refused.value.message == "The file name contains characters we cannot accept"
    assert Document.objects.count() == 0
    assert stored_files(media_root) == []


def test_an_ordinary_upload_through_the_handler_is_stored(owner: str, db: None) -> None:
    request = _multipart("Ada passport.pdf", samples.pdf_document())
    document = document_upload(
        owner=owner,
        slot="proof",
        uploaded_file=_file(request),
        allowed_types=["pdf"],
        max_size_bytes=1024 * 1024,
        actor=Actor.system("test"),
    )
    assert document.kind == "pdf"

"""Uploads through the service: the happy paths, every attack refused with its message and nothing stored."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from govserve.accounts.models import Citizen
from govserve.audit.actors import Actor
from govserve.audit.models import AuditEntry
from govserve.core.models import JobRecord
from govserve.documents import errors
from govserve.documents.models import Document, ScanState
from govserve.documents.services import (
    document_plaintext,
    document_remove,
    document_replace,
    document_upload,
    file_field,
    filename_field,
)
from govserve.documents.tests import samples
from govserve.documents.tests.conftest import ClamdDaemon, stored_files, upload
from govserve.privacy.crypto import unseal, unseal_text
from govserve.privacy.models import DataKey
from govserve.privacy.testing import assert_no_plaintext

pytestmark = pytest.mark.django_db

MB = 1024 * 1024
PDF_JPG_PNG = ["pdf", "jpg", "png"]


def _upload(owner: str, actor: Actor, data: bytes, name: str, **overrides: Any) -> Document:
    arguments: dict[str, Any] = {
        "owner": owner,
        "slot": "proof_of_identity",
        "uploaded_file": upload(data, name),
        "allowed_types": PDF_JPG_PNG,
        "max_size_bytes": 5 * MB,
        "actor": actor,
    }
    arguments.update(overrides)
    return document_upload(**arguments)


# --- Happy paths ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "accepted",
    [
        (samples.pdf_document(), "Ada passport.pdf", "pdf", "application/pdf", "Ada passport.pdf"),
        (samples.pdf_compressed_clean(), "scan.PDF", "pdf", "application/pdf", "scan.pdf"),
        (samples.image_bytes("PNG"), "photo.png", "png", "image/png", "photo.png"),
        (samples.image_bytes("JPEG"), "photo.jpeg", "jpg", "image/jpeg", "photo.jpeg"),
        (samples.image_bytes("JPEG"), "IMG_0001", "jpg", "image/jpeg", "IMG_0001.jpg"),
        (samples.image_bytes("PNG"), "C:\\Users\\ada\\Desktop\\photo.png", "png", "image/png", "photo.png"),
    ],
)
def test_an_accepted_file_is_stored_sealed_and_clean(
    owner: str, actor: Actor, citizen: Citizen, media_root: Path, accepted: tuple[bytes, str, str, str, str]
) -> None:
    # When
    data, name, kind, content_type, shown_name = accepted
    document = _upload(owner, actor, data, name, citizen=citizen)

    # Then: the row says what the bytes are
    document.refresh_from_db()
    assert (document.owner, document.slot, document.kind, document.content_type) == (
        owner,
        "proof_of_identity",
        kind,
        content_type,
    )
    assert document.size_bytes == len(data)
    assert document.citizen_id == citizen.id
    assert (document.scan_state, document.scanner, document.scan_signature) == (ScanState.CLEAN, "test", "")
    assert document.scanned_at is not None
    assert document.removed_at is None
    # the stored object is the sealed bytes, under a random name, and opens to the exact upload
    files = stored_files(media_root)
    assert files == [media_root / document.storage_name]
    assert document.storage_name.startswith(f"documents/{document.storage_name.rsplit('/', 1)[1][:2]}/")
    assert len(document.storage_name.rsplit("/", 1)[1]) == 32
    stored = files[0].read_bytes()
    assert data not in stored
    assert hashlib.sha256(stored).hexdigest() == document.sealed_sha256
    assert unseal(owner=owner, field=file_field(document.id), sealed=stored) == data
    assert document_plaintext(document) == data
    assert unseal_text(owner=owner, field=filename_field(document.id), sealed=document.filename_sealed) == shown_name
    # audited, with ids and codes only
    entry = AuditEntry.objects.get(action="documents.document.uploaded")
    assert (entry.actor_kind, entry.actor_id, entry.subject_type, entry.subject_id) == (
        "citizen",
        str(citizen.id),
        "documents.document",
        str(document.id),
    )
    assert entry.details == {
        "owner": owner,
        "slot": "proof_of_identity",
        "kind": kind,
        "size_bytes": len(data),
        "scan_state": "clean",
        "scanner": "test",
    }


def test_office_text_and_other_image_types_are_accepted_when_the_slot_allows_them(owner: str, actor: Actor) -> None:
    # Given a slot that allows every type
    everything = ["pdf", "jpg", "png", "gif", "tiff", "heic", "txt", "csv", "odt", "ods", "docx", "xlsx", "doc", "xls"]
    files = {
        "gif": samples.image_bytes("GIF"),
        "tiff": samples.image_bytes("TIFF"),
        "heic": samples.heic_minimal(),
        "txt": "Notes — café\n".encode(),
        "csv": b"name,amount\nrent,500\n",
        "odt": samples.odt_document(),
        "docx": samples.docx_document(),
        "doc": samples.ole_document("WordDocument"),
        "xls": samples.ole_document("Workbook"),
    }
    # When / Then
    for index, (kind, data) in enumerate(files.items()):
        document = _upload(owner, actor, data, f"file-{index}", slot=f"slot_{kind}", allowed_types=everything)
        assert (document.kind, document.scan_state) == (kind, ScanState.CLEAN)
    assert Document.objects.filter(owner=owner).count() == len(files)


def test_nothing_personal_reaches_the_media_root_or_the_database_in_clear(
    owner: str, actor: Actor, media_root: Path
) -> None:
    # Given a PDF whose text and whose name are personal
    data = samples.pdf_document()

    # When
    document = _upload(owner, actor, data, "ada-lovelace-passport-QX7731.pdf")

    # Then: neither the text nor the name is anywhere in clear (tables through raw SQL, stored objects)
    report = assert_no_plaintext(
        [samples.SECRET_TEXT, "ada-lovelace-passport-QX7731", data[:64]], directories=[media_root]
    )
    assert report.files == (str(media_root / document.storage_name),)
    assert "documents_document" in report.tables
    assert report.rows > 0


# --- Attacks and bad input: refused with the exact message, nothing stored -------------------------------

TYPE_MESSAGE = "The selected file must be a PDF, JPG or PNG"
NAME_MESSAGE = "The file name contains characters we cannot accept"
VIRUS_MESSAGE = "The selected file contains a virus"
DAMAGED_MESSAGE = "The selected file is damaged or incomplete – upload a complete copy"  # noqa: RUF001 - GOV.UK en dash
ACTIVE_MESSAGE = "The selected PDF contains scripts or attached files – save it as a new PDF without them"  # noqa: RUF001
BOMB_MESSAGE = "The selected image is too big – it must be 50 megapixels or fewer"  # noqa: RUF001 - GOV.UK en dash
ZIP_BOMB_MESSAGE = "The selected file is too big when it is opened – upload a smaller file"  # noqa: RUF001
LOCKED_MESSAGE = "The selected file is password protected"
EICAR_PDF = samples.pdf_document(raw_content=b"BT (" + samples.EICAR_FILE + b") Tj ET")


@dataclass(frozen=True)
class Attack:
    """One bad upload: its bytes, the name it claims, what the slot allows, and the exact refusal."""

    id: str
    data: bytes
    name: str
    allowed: tuple[str, ...]
    message: str
    code: str


ATTACKS = [
    Attack("html-named-pdf", samples.HTML_PAGE, "form.pdf", ("pdf", "jpg", "png"), TYPE_MESSAGE, "file_type"),
    Attack("svg-named-png", samples.SVG_IMAGE, "logo.png", ("pdf", "jpg", "png"), TYPE_MESSAGE, "file_type"),
    Attack(
        "exe-named-pdf", samples.WINDOWS_EXECUTABLE, "invoice.pdf", ("pdf", "jpg", "png"), TYPE_MESSAGE, "file_type"
    ),
    Attack(
        "png-named-pdf",
        samples.image_bytes("PNG"),
        "photo.pdf",
        ("pdf",),
        "The selected file must be a PDF",
        "file_type",
    ),
    Attack(
        "macro-docx",
        samples.docx_document(macro=True),
        "a.docx",
        ("docx",),
        "The selected file must be a DOCX",
        "file_type",
    ),
    Attack("empty", b"", "empty.pdf", ("pdf",), "The selected file is empty", "file_empty"),
    Attack(
        "oversize",
        b"%PDF-1.7\n" + b"0" * (5 * MB),
        "big.pdf",
        ("pdf",),
        "The selected file must be smaller than 5MB",
        "file_too_large",
    ),
    Attack("eicar", samples.EICAR_FILE, "notes.txt", ("txt",), VIRUS_MESSAGE, "file_infected"),
    Attack("eicar-inside-pdf", EICAR_PDF, "scan.pdf", ("pdf",), VIRUS_MESSAGE, "file_infected"),
    Attack("path-traversal", samples.pdf_document(), "../../etc/passwd.pdf", ("pdf",), NAME_MESSAGE, "file_name"),
    Attack("windows-traversal", samples.pdf_document(), "..\\..\\win.ini.pdf", ("pdf",), NAME_MESSAGE, "file_name"),
    Attack("nul-byte", samples.pdf_document(), "evil.html\x00.pdf", ("pdf",), NAME_MESSAGE, "file_name"),
    Attack("bidi-override", samples.pdf_document(), "invoice\u202efdp.exe", ("pdf",), NAME_MESSAGE, "file_name"),
    Attack("crlf", samples.pdf_document(), "a\r\nSet-Cookie: x=1.pdf", ("pdf",), NAME_MESSAGE, "file_name"),
    Attack("png-bomb", samples.png_decompression_bomb(), "bomb.png", ("png",), BOMB_MESSAGE, "image_too_large"),
    Attack("zip-bomb", samples.zip_bomb(), "bomb.docx", ("docx",), ZIP_BOMB_MESSAGE, "file_expands_too_much"),
    Attack("encrypted-pdf", samples.pdf_encrypted(), "x.pdf", ("pdf",), LOCKED_MESSAGE, "file_password_protected"),
    Attack(
        "encrypted-zip",
        samples.docx_document(encrypted_entry=True),
        "x.docx",
        ("docx",),
        LOCKED_MESSAGE,
        "file_password_protected",
    ),
    Attack("truncated-pdf", samples.pdf_document()[:-400], "cut.pdf", ("pdf",), DAMAGED_MESSAGE, "file_damaged"),
    Attack(
        "truncated-jpeg",
        samples.image_bytes("JPEG", size=(400, 300))[:700],
        "cut.jpg",
        ("jpg",),
        DAMAGED_MESSAGE,
        "file_damaged",
    ),
    Attack("pdf-javascript", samples.pdf_with_javascript(), "f.pdf", ("pdf",), ACTIVE_MESSAGE, "file_active_content"),
    Attack(
        "pdf-javascript-in-object-stream",
        samples.pdf_with_javascript_in_object_stream(),
        "f.pdf",
        ("pdf",),
        ACTIVE_MESSAGE,
        "file_active_content",
    ),
    Attack("pdf-launch", samples.pdf_with_launch(), "f.pdf", ("pdf",), ACTIVE_MESSAGE, "file_active_content"),
    Attack("pdf-embedded", samples.pdf_with_embedded_file(), "f.pdf", ("pdf",), ACTIVE_MESSAGE, "file_active_content"),
]


def _assert_nothing_stored(owner: str, media_root: Path) -> None:
    assert Document.objects.count() == 0
    assert stored_files(media_root) == []
    assert not DataKey.objects.filter(owner=owner).exists()
    assert not JobRecord.objects.exists()


def _assert_refusal_audited(owner: str, code: str) -> None:
    entry = AuditEntry.objects.get(action="documents.upload.refused")
    assert (entry.subject_type, entry.subject_id, entry.outcome) == ("application", owner.split(":", 1)[1], "denied")
    assert entry.details["code"] == code
    assert entry.details["slot"] == "proof_of_identity"


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda attack: attack.id)
def test_each_upload_attack_is_refused_with_its_message_and_nothing_is_stored(
    owner: str, actor: Actor, media_root: Path, attack: Attack
) -> None:
    # When
    with pytest.raises(errors.UploadRefusedError) as refused:
        _upload(owner, actor, attack.data, attack.name, allowed_types=list(attack.allowed))

    # Then
    assert (refused.value.message, refused.value.code, refused.value.status) == (attack.message, attack.code, 422)
    _assert_nothing_stored(owner, media_root)
    _assert_refusal_audited(owner, attack.code)


@pytest.mark.parametrize(
    "infected",
    [
        pytest.param((samples.EICAR_FILE, "notes.txt", ["txt"]), id="eicar"),
        pytest.param((samples.EICAR_FILE + b"\r\n", "notes.csv", ["csv", "txt"]), id="eicar-with-newline"),
        pytest.param((EICAR_PDF, "scan.pdf", ["pdf"]), id="in-pdf"),
    ],
)
def test_the_real_clamd_finds_eicar_and_the_upload_is_refused(
    clamd_tcp: ClamdDaemon, owner: str, actor: Actor, media_root: Path, infected: tuple[bytes, str, list[str]]
) -> None:
    # When
    data, name, allowed = infected
    with pytest.raises(errors.FileInfectedError) as refused:
        _upload(owner, actor, data, name, allowed_types=allowed)

    # Then: clamd's verdict, the shipped signature's name, nothing stored
    assert refused.value.message == "The selected file contains a virus"
    assert refused.value.signature == "Eicar-Test-Signature.UNOFFICIAL"
    _assert_nothing_stored(owner, media_root)
    entry = AuditEntry.objects.get(action="documents.upload.refused")
    assert entry.details == {
        "slot": "proof_of_identity",
        "code": "file_infected",
        "signature": "Eicar-Test-Signature.UNOFFICIAL",
    }


def test_a_clean_file_scanned_by_the_real_clamd_is_stored_clean(
    clamd_tcp: ClamdDaemon, owner: str, actor: Actor
) -> None:
    # When
    document = _upload(owner, actor, samples.pdf_document(), "scan.pdf")

    # Then
    assert (document.scan_state, document.scanner) == (ScanState.CLEAN, "clamd")


def test_the_slot_limit_applies_below_the_platform_ceiling_and_the_ceiling_above_it(
    owner: str, actor: Actor, media_root: Path, settings: Any
) -> None:
    # Given a platform ceiling of 1 MB and a slot that says 10 MB
    settings.GOVSERVE_UPLOAD_MAX_BYTES = 1 * MB
    data = samples.pdf_document(raw_content=b"0" * (MB + 10))

    # When
    with pytest.raises(errors.FileTooLargeError) as refused:
        _upload(owner, actor, data, "big.pdf", max_size_bytes=10 * MB)

    # Then: the ceiling is the limit the person is told
    assert refused.value.message == "The selected file must be smaller than 1MB"
    _assert_nothing_stored(owner, media_root)
    # and a file just under both limits is fine
    assert _upload(owner, actor, samples.pdf_document(raw_content=b"0" * (MB - 2000)), "ok.pdf").kind == "pdf"


def test_a_missing_file_is_refused_with_select_a_file(owner: str, actor: Actor, media_root: Path) -> None:
    with pytest.raises(errors.FileMissingError) as refused:
        document_upload(
            owner=owner,
            slot="proof_of_identity",
            uploaded_file=None,
            allowed_types=PDF_JPG_PNG,
            max_size_bytes=MB,
            actor=actor,
        )
    assert refused.value.message == "Select a file"
    _assert_nothing_stored(owner, media_root)


@pytest.mark.parametrize(
    ("owner_value", "slot", "types"),
    [
        ("application", "slot", ["pdf"]),
        ("application:../x", "slot", ["pdf"]),
        ("application:" + str(uuid.uuid4()), "a slot", ["pdf"]),
        ("application:" + str(uuid.uuid4()), "slot", ["exe"]),
        ("application:" + str(uuid.uuid4()), "slot", []),
    ],
    # Ids of their own: random values in them would differ between pytest-xdist workers' collections.
    ids=["owner-without-id", "owner-with-path", "slot-with-space", "unknown-type", "no-types"],
)
def test_malformed_owner_slot_or_types_are_programming_errors(
    actor: Actor, media_root: Path, owner_value: str, slot: str, types: list[str]
) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message; what matters is nothing stored
        document_upload(
            owner=owner_value,
            slot=slot,
            uploaded_file=upload(samples.pdf_document(), "a.pdf"),
            allowed_types=types,
            max_size_bytes=MB,
            actor=actor,
        )
    assert Document.objects.count() == 0
    assert stored_files(media_root) == []


# --- Slots, replace, remove, purge --------------------------------------------------------------------


def test_a_second_upload_to_an_occupied_slot_is_refused(owner: str, actor: Actor, media_root: Path) -> None:
    # Given
    first = _upload(owner, actor, samples.pdf_document(), "first.pdf")

    # When
    with pytest.raises(errors.SlotOccupiedError) as refused:
        _upload(owner, actor, samples.image_bytes("PNG"), "second.png")

    # Then
    assert refused.value.message == "A file has already been uploaded here – replace it or remove it"  # noqa: RUF001 - GOV.UK style uses the en dash
    assert list(Document.objects.values_list("id", flat=True)) == [first.id]
    assert stored_files(media_root) == [media_root / first.storage_name]


def test_replace_swaps_the_slot_file_and_purges_the_old_bytes(owner: str, actor: Actor, media_root: Path) -> None:
    from govserve.core.jobs import run_pending  # noqa: PLC0415 - the worker loop, for this test only

    # Given
    old = _upload(owner, actor, samples.pdf_document(), "first.pdf")

    # When
    new = document_replace(
        owner=owner,
        document_id=old.id,
        uploaded_file=upload(samples.image_bytes("PNG"), "second.png"),
        allowed_types=PDF_JPG_PNG,
        max_size_bytes=MB,
        actor=actor,
    )

    # Then
    old.refresh_from_db()
    assert old.removed_at is not None
    assert new.replaces_id == old.id
    assert (new.slot, new.kind, new.removed_at) == ("proof_of_identity", "png", None)
    entry = AuditEntry.objects.get(action="documents.document.replaced")
    assert entry.details["replaced_document_id"] == str(old.id)
    assert run_pending() == 1  # the purge of the old bytes
    old.refresh_from_db()
    assert old.purged_at is not None
    assert bytes(old.filename_sealed) == b""
    assert stored_files(media_root) == [media_root / new.storage_name]
    assert AuditEntry.objects.filter(action="documents.document.purged", subject_id=str(old.id)).count() == 1


def test_a_refused_replacement_leaves_the_old_file_in_place(owner: str, actor: Actor, media_root: Path) -> None:
    # Given
    old = _upload(owner, actor, samples.pdf_document(), "first.pdf")

    # When
    with pytest.raises(errors.FileTypeError):
        document_replace(
            owner=owner,
            document_id=old.id,
            uploaded_file=upload(samples.HTML_PAGE, "second.pdf"),
            allowed_types=PDF_JPG_PNG,
            max_size_bytes=MB,
            actor=actor,
        )

    # Then
    old.refresh_from_db()
    assert old.removed_at is None
    assert list(Document.objects.values_list("id", flat=True)) == [old.id]
    assert stored_files(media_root) == [media_root / old.storage_name]
    assert not JobRecord.objects.exists()


def test_replace_and_remove_refuse_a_document_of_another_owner(owner: str, actor: Actor, media_root: Path) -> None:
    # Given another application's document
    theirs = _upload(f"application:{uuid.uuid4()}", actor, samples.pdf_document(), "theirs.pdf")

    # When / Then
    with pytest.raises(errors.DocumentNotFoundError):
        document_remove(owner=owner, document_id=theirs.id, actor=actor)
    with pytest.raises(errors.DocumentNotFoundError):
        document_replace(
            owner=owner,
            document_id=theirs.id,
            uploaded_file=upload(samples.pdf_document(), "mine.pdf"),
            allowed_types=PDF_JPG_PNG,
            max_size_bytes=MB,
            actor=actor,
        )
    theirs.refresh_from_db()
    assert theirs.removed_at is None
    assert Document.objects.count() == 1


def test_remove_marks_the_document_removed_and_a_job_deletes_its_bytes(
    owner: str, actor: Actor, media_root: Path
) -> None:
    from govserve.core.jobs import run_pending  # noqa: PLC0415

    # Given
    document = _upload(owner, actor, samples.pdf_document(), "first.pdf")

    # When
    document_remove(owner=owner, document_id=document.id, actor=actor)

    # Then
    document.refresh_from_db()
    assert document.removed_at is not None
    assert AuditEntry.objects.filter(action="documents.document.removed", subject_id=str(document.id)).count() == 1
    with pytest.raises(errors.DocumentNotFoundError):
        document_remove(owner=owner, document_id=document.id, actor=actor)
    assert run_pending() == 1
    assert stored_files(media_root) == []
    # and the slot is free again
    assert _upload(owner, actor, samples.pdf_document(), "again.pdf").removed_at is None


def test_a_failed_transaction_deletes_the_object_it_wrote(
    owner: str, actor: Actor, media_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an audit write that fails after the object was written
    def broken_audit(**kwargs: object) -> None:
        msg = "audit store down"
        raise RuntimeError(msg)

    monkeypatch.setattr("govserve.documents.services.audit_record", broken_audit)

    # When
    with pytest.raises(RuntimeError, match="audit store down"):
        _upload(owner, actor, samples.pdf_document(), "a.pdf")

    # Then
    assert Document.objects.count() == 0
    assert stored_files(media_root) == []


def test_the_stored_object_cannot_be_passed_off_as_another_document(owner: str, actor: Actor, media_root: Path) -> None:
    from govserve.privacy.errors import DecryptionError  # noqa: PLC0415

    # Given two documents of the same owner (same data key)
    first = _upload(owner, actor, samples.pdf_document(), "a.pdf", slot="a")
    second = _upload(owner, actor, samples.image_bytes("PNG"), "b.png", slot="b")
    second_sealed = (media_root / second.storage_name).read_bytes()

    # When the first's object is overwritten with the second's sealed bytes
    (media_root / first.storage_name).write_bytes(second_sealed)

    # Then the hash recorded in the row catches it
    with pytest.raises(errors.StoredObjectMismatchError):
        document_plaintext(first)
    # and even with the hash forged too, the sealed bytes are bound to their own document
    Document.objects.filter(id=first.id).update(sealed_sha256=second.sealed_sha256)
    first.refresh_from_db()
    with pytest.raises(DecryptionError):
        document_plaintext(first)

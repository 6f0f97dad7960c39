"""``govserve documents``: the scanner check, and the orphaned-object sweep; the owner's file list."""

from __future__ import annotations

import datetime as dt
import io
import os
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from govserve.accounts.models import Citizen
from govserve.audit.actors import Actor
from govserve.audit.models import AuditEntry
from govserve.documents.selectors import DocumentSummary, documents_for_owner
from govserve.documents.services import document_upload
from govserve.documents.tests import samples
from govserve.documents.tests.conftest import ClamdDaemon, stored_files, upload

pytestmark = pytest.mark.django_db


def _run(*arguments: str) -> str:
    output = io.StringIO()
    call_command("documents", *arguments, stdout=output)
    return output.getvalue()


def test_the_scanner_check_proves_the_real_clamd_detects_eicar(clamd_tcp: ClamdDaemon) -> None:
    assert _run("scanner") == (
        f"Scanner: ClamAV clamd at clamd://127.0.0.1:{clamd_tcp.port}\n"
        "EICAR test string detected as 'Eicar-Test-Signature.UNOFFICIAL': the scanner answers.\n"
    )


def test_the_scanner_check_labels_the_test_scanner() -> None:
    assert _run("scanner") == (
        "Scanner: test scanner, not malware protection\n"
        "EICAR test string detected as 'Eicar-Test-Signature': the scanner answers.\n"
        "This is the test scanner, not malware protection.\n"
    )


def test_the_scanner_check_fails_when_the_scanner_is_unreachable(unreachable_scanner: str) -> None:
    with pytest.raises(CommandError, match=r"The scanner gave no verdict: clamd at .* is not reachable"):
        _run("scanner")


def test_orphans_are_listed_then_deleted_and_documents_are_left_alone(
    owner: str, media_root: Path, settings: Any
) -> None:
    # Given a stored document, an old orphan and an orphan still in flight
    document = document_upload(
        owner=owner,
        slot="evidence",
        uploaded_file=upload(samples.pdf_document(), "a.pdf"),
        allowed_types=["pdf"],
        max_size_bytes=1024 * 1024,
        actor=Actor.system("test"),
    )
    old = media_root / "documents" / "ab" / ("ab" + "0" * 30)
    fresh = media_root / "documents" / "cd" / ("cd" + "1" * 30)
    for path in (old, fresh):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"sealed leftovers")
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    os.utime(media_root / document.storage_name, (two_hours_ago, two_hours_ago))

    # When / Then: listed
    assert _run("orphans") == f"documents/ab/{old.name}\n1 orphaned object(s); --delete removes them.\n"
    # deleted, audited
    assert _run("orphans", "--delete").endswith("Deleted 1 orphaned object(s).\n")
    assert stored_files(media_root) == sorted([media_root / document.storage_name, fresh])
    assert AuditEntry.objects.get(action="documents.storage.orphans_deleted").details == {"deleted": 1}
    with pytest.raises(CommandError, match="at least 1"):
        _run("orphans", "--older-than-minutes", "0")


def test_the_owner_list_shows_names_to_the_uploader_only(citizen: Citizen, owner: str) -> None:
    # Given
    document = document_upload(
        owner=owner,
        slot="evidence",
        uploaded_file=upload(samples.image_bytes("PNG"), "C:\\fakepath\\My photo.png"),
        allowed_types=["png"],
        max_size_bytes=1024 * 1024,
        actor=Actor.for_citizen(citizen.id),
        citizen=citizen,
    )

    # When / Then
    assert documents_for_owner(viewer=citizen, owner=owner) == [
        DocumentSummary(
            id=document.id,
            slot="evidence",
            filename="My photo.png",
            kind="png",
            content_type="image/png",
            size_bytes=document.size_bytes,
            scan_state="clean",
            uploaded_at=document.uploaded_at,
        )
    ]
    assert documents_for_owner(viewer=None, owner=owner) == []
    assert documents_for_owner(viewer=citizen, owner=f"application:{uuid.uuid4()}") == []
    assert dt.timedelta(0) <= dt.datetime.now(tz=dt.UTC) - document.uploaded_at < dt.timedelta(minutes=1)

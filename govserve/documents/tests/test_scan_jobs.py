"""Scanning later: pending uploads, the scan job against a real clamd, retries, failure, and blocked submission."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from govserve.audit.actors import Actor
from govserve.audit.models import AuditEntry
from govserve.core import clock
from govserve.core.jobs import run_pending
from govserve.core.models import JobRecord, JobState
from govserve.documents.jobs import SCAN_MAX_ATTEMPTS
from govserve.documents.models import Document, ScanState
from govserve.documents.policies import OwnerAccess
from govserve.documents.selectors import (
    SubmissionBlock,
    documents_blocking_submission,
    documents_for_owner,
    submission_blocks,
)
from govserve.documents.services import document_remove, document_scan_run, document_upload
from govserve.documents.tests import samples
from govserve.documents.tests.conftest import ClamdDaemon, stored_files, upload

pytestmark = pytest.mark.django_db

PENDING_MESSAGE = "The selected file is still being checked for viruses – try again in a few minutes"  # noqa: RUF001
INFECTED_MESSAGE = "The selected file contains a virus – remove it and upload a different file"  # noqa: RUF001
FAILED_MESSAGE = "The selected file could not be checked for viruses – remove it and upload it again"  # noqa: RUF001


class MovableClock:
    def __init__(self) -> None:
        self.current = dt.datetime.now(tz=dt.UTC)

    def now(self) -> dt.datetime:
        return self.current


@pytest.fixture
def moving_clock(monkeypatch: pytest.MonkeyPatch) -> MovableClock:
    moving = MovableClock()
    monkeypatch.setattr(clock, "now", moving.now)
    return moving


def _store(owner: str, data: bytes, name: str, slot: str, allowed: tuple[str, ...] = ("pdf", "txt")) -> Document:
    return document_upload(
        owner=owner,
        slot=slot,
        uploaded_file=upload(data, name),
        allowed_types=list(allowed),
        max_size_bytes=5 * 1024 * 1024,
        actor=Actor.system("test"),
    )


def test_an_unreachable_scanner_stores_the_upload_pending_with_a_scan_job(
    owner: str, unreachable_scanner: str, media_root: Path
) -> None:
    # When
    document = _store(owner, samples.pdf_document(), "a.pdf", "evidence")

    # Then
    assert (document.scan_state, document.scanner, document.scanned_at) == (ScanState.PENDING, "", None)
    assert stored_files(media_root) == [media_root / document.storage_name]
    job = JobRecord.objects.get()
    assert (job.name, job.idempotency_key, job.kwargs) == (
        "documents.document.scan",
        f"documents.scan:{document.id}",
        {"document_id": str(document.id)},
    )
    assert documents_blocking_submission(owner) == [
        SubmissionBlock(
            document_id=document.id,
            slot="evidence",
            scan_state="pending",
            code="document_scan_pending",
            message=PENDING_MESSAGE,
        )
    ]
    assert submission_blocks(documents_for_owner(viewer=OwnerAccess(owner=owner), owner=owner)) == (
        documents_blocking_submission(owner)
    )


def test_the_scan_job_gets_its_verdict_from_the_real_clamd_once_it_answers(
    owner: str, unreachable_scanner: str, clamd_daemon: ClamdDaemon, settings: Any, media_root: Path
) -> None:
    # Given a clean PDF and an EICAR text stored pending while clamd was down
    clean = _store(owner, samples.pdf_document(), "a.pdf", "evidence")
    infected = _store(owner, samples.EICAR_FILE, "notes.txt", "notes")

    # When clamd is back and the worker runs
    settings.GOVSERVE_SCANNER = clamd_daemon.tcp_url
    assert run_pending() == 3  # two scans, then the purge of the infected bytes

    # Then
    clean.refresh_from_db()
    infected.refresh_from_db()
    assert (clean.scan_state, clean.scanner, clean.scan_signature) == (ScanState.CLEAN, "clamd", "")
    assert (infected.scan_state, infected.scanner, infected.scan_signature) == (
        ScanState.INFECTED,
        "clamd",
        "Eicar-Test-Signature.UNOFFICIAL",
    )
    assert clean.scanned_at is not None
    assert infected.purged_at is not None
    assert stored_files(media_root) == [media_root / clean.storage_name]
    assert documents_blocking_submission(owner) == [
        SubmissionBlock(
            document_id=infected.id,
            slot="notes",
            scan_state="infected",
            code="document_infected",
            message=INFECTED_MESSAGE,
        )
    ]
    # and the owner's document list (clean and infected) gives the same blocks without another read
    listed = documents_for_owner(viewer=OwnerAccess(owner=owner), owner=owner)
    assert [summary.id for summary in listed] == [clean.id, infected.id]
    assert submission_blocks(listed) == documents_blocking_submission(owner)
    verdicts = {
        entry.subject_id: (entry.outcome, entry.details)
        for entry in AuditEntry.objects.filter(action="documents.document.scanned")
    }
    assert verdicts == {
        str(clean.id): ("success", {"scan_state": "clean", "scanner": "clamd"}),
        str(infected.id): (
            "success",
            {"scan_state": "infected", "scanner": "clamd", "signature": "Eicar-Test-Signature.UNOFFICIAL"},
        ),
    }
    # and removing the infected file unblocks submission
    document_remove(owner=owner, document_id=infected.id, actor=Actor.system("test"))
    assert documents_blocking_submission(owner) == []


def test_a_scanner_down_for_every_attempt_leaves_the_document_failed(
    owner: str, unreachable_scanner: str, moving_clock: MovableClock
) -> None:
    # Given
    document = _store(owner, samples.pdf_document(), "a.pdf", "evidence")

    # When the worker retries with backoff until the attempts run out
    attempts = 0
    while attempts < SCAN_MAX_ATTEMPTS + 2:
        attempts += run_pending()
        document.refresh_from_db()
        if document.scan_state != ScanState.PENDING:
            break
        assert JobRecord.objects.get().state == JobState.RETRYING
        moving_clock.current += dt.timedelta(hours=1)

    # Then: the last attempt records the failure instead of raising
    assert attempts == SCAN_MAX_ATTEMPTS
    assert (document.scan_state, document.scanner) == (ScanState.FAILED, "clamd")
    assert JobRecord.objects.get().state == JobState.SUCCEEDED
    entry = AuditEntry.objects.get(action="documents.document.scanned")
    assert (entry.outcome, entry.details) == (
        "failure",
        {"scan_state": "failed", "scanner": "clamd", "reason": "scanner_unavailable"},
    )
    assert [block.code for block in documents_blocking_submission(owner)] == ["document_scan_failed"]
    assert documents_blocking_submission(owner)[0].message == FAILED_MESSAGE


def test_a_scanner_answer_without_a_verdict_fails_the_document_at_once(
    owner: str, unreachable_scanner: str, clamd_daemon: ClamdDaemon, settings: Any
) -> None:
    # Given a pending document, and a clamd whose stream limit is below the file (the fixture's is 30M)
    document = _store(owner, samples.pdf_document(), "a.pdf", "evidence")
    settings.GOVSERVE_SCANNER = clamd_daemon.tcp_url

    def over_the_limit(self: object, chunks: object, *, timeout: float) -> None:
        from govserve.documents.errors import ScannerError  # noqa: PLC0415

        msg = "clamd at clamd://127.0.0.1 gave no verdict: 'INSTREAM size limit exceeded. ERROR'"
        raise ScannerError(msg)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("govserve.documents.scanning.clamd.ClamdScanner.scan", over_the_limit)
        # When
        state = document_scan_run(document_id=document.id, last_attempt=False)

    # Then
    assert state == ScanState.FAILED
    document.refresh_from_db()
    assert document.scan_state == ScanState.FAILED
    assert AuditEntry.objects.get(action="documents.document.scanned").details["reason"] == "no_verdict"


def test_a_document_removed_while_pending_is_not_scanned(owner: str, unreachable_scanner: str, settings: Any) -> None:
    document = _store(owner, samples.pdf_document(), "a.pdf", "evidence")
    document_remove(owner=owner, document_id=document.id, actor=Actor.system("test"))
    settings.GOVSERVE_SCANNER = "test"
    assert run_pending() == 2  # the scan (nothing to do) and the purge
    document.refresh_from_db()
    assert (document.scan_state, document.purged_at is not None) == (ScanState.PENDING, True)
    assert not AuditEntry.objects.filter(action="documents.document.scanned").exists()


def test_blocking_reasons_list_every_unclean_current_document_by_slot(owner: str, unreachable_scanner: str) -> None:
    # Given documents in every state, in several slots
    pending = _store(owner, samples.pdf_document(), "a.pdf", "c_pending")
    failed = _store(owner, samples.pdf_document(), "b.pdf", "b_failed")
    document_scan_run(document_id=failed.id, last_attempt=True)
    other_owner = "application:00000000-0000-0000-0000-000000000001"
    _store(other_owner, samples.pdf_document(), "c.pdf", "a_elsewhere")

    # When / Then
    blocks = documents_blocking_submission(owner)
    assert [(block.slot, block.code) for block in blocks] == [
        ("b_failed", "document_scan_failed"),
        ("c_pending", "document_scan_pending"),
    ]
    assert blocks[1].document_id == pending.id
    assert documents_blocking_submission("application:00000000-0000-0000-0000-000000000002") == []

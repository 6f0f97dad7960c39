"""Issuing, rendering and revoking results (the services), on the example services."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import pypdf
import pytest

from govserve.audit.models import AuditEntry
from govserve.casework.results import errors, services
from govserve.casework.results.models import IssuedResult, PdfState, ResultSequence
from govserve.casework.results.selectors import result_verify
from govserve.casework.results.tests.support import OFFICER, approved_newborn, approved_trading, trading_application
from govserve.core.jobs import run_pending
from govserve.core.models import JobRecord
from govserve.journeys.models import ApplicationStatus

pytestmark = pytest.mark.usefixtures("examples")


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages)


def test_final_approval_issues_the_licence_with_a_number_a_code_and_a_render_job() -> None:
    # given an approved street trading licence application
    application = approved_trading()

    # when its results are issued
    issued = services.results_issue(application, actor=OFFICER)

    # then one licence is issued, numbered in its service's sequence, valid for a year, being prepared
    assert len(issued) == 1
    row = issued[0]
    assert (row.registration_id, row.result_id, row.institution_code) == (
        "street-trading-licence",
        "licence",
        "city-council",
    )
    assert row.number == f"STL-L-{row.issued_on.year}-000001"
    assert (
        row.valid_until
        == dt.date(row.issued_on.year + 1, row.issued_on.month, row.issued_on.day) - dt.timedelta(days=1)
        or row.issued_on.month == 2
    )
    assert row.pdf_state == PdfState.PREPARING
    assert re.fullmatch(r"[a-z2-7]{156}", row.code)  # 97 bytes with the 13-character development key id
    assert row.key_id == "dev-results-1"
    # and it is audited and its PDF job is queued in the same transaction
    entry = AuditEntry.objects.get(action="casework.result.issued")
    assert entry.details["number"] == row.number
    assert entry.actor_id == "test-officer"
    assert JobRecord.objects.filter(name=services.RENDER_JOB, kwargs={"result_id": str(row.id)}).count() == 1
    # and the code verifies as genuine at once
    verification = result_verify(row.code)
    assert verification.genuine
    assert verification.number == row.number
    assert verification.status == "valid"


def test_issuing_again_is_idempotent() -> None:
    application = approved_trading()
    first = services.results_issue(application, actor=OFFICER)

    again = services.results_issue(application, actor=OFFICER)

    assert [row.id for row in again] == [row.id for row in first]
    assert IssuedResult.objects.count() == 1
    assert AuditEntry.objects.filter(action="casework.result.issued").count() == 1
    assert JobRecord.objects.filter(name=services.RENDER_JOB).count() == 1
    assert ResultSequence.objects.get().last_value == 1


def test_numbers_follow_each_other_per_service_and_result() -> None:
    first = services.results_issue(approved_trading(), actor=OFFICER)[0]
    second = services.results_issue(approved_trading(full_name="Grace Hopper"), actor=OFFICER)[0]

    assert first.number.endswith("-000001")
    assert second.number.endswith("-000002")
    assert first.number[:-7] == second.number[:-7]


def test_a_file_not_approved_gets_no_result() -> None:
    application = trading_application()
    assert application.status != ApplicationStatus.APPROVED

    with pytest.raises(services.ApplicationNotApprovedError):
        services.results_issue(application, actor=OFFICER)

    assert IssuedResult.objects.count() == 0
    assert JobRecord.objects.filter(name=services.RENDER_JOB).count() == 0


def test_the_newborn_registration_issues_one_result_per_registration_held() -> None:
    application = approved_newborn()

    issued = services.results_issue(application, actor=OFFICER)

    assert [(row.registration_id, row.result_id) for row in issued] == [
        ("birth-registration", "birth-certificate"),
        ("post-partum-care", "post-partum-care-plan"),
        ("infant-care", "infant-care-enrolment"),
    ]
    assert [row.valid_until for row in issued] == [None, None, None]
    assert len({row.number for row in issued}) == 3


def test_the_render_job_stores_a_tagged_pdf_with_the_number_holder_and_verify_address(settings: Any) -> None:
    application = approved_trading()
    row = services.results_issue(application, actor=OFFICER)[0]

    assert run_pending(raise_errors=True) >= 1

    row.refresh_from_db()
    assert row.pdf_state == PdfState.READY
    content = services.result_pdf_bytes(row)
    assert content.startswith(b"%PDF-")
    text = _pdf_text(content)
    assert row.number in text
    assert "Ada Lovelace" in text
    assert "Westmoor City Council" in text
    assert "https://services.example.gov.uk/verify/" in text.replace("\n", "")
    reader = pypdf.PdfReader(io.BytesIO(content))
    catalog: Any = reader.trailer["/Root"]
    assert "/StructTreeRoot" in catalog  # tagged (PDF/UA)
    assert bool(catalog["/MarkInfo"]["/Marked"])
    assert AuditEntry.objects.filter(action="casework.result.rendered", subject_id=str(row.id)).count() == 1
    # and rendering again does nothing
    assert services.result_render(result_id=row.id) is False


def test_the_pdf_is_stored_sealed_and_tampering_is_detected(media_root: Any) -> None:
    row = services.results_issue(approved_trading(), actor=OFFICER)[0]
    run_pending(raise_errors=True)
    row.refresh_from_db()

    stored = (media_root / row.pdf_storage_name).read_bytes()
    assert b"%PDF" not in stored
    assert row.number.encode() not in stored
    (media_root / row.pdf_storage_name).write_bytes(stored[:-1] + bytes([stored[-1] ^ 1]))
    with pytest.raises(ValueError, match="not the one recorded"):
        services.result_pdf_bytes(row)


def test_a_result_being_prepared_cannot_be_read_yet() -> None:
    row = services.results_issue(approved_trading(), actor=OFFICER)[0]

    with pytest.raises(errors.ResultNotReadyError):
        services.result_pdf_bytes(row)


def test_revoking_records_when_and_why_and_verify_shows_it() -> None:
    row = services.results_issue(approved_trading(), actor=OFFICER)[0]

    revoked = services.result_revoke(row, reason="Pitch licence surrendered", actor=OFFICER)

    assert revoked.revoked_at is not None
    assert revoked.revoked_by == "system:test-officer"
    assert b"surrendered" not in bytes(revoked.revocation_reason_sealed or b"")
    entry = AuditEntry.objects.get(action="casework.result.revoked")
    assert "surrendered" not in str(entry.details)
    verification = result_verify(row.code)
    assert verification.genuine
    assert verification.status == "revoked"
    assert verification.revoked_on is not None


@pytest.mark.parametrize("reason", ["", "   ", "x" * 1001])
def test_a_revocation_needs_a_reason_of_sensible_length(reason: str) -> None:
    row = services.results_issue(approved_trading(), actor=OFFICER)[0]

    with pytest.raises(errors.RevocationReasonError):
        services.result_revoke(row, reason=reason, actor=OFFICER)

    row.refresh_from_db()
    assert row.revoked_at is None
    assert not AuditEntry.objects.filter(action="casework.result.revoked").exists()


def test_revoking_twice_is_refused_and_keeps_the_first_revocation() -> None:
    row = services.results_issue(approved_trading(), actor=OFFICER)[0]
    first = services.result_revoke(row, reason="First", actor=OFFICER)

    with pytest.raises(errors.ResultAlreadyRevokedError):
        services.result_revoke(row, reason="Second", actor=OFFICER)

    row.refresh_from_db()
    assert row.revoked_at == first.revoked_at
    assert AuditEntry.objects.filter(action="casework.result.revoked").count() == 1


def test_the_ready_hook_runs_once_when_the_pdf_is_stored_and_a_failing_hook_rolls_the_render_back(
    media_root: Any,
) -> None:
    from govserve.casework.results import hooks  # noqa: PLC0415

    row = services.results_issue(approved_trading(), actor=OFFICER)[0]
    seen: list[tuple[str, str, str]] = []

    def broken(ready: hooks.ResultReady) -> None:
        raise RuntimeError("notifications are down")

    def record(ready: hooks.ResultReady) -> None:
        seen.append((ready.number, ready.result_name("cy"), ready.download_path))

    hooks.result_ready_hook_register(broken)
    try:
        with pytest.raises(RuntimeError, match="notifications are down"):
            services.result_render(result_id=row.id)
    finally:
        hooks.hook_unregister(broken)
    row.refresh_from_db()
    assert row.pdf_state == PdfState.PREPARING
    assert not AuditEntry.objects.filter(action="casework.result.rendered").exists()
    assert [path for path in media_root.rglob("*") if path.is_file() and "results" in path.parts] == []

    hooks.result_ready_hook_register(record)
    try:
        assert services.result_render(result_id=row.id) is True
        assert services.result_render(result_id=row.id) is False
    finally:
        hooks.hook_unregister(record)
    assert seen == [(row.number, "Trwydded masnachu ar y stryd", f"/results/{row.id}/download")]

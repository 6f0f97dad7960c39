"""Results issued by casework's own final approval (the hook), with the processing fields on the certificate."""

from __future__ import annotations

import datetime as dt
import io

import pypdf
import pytest

from govserve.audit.models import AuditEntry
from govserve.casework import services as casework
from govserve.casework.results.models import IssuedResult
from govserve.casework.results.selectors import result_verify
from govserve.casework.results.services import result_pdf_bytes
from govserve.casework.tests.support import newborn_submitted, open_task, staff
from govserve.core import clock
from govserve.core.jobs import run_pending
from govserve.journeys.models import Application, ApplicationStatus

pytestmark = pytest.mark.usefixtures("examples")

REGISTRAR = ("civil-registry", "registrar")
HEALTH_VISITOR = ("health-agency", "health-visitor")


def _approve_newborn() -> tuple[Application, dt.date]:
    application, _ = newborn_submitted()
    registrar = staff(REGISTRAR)
    visitor = staff(HEALTH_VISITOR)
    first = open_task(application)
    casework.decision_record(
        user=registrar, task_id=first.id, decision="approve", data={"register_entry_number": ["B-2026-000123"]}
    )
    visit = clock.now().date() + dt.timedelta(days=2)
    second = open_task(application)
    casework.decision_record(
        user=visitor,
        task_id=second.id,
        decision="approve",
        data={
            "first_visit_date-day": [str(visit.day)],
            "first_visit_date-month": [str(visit.month)],
            "first_visit_date-year": [str(visit.year)],
        },
    )
    application.refresh_from_db()
    return application, visit


def test_the_final_approval_issues_every_result_with_processing_values_on_the_certificates() -> None:
    # given a newborn registration approved by the registrar, then the health visitor
    application, visit = _approve_newborn()

    # then the approval issued the three results in its transaction, audited as the health visitor's act
    assert application.status == ApplicationStatus.APPROVED
    rows = list(IssuedResult.objects.filter(application=application).order_by("issued_at", "number"))
    assert [row.result_id for row in rows] == ["birth-certificate", "post-partum-care-plan", "infant-care-enrolment"]
    entries = AuditEntry.objects.filter(action="casework.result.issued")
    assert entries.count() == 3
    assert {entry.actor_kind for entry in entries} == {"user"}
    assert all(result_verify(row.code).genuine for row in rows)
    # and once the worker renders them, the birth certificate carries the register entry and the holder
    run_pending(raise_errors=True)
    birth = IssuedResult.objects.get(application=application, result_id="birth-certificate")
    text = pypdf.PdfReader(io.BytesIO(result_pdf_bytes(birth))).pages[0].extract_text()
    assert "B-2026-000123" in text
    assert "Augusta Ada Byron" in text
    assert birth.number in text
    care = IssuedResult.objects.get(application=application, result_id="infant-care-enrolment")
    care_text = pypdf.PdfReader(io.BytesIO(result_pdf_bytes(care))).pages[0].extract_text()
    assert str(visit.year) in care_text
    assert "First home visit" in care_text


def test_staff_who_may_see_the_file_list_download_and_revoke_its_results_others_get_not_found() -> None:
    from django.test import Client  # noqa: PLC0415

    from govserve.accounts.models import Institution  # noqa: PLC0415
    from govserve.casework.models import CaseFile  # noqa: PLC0415
    from govserve.casework.results import errors  # noqa: PLC0415
    from govserve.casework.results.selectors import result_download, results_for_file  # noqa: PLC0415
    from govserve.casework.results.services import result_revoke_by_staff  # noqa: PLC0415

    application, _ = _approve_newborn()
    run_pending(raise_errors=True)
    case_file = CaseFile.objects.get(application=application)
    registrar = staff(REGISTRAR)
    Institution.objects.get_or_create(code="elsewhere", defaults={"name": "Elsewhere Council"})
    outsider = staff(("elsewhere", "registrar"))

    rows = results_for_file(user=registrar, file_id=case_file.id)

    assert [row.status for row in rows] == ["valid", "valid", "valid"]
    assert all(row.pdf_ready and row.download_url for row in rows)
    downloaded = result_download(result_id=rows[0].id, user=registrar)
    assert downloaded.content.startswith(b"%PDF-")
    assert AuditEntry.objects.filter(action="casework.result.downloaded", actor_id=str(registrar.pk)).count() == 1
    with pytest.raises(errors.ResultNotFoundError):
        results_for_file(user=outsider, file_id=case_file.id)
    with pytest.raises(errors.ResultNotFoundError):
        result_download(result_id=rows[0].id, user=outsider)
    with pytest.raises(errors.ResultNotFoundError):
        result_revoke_by_staff(user=outsider, result_id=rows[0].id, reason="Wrong")
    assert IssuedResult.objects.get(pk=rows[0].id).revoked_at is None

    revoked = result_revoke_by_staff(user=registrar, result_id=rows[0].id, reason="Registered in error")

    assert revoked.revoked_by == f"user:{registrar.pk}"
    assert result_verify(revoked.code).status == "revoked"
    # and an anonymous visitor cannot download it
    assert Client().get(f"/results/{rows[0].id}/download").status_code == 404


def test_the_birth_certificate_does_not_show_the_holder_on_the_public_page() -> None:
    # the newborn example names the holder (for the certificate) but does not opt in to showing it
    application, _ = _approve_newborn()
    birth = IssuedResult.objects.get(application=application, result_id="birth-certificate")

    verification = result_verify(birth.code)

    assert verification.genuine
    assert verification.holder_name is None
    assert "holder_name" not in verification.as_json()


@pytest.mark.parametrize(("inspected", "issued"), [("yes", ["licence"]), ("no", [])])
def test_a_result_whose_when_reads_a_processing_field_is_issued_only_where_it_holds(
    inspected: str, issued: list[str]
) -> None:
    from govserve.casework.tests.support import trading_paid  # noqa: PLC0415
    from govserve.journeys.tests.support import STREET_TRADING, example_text, publish_text  # noqa: PLC0415

    # given version 2 of the street trading licence, whose licence is issued only for an inspected pitch
    text = example_text(STREET_TRADING).replace(
        "        valid_for: P1Y\n", "        valid_for: P1Y\n        when: pitch_inspected\n", 1
    )
    assert "when: pitch_inspected" in text
    publish_text(text, f"{STREET_TRADING}.yaml")
    application, _ = trading_paid()
    assert application.version_number == 2
    officer = staff(("city-council", "licensing-officer"))
    manager = staff(("city-council", "licensing-manager"))

    # when the officer records the inspection and both approve
    casework.decision_record(
        user=officer, task_id=open_task(application).id, decision="approve", data={"pitch_inspected": [inspected]}
    )
    casework.decision_record(user=manager, task_id=open_task(application).id, decision="approve")

    # then the licence is issued only where the processing field makes its `when` true
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED
    assert list(IssuedResult.objects.filter(application=application).values_list("result_id", flat=True)) == issued

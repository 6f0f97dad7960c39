"""Results through the API: the issued licences of the citizen's application, and their PDFs."""

from __future__ import annotations

from typing import Any

import pytest

from govserve.accounts.citizens import citizen_create
from govserve.api.services import api_applicant_token_issue
from govserve.api.tests.conftest import Caller, MakeCaller, body
from govserve.audit.models import AuditEntry
from govserve.casework.results import services as result_services
from govserve.casework.results.models import IssuedResult
from govserve.casework.results.tests.support import OFFICER, approved_trading
from govserve.core.jobs import run_pending
from govserve.journeys.access import Applicant
from govserve.journeys.models import Application
from govserve.journeys.tests.support import examples_publish


@pytest.fixture
def licensed(db: None, settings: Any) -> tuple[Caller, Application, IssuedResult]:
    """A citizen's approved street trading application with its licence issued, and the citizen's API caller."""
    settings.PUBLIC_BASE_URL = "https://services.example.gov.uk"
    examples_publish()
    citizen = citizen_create(email="licensee@example.org")
    application = approved_trading(who=Applicant(citizen=citizen))
    row = result_services.results_issue(application, actor=OFFICER)[0]
    issued = api_applicant_token_issue(citizen=citizen)
    return Caller(token=issued.text, client=issued.token.client), application, row


def test_the_results_are_listed_and_the_pdf_downloaded_once_ready(
    licensed: tuple[Caller, Application, IssuedResult],
) -> None:
    caller, application, row = licensed
    results = f"/api/v1/applications/{application.id}/results"
    pdf = f"{results}/{row.id}/pdf"
    # while the PDF is prepared: listed without a download, and the download says so
    preparing = body(caller.call("GET", results))["items"]
    assert [(item["number"], item["status"], item["pdf_ready"], item["download_url"]) for item in preparing] == [
        (row.number, "valid", False, None)
    ]
    not_ready = caller.call("GET", pdf)
    assert (not_ready.status_code, body(not_ready)["code"]) == (409, "result_not_ready")
    # once rendered: the web's list, with this API's download
    run_pending(raise_errors=True)
    listed = body(caller.call("GET", results))
    item = listed["items"][0]
    assert item["name"] == "Street trading licence"
    assert item["issued_on"] == row.issued_on.isoformat()
    assert item["verify_url"] == f"https://services.example.gov.uk/verify/{row.code}"
    assert item["download_url"] == pdf
    downloaded = caller.call("GET", pdf)
    assert downloaded.status_code == 200
    assert downloaded["Content-Type"] == "application/pdf"
    assert downloaded.content.startswith(b"%PDF")
    assert downloaded["Govserve-Result-Status"] == "valid"
    assert downloaded["Content-Disposition"] == f'attachment; filename="{row.number}.pdf"'
    # audited as the web's download, with the citizen the token acts as (the call itself with the client)
    entry = AuditEntry.objects.get(action="casework.result.downloaded")
    assert (entry.actor_kind, entry.actor_id) == ("citizen", str(application.citizen_id))
    assert entry.details["number"] == row.number


def test_a_revoked_result_says_so(licensed: tuple[Caller, Application, IssuedResult]) -> None:
    caller, application, row = licensed
    run_pending(raise_errors=True)
    result_services.result_revoke(row, reason="Pitch withdrawn", actor=OFFICER)
    item = body(caller.call("GET", f"/api/v1/applications/{application.id}/results"))["items"][0]
    assert item["status"] == "revoked"
    assert item["revoked_at"] is not None
    downloaded = caller.call("GET", f"/api/v1/applications/{application.id}/results/{row.id}/pdf")
    assert downloaded["Govserve-Result-Status"] == "revoked"


def test_another_clients_application_and_another_applications_result_are_not_found(
    licensed: tuple[Caller, Application, IssuedResult], make_caller: MakeCaller
) -> None:
    caller, application, row = licensed
    run_pending(raise_errors=True)
    stranger = make_caller()
    for path in (
        f"/api/v1/applications/{application.id}/results",
        f"/api/v1/applications/{application.id}/results/{row.id}/pdf",
    ):
        response = stranger.call("GET", path)
        assert (response.status_code, body(response)["code"]) == (404, "application_not_found")
    # the citizen's other application does not reach this result
    other = approved_trading(who=Applicant(citizen=application.citizen))
    assert body(caller.call("GET", f"/api/v1/applications/{other.id}/results"))["items"] == []
    crossed = caller.call("GET", f"/api/v1/applications/{other.id}/results/{row.id}/pdf")
    assert (crossed.status_code, body(crossed)["code"]) == (404, "result_not_found")
    assert crossed["Content-Type"] == "application/problem+json"
    assert not AuditEntry.objects.filter(action="casework.result.downloaded").exists()


def test_a_malformed_result_id_is_a_request_problem(licensed: tuple[Caller, Application, IssuedResult]) -> None:
    caller, application, _ = licensed
    response = caller.call("GET", f"/api/v1/applications/{application.id}/results/not-a-uuid/pdf")
    assert (response.status_code, body(response)["code"]) == (422, "request_invalid")

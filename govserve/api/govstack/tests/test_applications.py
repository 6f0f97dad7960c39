"""GovStack application files: GET /applications (filters, paging, sorting) and GET /applications/{fileId}."""

from __future__ import annotations

import uuid

import pytest

from govserve.api.govstack.selectors import service_uuid
from govserve.api.govstack.tests.conftest import IDENTITY, GovStackCaller, assert_conforms, body, govstack_client
from govserve.api.models import ApiClient
from govserve.api.services import client_application_record
from govserve.casework import services as casework
from govserve.casework.tests.support import light_submitted, open_task, staff
from govserve.core.jobs import run_pending
from govserve.journeys import services as journeys
from govserve.journeys.access import Applicant
from govserve.journeys.models import Application

API = "registration-bb-api.json"
ENGINEER = ("city-council", "street-lighting-engineer")


def _made_by(client: ApiClient) -> Application:
    application, _ = light_submitted()
    client_application_record(client=client, application_id=application.id)
    return application


@pytest.fixture
def report(street_light: str, registered: ApiClient) -> Application:
    """A street light report the registered client sent."""
    return _made_by(registered)


def test_the_clients_files_are_listed_in_the_specifications_shape(report: Application, caller: GovStackCaller) -> None:
    response = caller.get("/applications")
    assert response.status_code == 200
    files = body(response)
    assert_conforms(API, "/applications", files)
    assert len(files) == 1
    item = files[0]
    assert item["fileId"] == str(report.id)
    assert item["status"] == {"code": "PENDING", "title": "Pending"}
    assert item["serviceId"] == service_uuid("report-street-light")
    assert item["serviceName"] == "Report a problem with a street light"
    assert item["applicantId"] == report.reference  # an anonymous applicant
    assert item["eformId"] == str(report.service_version_id)
    assert item["registered"].endswith("Z")


def test_other_clients_files_and_drafts_are_not_listed(street_light: str, caller: GovStackCaller) -> None:
    other = govstack_client("eGovStack/GOV/2/other")
    _made_by(other)
    draft = journeys.application_start(
        service_id=street_light, applicant=Applicant(), language="en", contact_email="ann@example.org"
    ).application
    client_application_record(client=ApiClient.objects.get(govstack_identity=IDENTITY), application_id=draft.id)
    response = caller.get("/applications")
    assert response.status_code == 200
    assert body(response) == []
    assert caller.get(f"/applications/{draft.id}").status_code == 404


def test_filters_that_match_nothing_give_an_empty_list(report: Application, caller: GovStackCaller) -> None:
    def ids(query: str) -> list[str]:
        response = caller.get(f"/applications?{query}")
        assert response.status_code == 200
        return [item["fileId"] for item in body(response)]

    mine = [str(report.id)]
    assert ids(f"serviceId={service_uuid('report-street-light')}") == mine
    assert ids("serviceId=report-street-light") == mine
    assert ids("serviceId=f7d33db0-2809-484e-a780-76b7ccd4ecbf") == []
    assert ids("serviceId=P2c9280957e579ad7017e58a3399f0068") == []
    assert ids(f"applicantId={report.reference.lower()}") == mine
    assert ids(f"applicantId={uuid.uuid4()}") == []
    assert ids("firstResult=1") == []
    assert ids("maxResult=1&firstResult=0&sortBy=created&sortOrder=asc") == mine


def test_pages_and_order(street_light: str, registered: ApiClient, caller: GovStackCaller) -> None:
    made = [_made_by(registered) for _ in range(3)]
    newest_first = [str(application.id) for application in reversed(made)]
    assert [item["fileId"] for item in body(caller.get("/applications"))] == newest_first
    oldest = body(caller.get("/applications?sortBy=created&sortOrder=asc&maxResult=2"))
    assert [item["fileId"] for item in oldest] == newest_first[::-1][:2]
    assert [item["fileId"] for item in body(caller.get("/applications?firstResult=2"))] == newest_first[2:]


@pytest.mark.parametrize(
    "query", ["sortOrder=up", "sortBy=priority", "maxResult=0", "maxResult=101", "firstResult=-1", "firstResult=x"]
)
def test_invalid_list_parameters_are_400(report: Application, caller: GovStackCaller, query: str) -> None:
    response = caller.get(f"/applications?{query}")
    assert response.status_code == 400
    assert body(response)["code"] == "request_invalid"


@pytest.mark.parametrize("by", ["id", "reference", "lower-case reference"])
def test_a_file_is_read_by_id_or_reference_with_its_answers(
    report: Application, caller: GovStackCaller, by: str
) -> None:
    file_id = {"id": str(report.id), "reference": report.reference, "lower-case reference": report.reference.lower()}
    response = caller.get(f"/applications/{file_id[by]}")
    assert response.status_code == 200
    found = body(response)
    assert_conforms(API, "/applications/{fileId}", found)
    assert found["fileId"] == str(report.id)
    assert (found["status"]["code"], found["ended"]) == ("PENDING", False)
    data = found["applicationData"]
    assert data["applicantId"] == report.reference
    assert data["formData"]["eFormId"] == str(report.service_version_id)
    answers = data["formData"]["data"]
    assert answers["location"]["street"] == "Babbage Street"
    assert answers["problem"] == {"problem": "damaged", "exposed_wires": True}
    assert "photo" not in answers  # no answer on that page


@pytest.mark.parametrize(
    "file_id",
    [
        "81c4445c-bff6-11ed-afa1-0242ac120002",  # the conformance data's file: not here
        "33c4445c-bff3-13ed-afa1-0332ac120033",  # not even a valid UUID version
        "NOPE1234",
        "x" * 300,
    ],
)
def test_an_unknown_file_is_404_never_a_format_error(report: Application, caller: GovStackCaller, file_id: str) -> None:
    response = caller.get(f"/applications/{file_id}")
    assert response.status_code == 404
    assert body(response)["code"] == "not_found"


def test_another_clients_file_is_404(street_light: str, caller: GovStackCaller) -> None:
    theirs = _made_by(govstack_client("eGovStack/GOV/2/other"))
    assert caller.get(f"/applications/{theirs.id}").status_code == 404
    assert caller.get(f"/applications/{theirs.reference}").status_code == 404


def test_a_decision_shows_in_the_govstack_status(report: Application, caller: GovStackCaller) -> None:
    run_pending(raise_errors=True)  # the bot role's rule decides first
    engineer = staff(ENGINEER)
    task = open_task(report)
    casework.decision_record(user=engineer, task_id=task.id, decision="reject", reason="Not a council light")
    found = body(caller.get(f"/applications/{report.id}"))
    assert (found["status"], found["ended"]) == ({"code": "REJECTED", "title": "Rejected"}, True)


@pytest.mark.parametrize("path", ["/applications", "/applications/5f0c6d5e-7d3a-4c1e-9b8a-2f4e6a1c3b7d"])
def test_the_identity_is_required_and_must_be_known(db: None, path: str) -> None:
    missing = GovStackCaller(None).get(path)
    assert (missing.status_code, body(missing)["code"]) == (400, "client_header_missing")
    unknown = GovStackCaller("eGovStack/GOV/1/stranger").get(path)
    assert (unknown.status_code, body(unknown)["code"]) == (403, "client_unknown")

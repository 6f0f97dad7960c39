"""GovStack writes: POST /services/{serviceId}/applications and PUT /applications/{fileId} (JSON and form bodies)."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

import pytest
from django.test import Client

from govserve.api.govstack.selectors import service_uuid
from govserve.api.govstack.tests.conftest import (
    IDENTITY,
    GovStackCaller,
    assert_conforms,
    body,
    govstack_client,
    schema_of,
    specification,
)
from govserve.api.models import ApiClient, ClientApplication
from govserve.api.services import client_application_record
from govserve.audit.models import AuditEntry
from govserve.casework import services as casework
from govserve.casework.tests.support import file_of, light_submitted, open_task, staff
from govserve.catalogue.models import ServiceVersion
from govserve.core.jobs import run_pending
from govserve.journeys import services as journeys
from govserve.journeys.access import Applicant
from govserve.journeys.models import Application, ApplicationStatus, Channel
from govserve.journeys.tests.support import example_text, examples_publish, publish_text

API = "registration-bb-api.json"
CREATE = "/services/{serviceId}/applications"
FILE = "/applications/{fileId}"
ANSWERS: dict[str, Any] = {
    "private-land": {"on_private_land": False},
    "problem": {"problem": "damaged", "exposed_wires": True},
    "location": {"lamp_post_number": "WM-04512", "street": "Babbage Street", "location_details": "Opposite 12"},
    "your-details": {
        "reporter_name": "Charles Babbage",
        "reporter_email": "charles.babbage@example.org",
        "contact_preference": "email",
    },
}
FORM: dict[str, str] = {
    "applicantId": "charles.babbage@example.org",
    "formData.data.private-land.on_private_land": "no",
    "formData[data][problem][problem]": "damaged",
    "formData[data][problem][exposed_wires]": "true",
    "data.location.street": "Babbage Street",
    "location.lamp_post_number": "WM-04512",
    "your-details.reporter_name": "Charles Babbage",
    "your-details.reporter_email": "charles.babbage@example.org",
    "contact_preference": "email",
}


def send(
    method: str,
    path: str,
    payload: Any = None,
    *,
    identity: str | None = IDENTITY,
    content_type: str = "application/json",
) -> Any:
    """Call the GovStack API with a JSON body (``payload`` a str is sent as it is) or a form body."""
    headers = {"Information-Mediator-Client": identity} if identity is not None else {}
    if content_type == "application/x-www-form-urlencoded":
        data: Any = urllib.parse.urlencode(payload, doseq=True)
    else:
        data = payload if isinstance(payload, str) else json.dumps(payload)
    return Client().generic(method, f"/govstack{path}", data, content_type=content_type, headers=headers)


def conforms(path: str, method: str, found: Any) -> None:
    """Assert ``found`` is the operation's 200 body (its schema, formats checked; no member it does not name)."""
    content = specification(API)["paths"][path][method]["responses"]["200"]["content"]
    schema = content["*/*"]["schema"]
    errors = [error.message for error in schema_of(API, schema).iter_errors(found)]
    assert errors == [], errors
    described = specification(API)["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    assert set(found) <= set(described["properties"]) | set(described.get("required", []))
    if "applicationData" in found:
        submit = specification(API)["components"]["schemas"]["applicationFileSubmit"]["properties"]
        assert set(found["applicationData"]) <= set(submit)
        assert found["applicationData"]["formData"]["data"]  # answers given back


def submission(answers: dict[str, Any] | None = None, **members: Any) -> dict[str, Any]:
    return {"applicantId": "charles.babbage@example.org", "formData": {"data": answers or ANSWERS}, **members}


def test_a_file_is_created_filled_and_sent_through_the_journey(street_light: str, registered: ApiClient) -> None:
    response = send("POST", f"/services/{service_uuid(street_light)}/applications", submission())
    assert response.status_code == 200
    found = body(response)
    conforms(CREATE, "post", found)
    application = Application.objects.get(pk=found["fileId"])
    assert (application.status, application.channel) == (ApplicationStatus.SUBMITTED, Channel.API)
    assert ClientApplication.objects.filter(client=registered, application=application).exists()
    assert found["status"] == {"code": "PENDING", "title": "Pending"}
    assert found["applicantId"] == application.reference
    data = found["applicationData"]["formData"]
    assert data["eFormId"] == str(application.service_version_id)
    assert data["data"]["location"]["street"] == "Babbage Street"
    assert data["data"]["problem"] == {"problem": "damaged", "exposed_wires": True}
    assert found["applicationData"]["documentUrls"] == []
    # the journey's own audit entries, with the client as the actor; the call itself, with its identity
    by_client = AuditEntry.objects.filter(actor_kind="api_client", actor_id=str(registered.id))
    actions = set(by_client.values_list("action", flat=True))
    assert {"journeys.application.started", "journeys.application.answers_saved"} <= actions
    assert "journeys.application.submitted" in actions
    call = AuditEntry.objects.filter(action="govstack.call.handled").latest("id")
    assert call.details == {"method": "POST", "operation": "submitApplicationFile", "status": 200, "client": IDENTITY}
    assert (call.actor_kind, call.actor_id) == ("api_client", str(registered.id))
    # and it is one of the client's files
    listed = body(GovStackCaller(IDENTITY).get("/applications"))
    assert [item["fileId"] for item in listed] == [found["fileId"]]


def test_a_form_encoded_body_is_read_as_the_same_file(street_light: str, registered: ApiClient) -> None:
    response = send("POST", f"/services/{street_light}/applications", FORM, content_type=FORM_TYPE)
    assert response.status_code == 200, response.content
    found = body(response)
    conforms(CREATE, "post", found)
    data = found["applicationData"]["formData"]["data"]
    assert data["private-land"] == {"on_private_land": False}
    assert data["problem"] == {"problem": "damaged", "exposed_wires": True}
    assert data["location"]["lamp_post_number"] == "WM-04512"
    assert data["your-details"]["contact_preference"] == "email"


FORM_TYPE = "application/x-www-form-urlencoded"


def test_form_data_may_be_one_json_member_and_answers_by_field_id(street_light: str, registered: ApiClient) -> None:
    flat = {field_id: value for page in ANSWERS.values() for field_id, value in page.items()}
    form = {"applicantId": "x1", "formData": json.dumps({"data": flat})}
    response = send("POST", f"/services/{street_light}/applications", form, content_type=FORM_TYPE)
    assert response.status_code == 200, response.content
    assert body(response)["applicationData"]["formData"]["data"]["location"]["street"] == "Babbage Street"


@pytest.mark.parametrize(
    "service_id",
    ["f7d33db0-2809-484e-a780-76b7ccd4ecbf", "33c4445c-bff3-13ed-afa1-0332ac120033", "no-such-service", "x" * 300],
)
def test_an_unknown_service_is_404_and_nothing_is_made(
    street_light: str, registered: ApiClient, service_id: str
) -> None:
    response = send("POST", f"/services/{service_id}/applications", submission())
    assert response.status_code == 404
    assert body(response)["code"] == "not_found"
    assert Application.objects.count() == 0


def test_answers_the_journey_refuses_are_400_by_field_and_leave_no_application(
    street_light: str, registered: ApiClient
) -> None:
    answers = {**ANSWERS, "location": {"lamp_post_number": "WM-04512", "street": ""}}
    response = send("POST", f"/services/{street_light}/applications", submission(answers))
    assert response.status_code == 400
    problem = body(response)
    assert problem["code"] == "answers_invalid"
    assert problem["errors"] == [
        {
            "field": "street",
            "code": "required",
            "detail": problem["errors"][0]["detail"],
            "pointer": "/formData/data/location/street",
        }
    ]
    assert "street" in problem["errors"][0]["detail"].lower()
    assert Application.objects.count() == 0  # the draft the call started is deleted again


def test_a_wrong_type_is_400_naming_the_field(street_light: str, registered: ApiClient) -> None:
    answers = {**ANSWERS, "problem": {"problem": "damaged", "exposed_wires": "perhaps"}}
    response = send("POST", f"/services/{street_light}/applications", submission(answers))
    assert response.status_code == 400
    problem = body(response)
    assert (problem["code"], [entry["field"] for entry in problem["errors"]]) == ("answers_invalid", ["exposed_wires"])


def test_unknown_questions_are_400_before_anything_is_made(street_light: str, registered: ApiClient) -> None:
    answers = {**ANSWERS, "location": {"street": "Babbage Street", "colour": "red"}, "no-page": {"a": 1}}
    response = send("POST", f"/services/{street_light}/applications", submission(answers))
    assert response.status_code == 400
    problem = body(response)
    assert problem["code"] == "answers_unknown"
    assert {entry["pointer"] for entry in problem["errors"]} == {
        "/formData/data/location/colour",
        "/formData/data/no-page",
    }
    assert Application.objects.count() == 0


def test_an_incomplete_file_is_400_naming_the_page(street_light: str, registered: ApiClient) -> None:
    answers = {page: ANSWERS[page] for page in ("private-land", "problem")}
    response = send("POST", f"/services/{street_light}/applications", submission(answers))
    assert response.status_code == 400
    problem = body(response)
    assert problem["code"] == "submission_incomplete"
    assert problem["errors"][0]["field"] == "location"
    assert Application.objects.count() == 0


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ("{not json", "malformed_body"),
        ("[1, 2]", "malformed_body"),
        (json.dumps({"formData": {"data": ANSWERS}}), "malformed_body"),  # applicantId is required
        (json.dumps({"applicantId": 7}), "malformed_body"),
        (json.dumps({"applicantId": "a", "formData": []}), "malformed_body"),
        (json.dumps({"applicantId": "a", "formData": {"data": "x"}}), "malformed_body"),
        (json.dumps({"applicantId": "a", "documentUrls": [1]}), "malformed_body"),
    ],
)
def test_malformed_bodies_are_400(street_light: str, registered: ApiClient, payload: str, code: str) -> None:
    response = send("POST", f"/services/{street_light}/applications", payload)
    assert response.status_code == 400
    assert body(response)["code"] == code
    assert Application.objects.count() == 0


def test_the_e_form_must_be_the_current_one(street_light: str, registered: ApiClient) -> None:
    current = ServiceVersion.objects.get(service_id=street_light).id
    ok = send("POST", f"/services/{street_light}/applications", submission(eFormId=None) | _eform(str(current)))
    assert ok.status_code == 200, ok.content
    other = send("POST", f"/services/{street_light}/applications", _eform("d98a205a-679b-485b-823d-7a32a391e744"))
    assert other.status_code == 400
    assert body(other)["code"] == "eform_not_current"


def _eform(eform_id: str) -> dict[str, Any]:
    return {"applicantId": "a", "formData": {"eFormId": eform_id, "data": ANSWERS}}


@pytest.mark.parametrize(
    "method_path", [("POST", "/services/report-street-light/applications"), ("PUT", "/applications/x")]
)
def test_the_identity_is_required_and_must_be_known(street_light: str, method_path: tuple[str, str]) -> None:
    method, path = method_path
    missing = send(method, path, submission(), identity=None)
    assert (missing.status_code, body(missing)["code"]) == (400, "client_header_missing")
    malformed = send(method, path, submission(), identity="not-an-identity")
    assert (malformed.status_code, body(malformed)["code"]) == (400, "client_header_invalid")
    unknown = send(method, path, submission(), identity="eGovStack/GOV/1/stranger")
    assert (unknown.status_code, body(unknown)["code"]) == (403, "client_unknown")
    assert Application.objects.count() == 0


def test_other_methods_are_405_with_allow(street_light: str, registered: ApiClient) -> None:
    response = send("DELETE", "/applications/x")
    assert (response.status_code, response["Allow"]) == (405, "GET, PUT")
    response = send("GET", f"/services/{street_light}/applications")
    assert (response.status_code, response["Allow"]) == (405, "POST")


def _draft(client: ApiClient, answers: dict[str, Any] | None = None) -> Application:
    started = journeys.application_start(
        service_id="report-street-light", applicant=Applicant(), language="en", contact_email="ann@example.org"
    )
    client_application_record(client=client, application_id=started.application.id)
    return started.application


@pytest.mark.parametrize("by", ["id", "reference"])
def test_a_draft_is_updated_and_sent_by_put(street_light: str, registered: ApiClient, by: str) -> None:
    draft = _draft(registered)
    file_id = str(draft.id) if by == "id" else draft.reference.lower()
    response = send("PUT", f"/applications/{file_id}", submission())
    assert response.status_code == 200, response.content
    found = body(response)
    conforms(FILE, "put", found)
    assert (found["fileId"], found["status"]["code"]) == (str(draft.id), "PENDING")
    draft.refresh_from_db()
    assert draft.status == ApplicationStatus.SUBMITTED


def test_a_put_form_encoded_updates_a_draft(street_light: str, registered: ApiClient) -> None:
    draft = _draft(registered)
    response = send("PUT", f"/applications/{draft.id}", FORM, content_type=FORM_TYPE)
    assert response.status_code == 200, response.content
    assert body(response)["applicationData"]["formData"]["data"]["problem"]["exposed_wires"] is True


def test_a_put_with_errors_saves_nothing_of_the_page_and_keeps_the_draft(
    street_light: str, registered: ApiClient
) -> None:
    draft = _draft(registered)
    answers = {**ANSWERS, "problem": {"problem": "glowing"}}
    response = send("PUT", f"/applications/{draft.id}", submission(answers))
    assert response.status_code == 400
    problem = body(response)
    assert problem["code"] == "answers_invalid"
    assert problem["errors"][0]["pointer"] == "/formData/data/problem/problem"
    draft.refresh_from_db()
    assert draft.status == ApplicationStatus.DRAFT
    assert "problem" not in draft.pages_completed


def test_a_file_with_the_team_cannot_change(street_light: str, registered: ApiClient) -> None:
    sent, _ = light_submitted()
    client_application_record(client=registered, application_id=sent.id)
    response = send("PUT", f"/applications/{sent.id}", submission())
    assert response.status_code == 409
    assert body(response)["code"] == "application_not_editable"


@pytest.mark.parametrize(
    "file_id", ["81c4445c-bff6-11ed-afa1-0242ac120002", "33c4445c-bff3-13ed-afa1-0332ac120033", "NOPE1234", "x" * 300]
)
def test_put_on_an_unknown_file_is_404(street_light: str, registered: ApiClient, file_id: str) -> None:
    response = send("PUT", f"/applications/{file_id}", submission())
    assert response.status_code == 404
    assert body(response)["code"] == "not_found"


def test_put_on_another_clients_draft_is_404(street_light: str, registered: ApiClient) -> None:
    theirs = _draft(govstack_client("eGovStack/GOV/2/other"))
    response = send("PUT", f"/applications/{theirs.id}", submission())
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == ApplicationStatus.DRAFT


def test_the_list_names_each_files_process_and_open_task(street_light: str, registered: ApiClient) -> None:
    created = body(send("POST", f"/services/{street_light}/applications", submission()))
    application = Application.objects.get(pk=created["fileId"])
    run_pending(raise_errors=True)  # casework opens the file, the bot decides, the engineer's task opens
    task = open_task(application)
    listed = body(GovStackCaller(IDENTITY).get("/applications"))
    assert_conforms(API, "/applications", listed)
    item = listed[0]
    # mainTaskId is the file's process (its case file), the mainTaskId every task of the file carries
    assert item["mainTaskId"] == str(file_of(application).id) == str(task.case_file_id)
    assert (item["roleId"], item["roleName"]) == ("street-lighting-engineer", "Street lighting engineer")
    assert "assigneeId" not in item  # in the pool
    assert item["documentUrls"] == []
    engineer = staff(("city-council", "street-lighting-engineer"))
    casework.decision_record(user=engineer, task_id=task.id, decision="reject", reason="Not a council light")
    ended = body(GovStackCaller(IDENTITY).get("/applications"))[0]
    assert ended["mainTaskId"] == item["mainTaskId"]
    assert "roleId" not in ended  # no task open once decided
    assert ended["status"]["code"] == "REJECTED"


@pytest.fixture
def sent_back(street_light: str, registered: ApiClient) -> Application:
    """A street light report the client sent, which the engineer sent back asking for the street again."""
    text = example_text(street_light).replace(
        "        approve: end\n        reject: end\n",
        "        approve: end\n        reject: end\n        send_back: applicant\n",
    )
    publish_text(text, "report-street-light.yaml")
    created = body(send("POST", f"/services/{street_light}/applications", submission()))
    run_pending(raise_errors=True)  # the bot approves: the engineer's task opens
    application = Application.objects.get(pk=created["fileId"])
    engineer = staff(("city-council", "street-lighting-engineer"))
    casework.decision_record(
        user=engineer,
        task_id=open_task(application).id,
        decision="send_back",
        reason="Which street?",
        flagged_fields=["street"],
        message="Please check the street name",
    )
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SENT_BACK
    return application


def test_a_sent_back_file_changes_what_was_flagged_and_is_sent_again(
    sent_back: Application, registered: ApiClient
) -> None:
    listed = body(GovStackCaller(IDENTITY).get(f"/applications/{sent_back.id}"))
    assert listed["status"] == {"code": "SENDBACK", "title": "Sent back"}
    answers = {
        **ANSWERS,
        "location": {"street": "Lovelace Road", "lamp_post_number": "WM-99999"},  # the number was not flagged
    }
    response = send("PUT", f"/applications/{sent_back.id}", submission(answers))
    assert response.status_code == 200, response.content
    found = body(response)
    conforms(FILE, "put", found)
    assert found["status"]["code"] == "PENDING"
    location = found["applicationData"]["formData"]["data"]["location"]
    assert (location["street"], location["lamp_post_number"]) == ("Lovelace Road", "WM-04512")
    sent_back.refresh_from_db()
    assert sent_back.status == ApplicationStatus.IN_PROGRESS
    again = send("PUT", f"/applications/{sent_back.id}", submission(answers))
    assert (again.status_code, body(again)["code"]) == (409, "application_not_editable")


def test_a_sent_back_files_flagged_answer_is_validated(sent_back: Application, registered: ApiClient) -> None:
    answers = {**ANSWERS, "location": {"street": ""}}
    response = send("PUT", f"/applications/{sent_back.id}", submission(answers))
    assert response.status_code == 400
    problem = body(response)
    assert (problem["code"], problem["errors"][0]["pointer"]) == ("answers_invalid", "/formData/data/location/street")
    sent_back.refresh_from_db()
    assert sent_back.status == ApplicationStatus.SENT_BACK


def test_a_service_that_needs_sign_in_is_refused_with_403(db: None, registered: ApiClient) -> None:
    examples_publish("street-trading-licence")
    response = send("POST", "/services/street-trading-licence/applications", {"applicantId": "a@example.org"})
    assert (response.status_code, body(response)["code"]) == (403, "sign_in_required")
    assert Application.objects.count() == 0


def test_an_idempotency_key_makes_a_retried_create_answer_the_same_file(
    street_light: str, registered: ApiClient
) -> None:
    path = f"/services/{street_light}/applications"

    def create(payload: Any, key: str) -> Any:
        headers = {"Information-Mediator-Client": IDENTITY, "Idempotency-Key": key}
        return Client().post(f"/govstack{path}", json.dumps(payload), content_type="application/json", headers=headers)

    first = create(submission(), "retry-key-0001")
    again = create(submission(), "retry-key-0001")
    assert (first.status_code, again.status_code) == (200, 200)
    assert body(again)["fileId"] == body(first)["fileId"]
    assert Application.objects.count() == 1
    other = create(submission(contactEmail="ada@example.org"), "retry-key-0001")
    assert (other.status_code, body(other)["code"]) == (409, "idempotency_key_reused")
    bad = create(submission(), "short")
    assert (bad.status_code, body(bad)["code"]) == (400, "idempotency_key_invalid")
    assert Application.objects.count() == 1
    assert create(submission(), "retry-key-0002").status_code == 200  # a new key: a new file
    assert Application.objects.count() == 2

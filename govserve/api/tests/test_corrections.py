"""A sent-back application through the API: the flags read, flagged answers and documents changed, sent again."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from govserve.api.services import api_applicant_token_issue
from govserve.api.tests.conftest import Caller, MakeCaller, body
from govserve.audit.models import AuditEntry
from govserve.casework import services as casework
from govserve.casework.tests.support import newborn_submitted, open_task, staff
from govserve.documents.tests.samples import pdf_document
from govserve.journeys.models import Answer, Application, ApplicationStatus
from govserve.journeys.tests.support import examples_publish

REGISTRAR = ("civil-registry", "registrar")
MESSAGE = "Please check the baby's given names and send the notification again."


@pytest.fixture
def sent_back(db: None) -> tuple[Caller, Application]:
    """A newborn registration sent back (one answer, one document flagged), and its citizen's caller."""
    examples_publish()
    application, person = newborn_submitted()
    casework.decision_record(
        user=staff(REGISTRAR),
        task_id=open_task(application).id,
        decision="send_back",
        reason="Names differ from the notification",
        message=MESSAGE,
        flagged_fields=["baby_given_names"],
        flagged_documents=["birth-notification"],
    )
    assert person.citizen is not None
    issued = api_applicant_token_issue(citizen=person.citizen)
    return Caller(token=issued.text, client=issued.token.client), application


def _given_names(application: Application) -> Any:
    answer = Answer.objects.get(application=application, field_id="baby_given_names")
    return answer.updated_at


def _upload(caller: Caller, path: str) -> Any:
    return Client().post(
        path,
        {"file": SimpleUploadedFile("notification.pdf", pdf_document("Notification"), content_type="application/pdf")},
        HTTP_AUTHORIZATION=f"Bearer {caller.token}",
    )


def test_the_flags_are_read_corrected_and_the_application_sent_again(sent_back: tuple[Caller, Application]) -> None:
    caller, application = sent_back
    base = f"/api/v1/applications/{application.id}"
    # when the citizen's app reads what the team asked for
    read = caller.call("GET", f"{base}/corrections")
    assert read.status_code == 200, read.content
    flags = body(read)
    assert flags["message"] == MESSAGE
    assert flags["application"]["status"] == "sent_back"
    assert [(item["field"], item["page"], item["answer"]) for item in flags["fields"]] == [
        ("baby_given_names", "baby", "Augusta Ada")
    ]
    assert [(item["document"], item["delivery"]) for item in flags["documents"]] == [("birth-notification", "upload")]
    # and changes the flagged answer and document, as the web's changes pages do
    saved = caller.call("PATCH", f"{base}/corrections/answers", {"answers": {"baby_given_names": "Augusta Ada King"}})
    assert saved.status_code == 200, saved.content
    assert body(saved)["changed"] == ["baby_given_names"]
    assert body(saved)["corrections"]["fields"][0]["answer"] == "Augusta Ada King"
    assert AuditEntry.objects.filter(action="journeys.application.sent_back_answers_saved").count() == 1
    uploaded = _upload(caller, f"{base}/corrections/documents/birth-notification")
    assert uploaded.status_code == 200, uploaded.content
    assert body(uploaded)["documents"][0]["uploaded"] is True
    # then sends it again: the file returns to the registrar
    resent = caller.call("POST", f"{base}/resubmit", {"declaration": True})
    assert resent.status_code == 200, resent.content
    assert body(resent)["status"] == ApplicationStatus.IN_PROGRESS
    assert open_task(application).role_id == "registrar"
    assert AuditEntry.objects.filter(action="journeys.application.resubmitted").count() == 1
    # and nothing is left to correct: a second send and a read are refused the same way
    again = caller.call("POST", f"{base}/resubmit", {"declaration": True})
    assert (again.status_code, body(again)["code"]) == (409, "application_not_resubmittable")
    read_again = caller.call("GET", f"{base}/corrections")
    assert (read_again.status_code, body(read_again)["code"]) == (409, "application_not_resubmittable")


@pytest.mark.parametrize(
    "case",
    [
        ({"baby_family_name": "Changed"}, "field_not_flagged", "baby_family_name"),
        ({"baby_given_names": "Ada", "baby_sex": "male"}, "field_not_flagged", "baby_sex"),
        ({"favourite_colour": "red"}, "answers_unknown", "favourite_colour"),
        ({"baby_given_names": ""}, "answers_invalid", "baby_given_names"),
        ({"baby_given_names": ["not", "text"]}, "answers_invalid", "baby_given_names"),
    ],
    ids=["unflagged", "one-unflagged", "unknown", "required", "type"],
)
def test_a_bad_correction_is_refused_and_nothing_is_saved(
    sent_back: tuple[Caller, Application], case: tuple[dict[str, Any], str, str]
) -> None:
    caller, application = sent_back
    answers, code, field = case
    before = _given_names(application)
    response = caller.call("PATCH", f"/api/v1/applications/{application.id}/corrections/answers", {"answers": answers})
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    problem = body(response)
    assert problem["code"] == code
    assert field in [entry["field"] for entry in problem["errors"]]
    assert _given_names(application) == before
    assert Answer.objects.get(application=application, field_id="baby_family_name").updated_at is not None
    assert not AuditEntry.objects.filter(action="journeys.application.sent_back_answers_saved").exists()


def test_other_refusals(sent_back: tuple[Caller, Application]) -> None:
    caller, application = sent_back
    base = f"/api/v1/applications/{application.id}"
    unflagged = _upload(caller, f"{base}/corrections/documents/mother-identity-document")
    assert (unflagged.status_code, body(unflagged)["code"]) == (422, "document_not_flagged")
    undeclared = caller.call("POST", f"{base}/resubmit", {"declaration": False})
    assert (undeclared.status_code, body(undeclared)["code"]) == (422, "declaration_required")
    malformed = caller.call("POST", f"{base}/resubmit", {"declaration": "yes please"})
    assert (malformed.status_code, body(malformed)["code"]) == (422, "request_invalid")
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SENT_BACK


def test_an_application_not_sent_back_has_nothing_to_correct(db: None) -> None:
    examples_publish()
    application, person = newborn_submitted()
    assert person.citizen is not None
    caller = Caller(token=api_applicant_token_issue(citizen=person.citizen).text, client=None)
    for method, path, payload in [
        ("GET", "corrections", None),
        ("PATCH", "corrections/answers", {"answers": {"baby_given_names": "Ada"}}),
        ("POST", "resubmit", {"declaration": True}),
    ]:
        response = caller.call(method, f"/api/v1/applications/{application.id}/{path}", payload)
        assert (response.status_code, body(response)["code"]) == (409, "application_not_resubmittable"), path


def test_another_clients_application_is_not_found(
    sent_back: tuple[Caller, Application], make_caller: MakeCaller
) -> None:
    _, application = sent_back
    stranger = make_caller()
    for method, path, payload in [
        ("GET", "corrections", None),
        ("PATCH", "corrections/answers", {"answers": {"baby_given_names": "Ada"}}),
        ("POST", "resubmit", {"declaration": True}),
    ]:
        response = stranger.call(method, f"/api/v1/applications/{application.id}/{path}", payload)
        assert (response.status_code, body(response)["code"]) == (404, "application_not_found"), path
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SENT_BACK


OPERATIONS = [
    ("GET", "corrections", "applications:read"),
    ("PATCH", "corrections/answers", "applications:write"),
    ("POST", "corrections/documents/birth-notification", "applications:write"),
    ("POST", "resubmit", "applications:write"),
    ("GET", "pages/assistants/groups/assistants/items", "applications:read"),
    ("POST", "pages/assistants/groups/assistants/items", "applications:write"),
    ("PUT", "pages/assistants/groups/assistants/items/abc123", "applications:write"),
    ("DELETE", "pages/assistants/groups/assistants/items/abc123", "applications:write"),
    ("GET", "results", "applications:read"),
    ("GET", "results/00000000-0000-4000-8000-000000000000/pdf", "applications:read"),
]


@pytest.mark.parametrize("operation", OPERATIONS, ids=[f"{method}-{path}" for method, path, _ in OPERATIONS])
def test_each_operation_needs_its_scope(
    sent_back: tuple[Caller, Application], make_caller: MakeCaller, operation: tuple[str, str, str]
) -> None:
    _, application = sent_back
    method, path, scope = operation
    other = "applications:write" if scope == "applications:read" else "applications:read"
    payload: Any = {"declaration": True} if path == "resubmit" else {"answers": {}}
    if method in {"GET", "DELETE"}:
        payload = None
    response = make_caller(other, "services:read").call(
        method, f"/api/v1/applications/{application.id}/{path}", payload
    )
    assert (response.status_code, body(response)["code"]) == (403, "scope_missing")
    assert scope in body(response)["detail"]

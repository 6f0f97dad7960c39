"""The confirmation page's offers through the API: the satisfaction answer and the PDF copy of the answers."""

from __future__ import annotations

import io
from typing import Any

import pytest
from pypdf import PdfReader

from govserve.api.tests.conftest import Caller, MakeCaller, body
from govserve.api.tests.test_applications import ANSWERS, _answered, _start
from govserve.audit.models import AuditEntry
from govserve.journeys.models import Feedback, JourneyEvent
from govserve.privacy.crypto import unseal_text


def _sent(caller: Caller, service_id: str) -> str:
    application_id = _answered(caller, service_id)
    response = caller.call(
        "POST", f"/api/v1/applications/{application_id}/submit", {"declaration": True}, idempotency_key="sent-0001"
    )
    assert response.status_code == 200, response.content
    return application_id


def test_the_satisfaction_answer_of_a_sent_application_is_recorded_as_the_web_records_it(
    street_light: str, caller: Caller
) -> None:
    # given a sent application
    application_id = _sent(caller, street_light)
    # when the app sends the answer of the confirmation page
    response = caller.call(
        "POST",
        f"/api/v1/applications/{application_id}/satisfaction",
        {"rating": 4, "comment": "  Quick, but the map was hard to use  "},
    )
    # then it is recorded for the confirmation page, through the API, the comment sealed
    assert response.status_code == 201, response.content
    answered = body(response)
    feedback = Feedback.objects.get()
    assert answered["id"] == str(feedback.id)
    assert (answered["application_id"], answered["page"], answered["rating"], answered["comment"]) == (
        application_id,
        "confirmation",
        4,
        True,
    )
    assert (str(feedback.application_id), feedback.page_id, feedback.rating, feedback.channel) == (
        application_id,
        "confirmation",
        4,
        "api",
    )
    assert feedback.comment_sealed is not None
    assert b"map" not in bytes(feedback.comment_sealed)
    comment = unseal_text(owner=feedback.crypto_owner, field=feedback.comment_field, sealed=feedback.comment_sealed)
    assert comment == "Quick, but the map was hard to use"
    # and counted for the KPIs on the API channel, audited with the rating only
    event = JourneyEvent.objects.get(kind="feedback")
    assert (event.page_id, event.channel, event.details) == ("confirmation", "api", {"rating": 4, "comment": True})
    assert AuditEntry.objects.get(action="journeys.feedback.recorded").details == {
        "service": street_light,
        "rating": 4,
    }


def test_a_draft_stopped_on_an_exit_page_answers_for_that_page(street_light: str, caller: Caller) -> None:
    # given a draft whose answer leads to the exit page (the light is on private land)
    application_id = _start(caller, street_light)
    saved = caller.call(
        "PUT", f"/api/v1/applications/{application_id}/pages/private-land", {"answers": {"on_private_land": True}}
    )
    assert body(saved)["application"]["path"] == ["private-land", "not-council"]
    # when the answer is sent without a comment
    response = caller.call("POST", f"/api/v1/applications/{application_id}/satisfaction", {"rating": 1})
    # then it belongs to the exit page
    assert response.status_code == 201, response.content
    assert (body(response)["page"], body(response)["comment"]) == ("not-council", False)
    feedback = Feedback.objects.get()
    assert (feedback.page_id, feedback.rating, feedback.comment_sealed) == ("not-council", 1, None)


def test_a_draft_on_its_way_is_not_asked(street_light: str, caller: Caller) -> None:
    # given a draft with questions left (the web shows no satisfaction question there)
    application_id = _start(caller, street_light)
    # when an answer is sent
    response = caller.call("POST", f"/api/v1/applications/{application_id}/satisfaction", {"rating": 5})
    # then it is refused and nothing is recorded
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert body(response)["code"] == "feedback_not_open"
    assert not Feedback.objects.exists()
    assert not JourneyEvent.objects.filter(kind="feedback").exists()


@pytest.mark.parametrize(
    ("payload", "code", "detail"),
    [
        ({"rating": 0}, "feedback_invalid", "Select how satisfied you are with this service"),
        ({"rating": 6}, "feedback_invalid", "Select how satisfied you are with this service"),
        ({"rating": 3, "comment": "x" * 1201}, "feedback_invalid", "Your comments must be 1200 characters or fewer"),
        ({"rating": "very"}, "request_invalid", "The request does not match the operation's schema"),
        ({"comment": "no rating"}, "request_invalid", "The request does not match the operation's schema"),
        ({"rating": 3, "colour": "red"}, "request_invalid", "The request does not match the operation's schema"),
    ],
    ids=["zero", "six", "long-comment", "not-a-number", "missing", "unknown-member"],
)
def test_a_bad_satisfaction_answer_is_refused_and_nothing_recorded(
    street_light: str, caller: Caller, payload: dict[str, Any], code: str, detail: str
) -> None:
    application_id = _sent(caller, street_light)
    response = caller.call("POST", f"/api/v1/applications/{application_id}/satisfaction", payload)
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert (body(response)["code"], body(response)["detail"]) == (code, detail)
    assert not Feedback.objects.exists()


def test_satisfaction_and_the_copy_need_their_scope_and_the_clients_own_application(
    street_light: str, caller: Caller, make_caller: MakeCaller
) -> None:
    # given a sent application of one client
    application_id = _sent(caller, street_light)
    other = make_caller()
    reader = make_caller("applications:read")
    writer = make_caller("applications:write")
    satisfaction = f"/api/v1/applications/{application_id}/satisfaction"
    copy = f"/api/v1/applications/{application_id}/answers.pdf"
    # then another client gets the made-up id's answer for both
    for response in (other.call("POST", satisfaction, {"rating": 5}), other.call("GET", copy)):
        assert (response.status_code, body(response)["code"]) == (404, "application_not_found")
    # and each operation needs its scope
    refused = reader.call("POST", satisfaction, {"rating": 5})
    assert (refused.status_code, body(refused)["code"]) == (403, "scope_missing")
    refused = writer.call("GET", copy)
    assert (refused.status_code, body(refused)["code"]) == (403, "scope_missing")
    anonymous = Caller(token=None, client=None).call("GET", copy)
    assert (anonymous.status_code, body(anonymous)["code"]) == (401, "token_missing")
    assert not Feedback.objects.exists()


def _reader(response: Any) -> PdfReader:
    return PdfReader(io.BytesIO(response.content))


def test_the_pdf_copy_of_a_sent_application_is_the_webs(street_light: str, caller: Caller) -> None:
    # given a sent application
    application_id = _sent(caller, street_light)
    reference = body(caller.call("GET", f"/api/v1/applications/{application_id}"))["reference"]
    # when its copy is downloaded
    response = caller.call("GET", f"/api/v1/applications/{application_id}/answers.pdf")
    # then it is the PDF the confirmation page offers: titled, with the reference and the answers
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="application-{reference}.pdf"'
    assert response["Cache-Control"] == "no-store, private"
    reader = _reader(response)
    assert reader.metadata is not None
    assert reader.metadata.title == f"Report a problem with a street light \u2013 {reference}"
    text = "".join(page.extract_text() for page in reader.pages)
    assert reference in text
    assert "High Street" in text


def test_the_pdf_copy_speaks_the_applications_language(street_light: str, caller: Caller) -> None:
    # given an application made in Welsh and sent
    started = caller.call(
        "POST",
        "/api/v1/applications",
        {"service_id": street_light, "contact_email": "ann@example.com", "language": "cy"},
    )
    application_id = body(started)["id"]
    caller.call("PATCH", f"/api/v1/applications/{application_id}/answers", {"answers": ANSWERS})
    sent = caller.call(
        "POST", f"/api/v1/applications/{application_id}/submit", {"declaration": True}, idempotency_key="sent-0002"
    )
    assert sent.status_code == 200, sent.content
    # when its copy is downloaded
    reader = _reader(caller.call("GET", f"/api/v1/applications/{application_id}/answers.pdf"))
    # then it is in Welsh
    assert reader.metadata is not None
    assert reader.metadata.title is not None
    assert reader.metadata.title.startswith("Rhoi gwybod am broblem gyda golau stryd")
    assert "Cyfeirnod" in "".join(page.extract_text() for page in reader.pages)


def test_a_draft_has_no_pdf_copy_yet(street_light: str, caller: Caller) -> None:
    application_id = _start(caller, street_light)
    caller.call("PATCH", f"/api/v1/applications/{application_id}/answers", {"answers": ANSWERS})
    response = caller.call("GET", f"/api/v1/applications/{application_id}/answers.pdf")
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert body(response)["code"] == "application_not_sent"


def test_the_openapi_document_describes_both(db: None) -> None:
    from django.test import Client  # noqa: PLC0415

    paths = body(Client().get("/api/v1/openapi.json"))["paths"]
    copy = paths["/api/v1/applications/{application_id}/answers.pdf"]["get"]["responses"]
    assert copy["200"]["content"] == {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}
    assert set(copy) >= {"200", "401", "403", "404", "409"}
    answer = paths["/api/v1/applications/{application_id}/satisfaction"]["post"]["responses"]
    assert set(answer) >= {"201", "401", "403", "404", "409", "422"}
    assert "application/problem+json" in answer["409"]["content"]

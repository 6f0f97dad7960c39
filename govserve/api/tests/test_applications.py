"""Applications through the API: drafts, answers (page by page and all at once), fees and documents, submit."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from govserve.api.models import ClientApplication, SubmissionKey
from govserve.api.tests.conftest import Caller, MakeCaller, body
from govserve.audit.models import AuditEntry
from govserve.documents.models import Document
from govserve.journeys.models import Answer, Application, ApplicationEvent
from govserve.journeys.tests.support import STREET_LIGHT, STREET_TRADING, example_text, examples_publish, publish_text

ANSWERS: dict[str, Any] = {
    "on_private_land": False,
    "problem": "damaged",
    "exposed_wires": True,
    "street": "High Street",
    "postcode": "sw1a 1aa",
    "reporter_name": "Ann Example",
    "reporter_email": "ann@example.com",
    "contact_preference": "email",
}


def _start(caller: Caller, service_id: str) -> str:
    response = caller.call(
        "POST", "/api/v1/applications", {"service_id": service_id, "contact_email": "ann@example.com"}
    )
    assert response.status_code == 201, response.content
    return str(body(response)["id"])


def _answered(caller: Caller, service_id: str) -> str:
    application_id = _start(caller, service_id)
    response = caller.call("PATCH", f"/api/v1/applications/{application_id}/answers", {"answers": ANSWERS})
    assert response.status_code == 200, response.content
    return application_id


def test_a_draft_is_started_for_the_client(street_light: str, caller: Caller) -> None:
    # when a client starts an application
    response = caller.call(
        "POST", "/api/v1/applications", {"service_id": street_light, "contact_email": "ann@example.com"}
    )
    # then it is a draft on the latest version, made through the API, on its first page
    assert response.status_code == 201
    created = body(response)
    application = Application.objects.get()
    assert created["id"] == str(application.id)
    assert (created["status"], created["channel"], created["version"]) == ("draft", "api", 1)
    assert (created["path"], created["next_page"], created["complete"]) == (["private-land"], "private-land", False)
    assert created["reference"] == application.reference
    # and it belongs to the client, audited with the client as the actor
    assert caller.client is not None
    assert ClientApplication.objects.get().client_id == caller.client.id
    started = AuditEntry.objects.get(action="journeys.application.started")
    assert (started.actor_kind, started.actor_id) == ("api_client", str(caller.client.id))
    assert started.details["channel"] == "api"
    assert list(ApplicationEvent.objects.values_list("kind", "actor_kind")) == [("started", "api_client")]


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"service_id": "no-such-service", "contact_email": "ann@example.com"}, 404, "application_not_found"),
        ({"service_id": "report-street-light"}, 422, "contact_email_invalid"),
        ({"service_id": "report-street-light", "contact_email": "not an address"}, 422, "contact_email_invalid"),
        ({"service_id": 5, "contact_email": "ann@example.com"}, 422, "request_invalid"),
        ({"service_id": "report-street-light", "colour": "red"}, 422, "request_invalid"),
    ],
    ids=["unknown-service", "no-email", "bad-email", "wrong-type", "unknown-member"],
)
def test_a_bad_start_is_refused_and_nothing_is_created(
    street_light: str, caller: Caller, payload: dict[str, Any], status: int, code: str
) -> None:
    response = caller.call("POST", "/api/v1/applications", payload)
    assert response.status_code == status
    assert body(response)["code"] == code
    assert Application.objects.count() == 0
    assert ClientApplication.objects.count() == 0


def test_malformed_json_is_a_problem(street_light: str, caller: Caller) -> None:
    response = caller.call("POST", "/api/v1/applications", raw='{"service_id": ')
    assert response.status_code == 400
    assert body(response) == {
        "type": "urn:govserve:problem:malformed_json",
        "title": "Bad Request",
        "status": 400,
        "detail": "The request body is not valid JSON",
        "code": "malformed_json",
    }
    assert Application.objects.count() == 0


def test_a_field_of_the_wrong_type_points_at_it(street_light: str, caller: Caller) -> None:
    response = caller.call("POST", "/api/v1/applications", {"service_id": ["x"], "contact_email": "a@example.com"})
    assert response.status_code == 422
    assert body(response)["errors"] == [
        {
            "field": "service_id",
            "code": "string_type",
            "detail": "Input should be a valid string",
            "pointer": "/service_id",
        }
    ]


def test_a_service_that_needs_sign_in_is_refused(db: None, caller: Caller) -> None:
    examples_publish(STREET_TRADING)
    response = caller.call("POST", "/api/v1/applications", {"service_id": STREET_TRADING})
    assert response.status_code == 401
    assert body(response)["code"] == "sign_in_required"
    assert Application.objects.count() == 0


def test_a_page_is_saved_through_the_journey(street_light: str, caller: Caller) -> None:
    # given a draft
    application_id = _start(caller, street_light)
    # when the client answers the first page
    response = caller.call(
        "PUT", f"/api/v1/applications/{application_id}/pages/private-land", {"answers": {"on_private_land": False}}
    )
    # then it is saved and the path moves on to the next page
    assert response.status_code == 200
    saved = body(response)
    assert saved["saved_pages"] == ["private-land"]
    assert saved["changed"] == ["on_private_land"]
    assert saved["application"]["next_page"] == "problem"
    assert saved["application"]["pages_completed"] == ["private-land"]
    # and the journey's audit entry names the client
    entry = AuditEntry.objects.get(action="journeys.application.answers_saved")
    assert entry.actor_kind == "api_client"
    assert entry.details == {"page": "private-land", "fields": ["on_private_land"]}


def test_a_page_with_errors_saves_nothing_and_gives_the_webs_messages(street_light: str, caller: Caller) -> None:
    # given a draft on the location page
    application_id = _start(caller, street_light)
    caller.call(
        "PATCH",
        f"/api/v1/applications/{application_id}/answers",
        {"answers": {"on_private_land": False, "problem": "out"}},
    )
    before = Answer.objects.count()
    # when the client sends a location with a missing street and a bad lamp post number
    response = caller.call(
        "PUT",
        f"/api/v1/applications/{application_id}/pages/location",
        {"answers": {"lamp_post_number": "12", "postcode": "SW1A 1AA"}},
    )
    # then it is refused with one entry per field, the web's codes and messages
    assert response.status_code == 422
    problem = body(response)
    assert problem["code"] == "answers_invalid"
    assert problem["errors"] == [
        {
            "field": "lamp_post_number",
            "code": "pattern",
            "detail": "Enter the lamp post number as it is shown on the post, like WM-04512",
            "pointer": "/answers/lamp_post_number",
        },
        {"field": "street", "code": "required", "detail": "Enter street name", "pointer": "/answers/street"},
    ]
    # and nothing of the page was saved
    assert Answer.objects.count() == before
    assert "location" not in Application.objects.get().pages_completed


@pytest.mark.parametrize(
    "case",
    [
        ("private-land", {"on_private_land": "no"}, 422, "answers_invalid"),
        ("private-land", {"on_private_land": False, "colour": "red"}, 422, "answers_unknown"),
        ("no-such-page", {}, 404, "page_not_found"),
        ("location", {"street": "High Street"}, 404, "page_not_found"),
    ],
    ids=["wrong-type", "unknown-field", "unknown-page", "page-off-the-path"],
)
def test_bad_page_answers_are_refused(street_light: str, caller: Caller, case: tuple[str, Any, int, str]) -> None:
    page, answers, status, code = case
    application_id = _start(caller, street_light)
    response = caller.call("PUT", f"/api/v1/applications/{application_id}/pages/{page}", {"answers": answers})
    assert response.status_code == status
    assert body(response)["code"] == code
    assert Answer.objects.count() == 0


def test_answers_of_another_clients_application_are_not_found(street_light: str, make_caller: MakeCaller) -> None:
    # given one client's draft
    owner, other = make_caller(), make_caller()
    application_id = _start(owner, street_light)
    # when another client reads or writes it, it does not exist for them
    for method, path, payload in [
        ("GET", f"/api/v1/applications/{application_id}", None),
        ("GET", f"/api/v1/applications/{application_id}/history", None),
        ("PUT", f"/api/v1/applications/{application_id}/pages/private-land", {"answers": {"on_private_land": False}}),
        ("POST", f"/api/v1/applications/{application_id}/submit", {"declaration": True}),
    ]:
        response = other.call(method, path, payload, idempotency_key="key-00000001")
        assert response.status_code == 404, path
        assert body(response)["code"] == "application_not_found"
    # and nothing changed
    assert Answer.objects.count() == 0
    assert Application.objects.get().status == "draft"
    # and an id that exists nowhere is the same answer
    missing = owner.call("GET", "/api/v1/applications/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404
    assert body(missing)["code"] == "application_not_found"


def test_all_answers_at_once_are_saved_page_by_page(street_light: str, caller: Caller) -> None:
    # when the client sends every answer in one call
    application_id = _start(caller, street_light)
    response = caller.call(
        "PATCH", f"/api/v1/applications/{application_id}/answers", {"answers": {**ANSWERS, "lamp_post_number": None}}
    )
    # then every page on the path is saved (the optional photo page too) and nothing is left
    assert response.status_code == 200
    saved = body(response)
    assert saved["saved_pages"] == ["private-land", "problem", "location", "photo", "your-details"]
    assert saved["application"]["complete"] is True
    assert saved["application"]["next_page"] is None
    assert saved["ignored"] == []
    # and the postcode was normalised as the web does
    application_id_row = Application.objects.get()
    assert sorted(Answer.objects.filter(application=application_id_row).values_list("field_id", flat=True)) == sorted(
        [
            "on_private_land",
            "problem",
            "exposed_wires",
            "street",
            "postcode",
            "reporter_name",
            "reporter_email",
            "contact_preference",
        ]
    )


def test_all_at_once_stops_at_the_first_page_with_errors_keeping_the_pages_before(
    street_light: str, caller: Caller
) -> None:
    application_id = _start(caller, street_light)
    response = caller.call(
        "PATCH",
        f"/api/v1/applications/{application_id}/answers",
        {"answers": {**ANSWERS, "street": ""}},
    )
    assert response.status_code == 422
    assert body(response)["errors"] == [
        {"field": "street", "code": "required", "detail": "Enter street name", "pointer": "/answers/street"}
    ]
    assert Application.objects.get().pages_completed == ["private-land", "problem"]


def test_answers_for_pages_off_the_path_are_ignored(street_light: str, caller: Caller) -> None:
    application_id = _start(caller, street_light)
    response = caller.call(
        "PATCH",
        f"/api/v1/applications/{application_id}/answers",
        {"answers": {"on_private_land": False, "problem": "out", "exposed_wires": True, "street": "High Street"}},
    )
    assert response.status_code == 200
    saved = body(response)
    # exposed wires is asked only about a damaged light; location stops at the unanswered page after it
    assert saved["saved_pages"] == ["private-land", "problem", "location", "photo"]
    assert saved["ignored"] == ["exposed_wires"]
    assert saved["application"]["next_page"] == "your-details"


def test_requirements_show_fees_and_documents_once_answered(street_light: str, caller: Caller) -> None:
    application_id = _start(caller, street_light)
    before = body(caller.call("GET", f"/api/v1/applications/{application_id}/requirements"))
    assert before == {
        "complete": False,
        "currency": "GBP",
        "total_minor": 0,
        "due_before_submission_minor": 0,
        "fees": [],
        "documents": [],
    }
    caller.call("PATCH", f"/api/v1/applications/{application_id}/answers", {"answers": ANSWERS})
    after = body(caller.call("GET", f"/api/v1/applications/{application_id}/requirements"))
    assert after["complete"] is True


def test_submission_is_idempotent_on_its_key(street_light: str, caller: Caller) -> None:
    # given an answered draft
    application_id = _answered(caller, street_light)
    # when it is submitted twice with the same key and body
    first = caller.call(
        "POST", f"/api/v1/applications/{application_id}/submit", {"declaration": True}, idempotency_key="submit-0001"
    )
    second = caller.call(
        "POST", f"/api/v1/applications/{application_id}/submit", {"declaration": True}, idempotency_key="submit-0001"
    )
    # then both answer the same sent application, sent once
    assert (first.status_code, second.status_code) == (200, 200)
    assert body(first)["status"] == "submitted"
    assert body(first)["reference"] == body(second)["reference"]
    assert body(first)["submitted_at"] == body(second)["submitted_at"]
    assert ApplicationEvent.objects.filter(kind="submitted").count() == 1
    assert AuditEntry.objects.filter(action="journeys.application.submitted").count() == 1
    assert SubmissionKey.objects.count() == 1
    # when the same key comes with another body, it is refused and nothing changes
    reused = caller.call(
        "POST", f"/api/v1/applications/{application_id}/submit", {"declaration": False}, idempotency_key="submit-0001"
    )
    assert reused.status_code == 409
    assert body(reused)["code"] == "idempotency_key_reused"
    # when another key comes for the sent application, the journey refuses it
    other = caller.call(
        "POST", f"/api/v1/applications/{application_id}/submit", {"declaration": True}, idempotency_key="submit-0002"
    )
    assert other.status_code == 409
    assert body(other)["code"] == "application_already_submitted"
    # and the history shows one submission, by the client
    history = body(caller.call("GET", f"/api/v1/applications/{application_id}/history"))
    assert [(item["kind"], item["to_status"], item["actor_kind"]) for item in history["items"]] == [
        ("started", "draft", "api_client"),
        ("submitted", "submitted", "api_client"),
    ]
    assert ApplicationEvent.objects.filter(kind="submitted").count() == 1


def test_a_key_used_for_one_application_is_refused_for_another(street_light: str, caller: Caller) -> None:
    first_id = _answered(caller, street_light)
    second_id = _answered(caller, street_light)
    assert (
        caller.call(
            "POST", f"/api/v1/applications/{first_id}/submit", {"declaration": True}, idempotency_key="shared-key-1"
        ).status_code
        == 200
    )
    response = caller.call(
        "POST", f"/api/v1/applications/{second_id}/submit", {"declaration": True}, idempotency_key="shared-key-1"
    )
    assert response.status_code == 409
    assert body(response)["code"] == "idempotency_key_reused"
    assert Application.objects.get(id=second_id).status == "draft"


@pytest.mark.parametrize(
    "case",
    [
        (None, {"declaration": True}, 400, "idempotency_key_missing"),
        ("short", {"declaration": True}, 400, "idempotency_key_missing"),
        ("submit-0001", {"declaration": False}, 422, "declaration_required"),
        ("submit-0001", {"declaration": "yes please"}, 422, "request_invalid"),
    ],
    ids=["no-key", "short-key", "no-declaration", "wrong-type"],
)
def test_a_bad_submission_is_refused_and_nothing_is_sent(
    street_light: str, caller: Caller, case: tuple[str | None, dict[str, Any], int, str]
) -> None:
    key, payload, status, code = case
    application_id = _answered(caller, street_light)
    headers = {"idempotency_key": key} if key else {}
    response = caller.call("POST", f"/api/v1/applications/{application_id}/submit", payload, **headers)
    assert response.status_code == status
    assert body(response)["code"] == code
    assert Application.objects.get().status == "draft"
    assert SubmissionKey.objects.count() == 0


def test_an_unfinished_application_cannot_be_submitted(street_light: str, caller: Caller) -> None:
    application_id = _start(caller, street_light)
    response = caller.call(
        "POST", f"/api/v1/applications/{application_id}/submit", {"declaration": True}, idempotency_key="submit-0001"
    )
    assert response.status_code == 422
    problem = body(response)
    assert problem["code"] == "submission_incomplete"
    assert problem["errors"] == [
        {
            "field": "private-land",
            "code": "unanswered",
            "detail": "Answer all the questions before you send your application",
        }
    ]
    assert Application.objects.get().status == "draft"


def test_a_sent_application_cannot_be_changed(street_light: str, caller: Caller) -> None:
    application_id = _answered(caller, street_light)
    caller.call(
        "POST", f"/api/v1/applications/{application_id}/submit", {"declaration": True}, idempotency_key="submit-0001"
    )
    response = caller.call("PUT", f"/api/v1/applications/{application_id}/pages/location", {"answers": {"street": 5}})
    assert response.status_code == 409
    assert body(response)["code"] == "application_not_editable"


def test_the_clients_applications_are_listed_newest_first_a_page_at_a_time(
    street_light: str, make_caller: MakeCaller
) -> None:
    # given a client with three applications and another client with one
    caller, other = make_caller(), make_caller()
    ids = [_start(caller, street_light) for _ in range(3)]
    _start(other, street_light)
    # when it lists them two at a time
    first = body(caller.call("GET", "/api/v1/applications?limit=2"))
    second = body(caller.call("GET", f"/api/v1/applications?limit=2&cursor={first['next_cursor']}"))
    # then it sees its own, newest first, and nothing more
    assert [item["id"] for item in first["items"]] + [item["id"] for item in second["items"]] == ids[::-1]
    assert second["next_cursor"] is None
    bad = caller.call("GET", "/api/v1/applications?cursor=eyJhZnRlciI6MX0")
    assert bad.status_code == 400
    assert body(bad)["code"] == "cursor_invalid"


def test_an_application_read_answers_304_to_its_etag(street_light: str, caller: Caller) -> None:
    application_id = _start(caller, street_light)
    first = caller.call("GET", f"/api/v1/applications/{application_id}")
    assert first.status_code == 200
    assert caller.call("GET", f"/api/v1/applications/{application_id}", if_none_match=first["ETag"]).status_code == 304
    # once it changes, the tag no longer matches
    caller.call(
        "PUT", f"/api/v1/applications/{application_id}/pages/private-land", {"answers": {"on_private_land": False}}
    )
    changed = caller.call("GET", f"/api/v1/applications/{application_id}", if_none_match=first["ETag"])
    assert changed.status_code == 200
    assert changed["ETag"] != first["ETag"]


def test_write_operations_need_the_write_scope(street_light: str, make_caller: MakeCaller) -> None:
    reader = make_caller("applications:read", "services:read")
    response = reader.call(
        "POST", "/api/v1/applications", {"service_id": street_light, "contact_email": "a@example.com"}
    )
    assert response.status_code == 403
    assert body(response)["code"] == "scope_missing"
    assert Application.objects.count() == 0


def test_the_answers_that_count_are_read_back_in_json(street_light: str, caller: Caller) -> None:
    # given answers with one the path does not show (wires, for a light that does not come on)
    application_id = _start(caller, street_light)
    caller.call(
        "PATCH",
        f"/api/v1/applications/{application_id}/answers",
        {"answers": {**ANSWERS, "problem": "out", "exposed_wires": None}},
    )
    # when the client reads them back
    response = caller.call("GET", f"/api/v1/applications/{application_id}/answers")
    # then it gets the answers on the path in their JSON forms, normalised as the web stores them
    assert response.status_code == 200
    assert body(response) == {
        "application_id": application_id,
        "answers": {
            "on_private_land": False,
            "problem": "out",
            "street": "High Street",
            "postcode": "SW1A 1AA",
            "reporter_name": "Ann Example",
            "reporter_email": "ann@example.com",
            "contact_preference": "email",
        },
    }


def test_a_sent_application_is_withdrawn_once(street_light: str, caller: Caller) -> None:
    # given a sent application
    application_id = _answered(caller, street_light)
    caller.call(
        "POST", f"/api/v1/applications/{application_id}/submit", {"declaration": True}, idempotency_key="submit-0001"
    )
    # when the client withdraws it
    response = caller.call("POST", f"/api/v1/applications/{application_id}/withdraw")
    # then it is withdrawn, by the client
    assert response.status_code == 200
    assert body(response)["status"] == "withdrawn"
    entry = AuditEntry.objects.get(action="journeys.application.withdrawn")
    assert entry.actor_kind == "api_client"
    # and a second withdrawal is refused, changing nothing
    again = caller.call("POST", f"/api/v1/applications/{application_id}/withdraw")
    assert again.status_code == 409
    assert body(again)["code"] == "not_withdrawable"
    assert ApplicationEvent.objects.filter(kind="withdrawn").count() == 1


def test_a_draft_cannot_be_withdrawn(street_light: str, caller: Caller) -> None:
    application_id = _start(caller, street_light)
    response = caller.call("POST", f"/api/v1/applications/{application_id}/withdraw")
    assert response.status_code == 409
    assert body(response)["code"] == "not_withdrawable"
    assert Application.objects.get().status == "draft"


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 120, 40)).save(buffer, format="JPEG")
    return buffer.getvalue()


def _upload(caller: Caller, path: str, **parts: Any) -> Any:
    assert caller.token is not None
    return Client().post(path, data=parts, HTTP_AUTHORIZATION=f"Bearer {caller.token}")


def test_a_file_field_is_answered_with_a_multipart_upload(street_light: str, caller: Caller) -> None:
    # given a draft on the photo page
    application_id = _start(caller, street_light)
    caller.call(
        "PATCH",
        f"/api/v1/applications/{application_id}/answers",
        {"answers": {"on_private_land": False, "problem": "out", "street": "High Street"}},
    )
    # when the client uploads the photo
    photo = SimpleUploadedFile("light.jpg", _jpeg(), content_type="image/jpeg")
    response = _upload(caller, f"/api/v1/applications/{application_id}/pages/photo/upload", photo=photo)
    # then the page is saved with the file as its answer, through the journey and govserve.documents
    assert response.status_code == 200, response.content
    assert body(response)["changed"] == ["photo"]
    answers = body(caller.call("GET", f"/api/v1/applications/{application_id}/answers"))["answers"]
    assert answers["photo"]["name"] == "light.jpg"
    assert answers["photo"]["content_type"] == "image/jpeg"
    assert Document.objects.filter(owner=f"application:{application_id}").count() == 1


def test_a_refused_upload_saves_nothing(street_light: str, caller: Caller) -> None:
    application_id = _start(caller, street_light)
    caller.call(
        "PATCH",
        f"/api/v1/applications/{application_id}/answers",
        {"answers": {"on_private_land": False, "problem": "out", "street": "High Street"}},
    )
    # a text file where a photo (jpg, png) is asked for
    text = SimpleUploadedFile("light.jpg", b"not an image at all", content_type="image/jpeg")
    response = _upload(caller, f"/api/v1/applications/{application_id}/pages/photo/upload", photo=text)
    assert response.status_code == 422
    problem = body(response)
    assert problem["code"] == "answers_invalid"
    assert [error["field"] for error in problem["errors"]] == ["photo"]
    assert Document.objects.count() == 0
    # and a file part for a field the page does not have, or answers that are not JSON, are refused too
    other = SimpleUploadedFile("x.jpg", _jpeg(), content_type="image/jpeg")
    unknown = _upload(caller, f"/api/v1/applications/{application_id}/pages/photo/upload", selfie=other)
    assert (unknown.status_code, body(unknown)["code"]) == (422, "answers_unknown")
    malformed = _upload(caller, f"/api/v1/applications/{application_id}/pages/photo/upload", answers="{")
    assert (malformed.status_code, body(malformed)["code"]) == (400, "malformed_json")
    assert Document.objects.count() == 0


@pytest.fixture
def with_evidence(street_light: str) -> str:
    """Publish version 2 of the street light: a photo of the light as a required document, and a fee after decision."""
    text = example_text(STREET_LIGHT).replace(
        "    documents: []\n    fees: []\n",
        "    documents:\n"
        "      - id: light-photo\n"
        "        name: {en: A photo of the light, cy: Llun o'r golau}\n"
        "        types: [jpg, png]\n"
        "    fees:\n"
        "      - id: callout\n"
        "        name: {en: Call-out fee, cy: Ffi galw allan}\n"
        "        amount: 2500\n"
        "        paid: after_decision\n",
    )
    assert "light-photo" in text
    publish_text(text, f"{STREET_LIGHT}.yaml")
    return street_light


def test_a_required_document_is_uploaded_and_counted(with_evidence: str, caller: Caller) -> None:
    # given an answered application whose answers need a photo of the light
    application_id = _answered(caller, with_evidence)
    requirements = body(caller.call("GET", f"/api/v1/applications/{application_id}/requirements"))
    assert requirements["fees"] == [
        {"registration": "street-light-fault", "name": "Call-out fee", "amount_minor": 2500, "paid": "after_decision"}
    ]
    assert requirements["total_minor"] == 2500
    assert requirements["due_before_submission_minor"] == 0
    assert requirements["documents"] == [
        {
            "registration": "street-light-fault",
            "document": "light-photo",
            "name": "A photo of the light",
            "delivery": "upload",
            "slot": "document:light-photo",
            "uploaded": False,
        }
    ]
    # and it cannot be sent without it
    refused = caller.call(
        "POST", f"/api/v1/applications/{application_id}/submit", {"declaration": True}, idempotency_key="submit-0001"
    )
    assert body(refused)["errors"][0]["code"] == "document_missing"
    # when the client uploads it
    photo = SimpleUploadedFile("light.jpg", _jpeg(), content_type="image/jpeg")
    response = _upload(caller, f"/api/v1/applications/{application_id}/documents/light-photo", file=photo)
    # then it counts, and the application can be sent
    assert response.status_code == 200, response.content
    assert body(response)["documents"][0]["uploaded"] is True
    sent = caller.call(
        "POST", f"/api/v1/applications/{application_id}/submit", {"declaration": True}, idempotency_key="submit-0001"
    )
    assert sent.status_code == 200
    assert body(sent)["status"] == "submitted"


def test_a_document_upload_is_refused_when_not_needed_or_refused_by_documents(
    with_evidence: str, caller: Caller
) -> None:
    application_id = _answered(caller, with_evidence)
    photo = SimpleUploadedFile("light.jpg", _jpeg(), content_type="image/jpeg")
    unknown = _upload(caller, f"/api/v1/applications/{application_id}/documents/passport", file=photo)
    assert (unknown.status_code, body(unknown)["code"]) == (404, "page_not_found")
    missing = _upload(caller, f"/api/v1/applications/{application_id}/documents/light-photo")
    assert (missing.status_code, body(missing)["code"]) == (422, "document_file_missing")
    pdf = SimpleUploadedFile("light.pdf", b"%PDF-1.4 not really", content_type="application/pdf")
    wrong = _upload(caller, f"/api/v1/applications/{application_id}/documents/light-photo", file=pdf)
    assert wrong.status_code == 422
    assert Document.objects.count() == 0


def test_the_applicant_writes_to_the_team_once_the_application_is_sent(street_light: str, caller: Caller) -> None:
    # given a draft: there is no team to write to yet
    application_id = _answered(caller, street_light)
    early = caller.call("POST", f"/api/v1/applications/{application_id}/messages", {"body": "Is it fixed?"})
    assert (early.status_code, body(early)["code"]) == (404, "case_file_not_found")
    # when it is sent and the client writes
    caller.call(
        "POST", f"/api/v1/applications/{application_id}/submit", {"declaration": True}, idempotency_key="submit-0001"
    )
    response = caller.call(
        "POST", f"/api/v1/applications/{application_id}/messages", {"body": "The light is by the bus stop."}
    )
    # then the thread holds it, from the applicant, audited as the client
    assert response.status_code == 201, response.content
    items = body(response)["items"]
    assert [(item["from_applicant"], item["body"]) for item in items] == [(True, "The light is by the bus stop.")]
    assert body(caller.call("GET", f"/api/v1/applications/{application_id}/messages"))["items"] == items
    entry = AuditEntry.objects.get(action="casework.message.sent")
    assert entry.actor_kind == "api_client"
    # and an empty message is refused, adding nothing
    empty = caller.call("POST", f"/api/v1/applications/{application_id}/messages", {"body": "  "})
    assert (empty.status_code, body(empty)["code"]) == (422, "message_invalid")
    assert len(body(caller.call("GET", f"/api/v1/applications/{application_id}/messages"))["items"]) == 1


def test_writing_needs_the_messages_scope(street_light: str, make_caller: MakeCaller) -> None:
    writer = make_caller("applications:write", "applications:read")
    application_id = _start(writer, street_light)
    response = writer.call("POST", f"/api/v1/applications/{application_id}/messages", {"body": "Hello"})
    assert (response.status_code, body(response)["code"]) == (403, "scope_missing")

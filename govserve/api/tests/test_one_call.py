"""An application started, answered and sent in one call (POST /api/v1/applications with answers and submit)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from govserve.api.models import ClientApplication, SubmissionKey
from govserve.api.tests.conftest import Caller, MakeCaller, body
from govserve.api.tests.test_applications import ANSWERS
from govserve.audit.models import AuditEntry
from govserve.journeys.models import Answer, Application, ApplicationEvent, JourneyEvent
from govserve.journeys.tests.support import STREET_LIGHT, STREET_TRADING, example_text, examples_publish, publish_text
from govserve.notifications.email import FIELD_BODY
from govserve.notifications.models import OutboundEmail
from govserve.privacy.crypto import unseal_text

KEY = "one-call-0001"


def _sent(service: str, **extra: Any) -> dict[str, Any]:
    return {
        "service_id": service,
        "contact_email": "ann@example.com",
        "answers": ANSWERS,
        "submit": True,
        "declaration": True,
        **extra,
    }


def _email_text(email: OutboundEmail) -> str:
    return unseal_text(owner=email.owner, field=FIELD_BODY, sealed=bytes(email.body_sealed))


def test_one_call_starts_answers_and_sends_an_application(street_light: str, caller: Caller) -> None:
    # when a partner sends every answer and asks for the submission in one call
    response = caller.call("POST", "/api/v1/applications", _sent(street_light), idempotency_key=KEY)
    # then the application is sent, through the journey's own services, made by the client
    assert response.status_code == 201, response.content
    sent = body(response)
    application = Application.objects.get()
    assert (sent["id"], sent["status"], sent["channel"]) == (str(application.id), "submitted", "api")
    assert sent["complete"] is True
    assert sent["pages_completed"] == ["private-land", "problem", "location", "photo", "your-details"]
    assert application.status == "submitted"
    assert Answer.objects.filter(application=application).count() == 8
    assert ClientApplication.objects.get().application_id == application.id
    assert SubmissionKey.objects.get().application_id == application.id
    assert list(ApplicationEvent.objects.order_by("id").values_list("kind", flat=True)) == ["started", "submitted"]
    actions = list(AuditEntry.objects.order_by("id").values_list("action", flat=True))
    assert actions.count("journeys.application.answers_saved") == 1
    assert "journeys.application.submitted" in actions
    assert actions[-1] == "api.call.handled"
    assert "journeys.application.access_link_sent" not in actions
    # and the anonymous applicant gets one email, the confirmation, whose link opens the application
    email = OutboundEmail.objects.get()
    assert email.purpose == "submission_confirmation"
    text = _email_text(email)
    assert application.reference in text
    assert "/apply/resume/" in text
    link = next(word for word in text.split() if "/apply/resume/" in word)
    token = link.rsplit("/", 1)[-1].strip(").,")
    opened = Client().post(f"/apply/resume/{token}")
    assert opened.status_code == 302
    assert opened["Location"] == f"/applications/{application.id}/"


def test_the_same_key_and_body_again_return_the_same_application(street_light: str, caller: Caller) -> None:
    first = caller.call("POST", "/api/v1/applications", _sent(street_light), idempotency_key=KEY)
    second = caller.call("POST", "/api/v1/applications", _sent(street_light), idempotency_key=KEY)

    assert (first.status_code, second.status_code) == (201, 201)
    assert body(first)["id"] == body(second)["id"]
    assert body(first)["reference"] == body(second)["reference"]
    assert Application.objects.count() == 1
    assert OutboundEmail.objects.count() == 1
    # the key with another body is refused and creates nothing
    reused = caller.call("POST", "/api/v1/applications", _sent(street_light, language="cy"), idempotency_key=KEY)
    assert reused.status_code == 409
    assert body(reused)["code"] == "idempotency_key_reused"
    assert Application.objects.count() == 1


def test_a_key_of_the_three_call_submission_is_not_a_one_call_key(street_light: str, caller: Caller) -> None:
    started = body(
        caller.call("POST", "/api/v1/applications", {"service_id": street_light, "contact_email": "ann@example.com"})
    )
    caller.call("PATCH", f"/api/v1/applications/{started['id']}/answers", {"answers": ANSWERS})
    assert (
        caller.call(
            "POST", f"/api/v1/applications/{started['id']}/submit", {"declaration": True}, idempotency_key=KEY
        ).status_code
        == 200
    )

    response = caller.call("POST", "/api/v1/applications", _sent(street_light), idempotency_key=KEY)

    assert response.status_code == 409
    assert body(response)["code"] == "idempotency_key_reused"
    assert Application.objects.count() == 1


def test_another_clients_key_is_its_own(street_light: str, caller: Caller, make_caller: MakeCaller) -> None:
    other = make_caller(name="another-partner")
    first = caller.call("POST", "/api/v1/applications", _sent(street_light), idempotency_key=KEY)
    second = other.call("POST", "/api/v1/applications", _sent(street_light), idempotency_key=KEY)

    assert (first.status_code, second.status_code) == (201, 201)
    assert body(first)["id"] != body(second)["id"]


@pytest.mark.parametrize(
    ("change", "headers", "expected"),
    [
        ({}, {}, (400, "idempotency_key_missing")),
        ({}, {"idempotency_key": "short"}, (400, "idempotency_key_missing")),
        ({"declaration": False}, {"idempotency_key": KEY}, (422, "declaration_required")),
        ({"answers": {**ANSWERS, "street": ""}}, {"idempotency_key": KEY}, (422, "answers_invalid")),
        ({"answers": {**ANSWERS, "problem": 5}}, {"idempotency_key": KEY}, (422, "answers_invalid")),
        ({"answers": {**ANSWERS, "colour": "red"}}, {"idempotency_key": KEY}, (422, "answers_unknown")),
        ({"answers": {"on_private_land": False}}, {"idempotency_key": KEY}, (422, "submission_incomplete")),
        ({"contact_email": None}, {"idempotency_key": KEY}, (422, "contact_email_invalid")),
        ({"service_id": "no-such-service"}, {"idempotency_key": KEY}, (404, "application_not_found")),
        ({"submit": "yes please"}, {"idempotency_key": KEY}, (422, "request_invalid")),
    ],
    ids=[
        "no-key",
        "bad-key",
        "no-declaration",
        "invalid-answer",
        "wrong-type",
        "unknown-field",
        "unfinished",
        "no-email",
        "unknown-service",
        "bad-submit",
    ],
)
def test_a_bad_one_call_submission_creates_nothing(
    street_light: str, caller: Caller, change: dict[str, Any], headers: dict[str, str], expected: tuple[int, str]
) -> None:
    response = caller.call("POST", "/api/v1/applications", _sent(street_light, **change), **headers)

    assert (response.status_code, body(response)["code"]) == expected, response.content
    # all or nothing: no draft, no answers, no email, no key; the call itself is audited
    assert not Application.objects.exists()
    assert not Answer.objects.exists()
    assert not OutboundEmail.objects.exists()
    assert not SubmissionKey.objects.exists()
    assert not JourneyEvent.objects.exists()
    assert AuditEntry.objects.filter(action="api.call.handled").count() == 1
    assert not AuditEntry.objects.filter(action__startswith="journeys.").exists()


def test_answers_without_submit_leave_an_answered_draft(street_light: str, caller: Caller) -> None:
    response = caller.call(
        "POST",
        "/api/v1/applications",
        {"service_id": street_light, "contact_email": "ann@example.com", "answers": ANSWERS},
    )

    assert response.status_code == 201, response.content
    created = body(response)
    assert (created["status"], created["complete"], created["next_page"]) == ("draft", True, None)
    # a draft: the applicant is sent the link to continue it
    assert OutboundEmail.objects.get().purpose == "resume_application"
    assert not SubmissionKey.objects.exists()


def test_a_service_that_needs_sign_in_is_refused_in_one_call(db: None, caller: Caller) -> None:
    examples_publish(STREET_TRADING)
    response = caller.call("POST", "/api/v1/applications", _sent(STREET_TRADING, answers={}), idempotency_key=KEY)

    assert response.status_code == 401
    assert body(response)["code"] == "sign_in_required"
    assert not Application.objects.exists()


def test_a_confirmation_without_the_link_is_followed_by_the_link_on_its_own(street_light: str, caller: Caller) -> None:
    # given a version of the service whose confirmation email does not show ((link))
    text = example_text(STREET_LIGHT)
    publish_text(
        text.replace("\n          Follow your report, and read our messages about it, at ((link))\n", "").replace(
            "\n          Dilynwch eich adroddiad, a darllenwch ein negeseuon amdano, yn ((link))\n", ""
        ),
        f"{STREET_LIGHT}.yaml",
    )
    # when a partner sends an application on it in one call
    response = caller.call("POST", "/api/v1/applications", _sent(street_light), idempotency_key=KEY)
    # then the service's confirmation goes, and the platform's follow_application email with the link
    assert response.status_code == 201, response.content
    application = Application.objects.get()
    assert application.version_number == 2
    confirmation = OutboundEmail.objects.get(purpose="submission_confirmation")
    assert "/apply/resume/" not in _email_text(confirmation)
    follow = OutboundEmail.objects.get(purpose="follow_application")
    assert follow.template == "follow_application"
    text = _email_text(follow)
    assert application.reference in text
    assert "/apply/resume/" in text


def test_every_audit_entry_of_the_call_carries_its_request_id(street_light: str, caller: Caller) -> None:
    before = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
    response = caller.call(
        "POST", "/api/v1/applications", _sent(street_light), idempotency_key=KEY, x_request_id="req-one-call-0001"
    )

    assert response.status_code == 201
    assert response["X-Request-ID"] == "req-one-call-0001"
    written = AuditEntry.objects.filter(id__gt=before)
    assert written.count() >= 4
    assert set(written.values_list("request_id", flat=True)) == {"req-one-call-0001"}
    # and outside a request there is none
    from govserve.core.middleware import current_request_id  # noqa: PLC0415

    assert current_request_id() is None


def test_the_call_is_one_savepoint_its_start_answers_and_submission_none_of_their_own(
    street_light: str, caller: Caller
) -> None:
    # when a partner sends an application in one call
    with CaptureQueriesContext(connection) as captured:
        response = caller.call("POST", "/api/v1/applications", _sent(street_light), idempotency_key=KEY)
    # then the call's all-or-nothing savepoint holds the start, the answers and the submission, which take
    # none of their own (a bad call still creates nothing: test_a_bad_one_call_submission_creates_nothing);
    # the others are the call's transaction (a savepoint inside the test's) and the new data key's (privacy.crypto)
    assert response.status_code == 201, response.content
    savepoints = [query["sql"] for query in captured.captured_queries if query["sql"].startswith("SAVEPOINT")]
    assert len(savepoints) == 3, savepoints

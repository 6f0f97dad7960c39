"""Applicant bearer tokens: the web's one-time sign-in link, exchanged for a token on the citizen's own applications."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from govserve.accounts import citizens
from govserve.accounts.models import Citizen
from govserve.accounts.tests.conftest import sent_emails
from govserve.api.models import APPLICANT_SCOPES, ApiClient, ClientKind
from govserve.api.tests.conftest import Caller, body
from govserve.audit.models import AuditEntry
from govserve.journeys import services as journey_services
from govserve.journeys.access import Applicant
from govserve.journeys.models import Application
from govserve.journeys.tests.support import STREET_TRADING, examples_publish

EMAIL = "Ada@Example.org"
LINK = re.compile(r"http://[^\s]+/sign-in/link/([A-Za-z0-9_-]{43})")


@pytest.fixture
def examples(db: None) -> None:
    examples_publish()


def _post(path: str, payload: Any) -> Any:
    return Client().post(path, data=payload, content_type="application/json")


def _link_token(email: str = EMAIL) -> str:
    response = _post("/api/v1/sign-in/link", {"email": email})
    assert response.status_code == 202, response.content
    match = LINK.search(sent_emails()[-1].body)
    assert match is not None
    return match.group(1)


def _exchange(token: str) -> Any:
    return _post("/api/v1/sign-in/token", {"token": token})


def _started(citizen: Citizen) -> Application:
    return journey_services.application_start(
        service_id=STREET_TRADING, applicant=Applicant(citizen=citizen), language="en"
    ).application


@pytest.mark.django_db
def test_the_emailed_link_is_exchanged_once_for_a_token_on_the_citizens_own_applications(examples: None) -> None:
    # given a citizen who asked for the web's sign-in link through the API
    token = _link_token()
    citizen = citizens.citizen_find_by_email(EMAIL)
    assert citizen is not None
    mine = _started(citizen)
    theirs = _started(citizens.citizen_create(email="someone@example.org"))
    # when the app exchanges the link's token
    response = _exchange(token)
    issued = body(response)
    # then it gets a bearer token of the citizen, shown once, never cached
    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    assert issued["scopes"] == list(APPLICANT_SCOPES)
    client = ApiClient.objects.get(citizen=citizen)
    assert client.kind == ClientKind.APPLICANT
    assert issued["token"] not in str(list(client.tokens.values()))
    caller = Caller(token=issued["token"], client=client)
    # and it reaches the citizen's own application, started on the web, but not another citizen's
    assert body(caller.call("GET", f"/api/v1/applications/{mine.id}"))["id"] == str(mine.id)
    other = caller.call("GET", f"/api/v1/applications/{theirs.id}")
    assert (other.status_code, body(other)["code"]) == (404, "application_not_found")
    # and it may start an application of a service that needs a signed-in citizen, as that citizen
    started = caller.call("POST", "/api/v1/applications", {"service_id": STREET_TRADING})
    assert started.status_code == 201, started.content
    assert Application.objects.get(pk=body(started)["id"]).citizen_id == citizen.id
    # and never the operator side
    assert body(caller.call("GET", "/api/v1/tasks"))["code"] == "scope_missing"
    # and the link works once: here or on the web
    assert (_exchange(token).status_code, body(_exchange(token))["code"]) == (410, "link_used")
    assert "This link has already been used" in Client().post(f"/sign-in/link/{token}").content.decode()
    # and the sign-in is audited as the web's, with the API as the method
    signed_in = AuditEntry.objects.get(action="accounts.citizen.signed_in")
    assert (signed_in.actor_id, signed_in.details) == (str(citizen.id), {"method": "api"})


@pytest.mark.django_db
def test_a_link_used_on_the_web_cannot_be_exchanged(examples: None) -> None:
    token = _link_token()
    assert Client().post(f"/sign-in/link/{token}").status_code == 302
    response = _exchange(token)
    assert (response.status_code, body(response)["code"]) == (410, "link_used")
    assert not ApiClient.objects.filter(kind=ClientKind.APPLICANT).exists()


@pytest.mark.django_db
def test_a_deactivated_citizens_token_stops_at_once(examples: None) -> None:
    issued = body(_exchange(_link_token()))
    caller = Caller(token=issued["token"], client=None)
    assert caller.call("GET", "/api/v1/applications").status_code == 200
    Citizen.objects.update(is_active=False)
    response = caller.call("GET", "/api/v1/applications")
    assert (response.status_code, body(response)["code"]) == (401, "token_account_unusable")


@pytest.mark.parametrize(
    ("path", "payload", "expected"),
    [
        ("/api/v1/sign-in/link", {"email": "not an address"}, (422, "email_invalid")),
        ("/api/v1/sign-in/link", {"email": EMAIL, "extra": 1}, (422, "request_invalid")),
        ("/api/v1/sign-in/token", {"token": "x" * 43}, (404, "link_invalid")),
        ("/api/v1/sign-in/token", {}, (422, "request_invalid")),
    ],
    ids=["bad-address", "unknown-member", "unknown-link", "no-token"],
)
def test_bad_sign_in_requests_are_problems(path: str, payload: Any, expected: tuple[int, str], db: None) -> None:
    response = _post(path, payload)
    assert response["Content-Type"] == "application/problem+json"
    assert (response.status_code, body(response)["code"]) == expected
    assert not ApiClient.objects.exists()


@pytest.mark.django_db
def test_a_citizens_token_lists_all_their_applications_a_page_at_a_time(examples: None) -> None:
    # given a citizen with two applications started on the web, and another citizen's
    token = _link_token()
    citizen = citizens.citizen_find_by_email(EMAIL)
    assert citizen is not None
    mine = {str(_started(citizen).id) for _ in range(2)}
    _started(citizens.citizen_create(email="someone@example.org"))
    caller = Caller(token=body(_exchange(token))["token"], client=None)
    # and one started through the API
    mine.add(body(caller.call("POST", "/api/v1/applications", {"service_id": STREET_TRADING}))["id"])
    # when their applications are listed two at a time
    first = body(caller.call("GET", "/api/v1/applications?limit=2"))
    second = body(caller.call("GET", f"/api/v1/applications?limit=2&cursor={first['next_cursor']}"))
    # then every one of theirs is listed once, and nobody else's
    listed = [item["id"] for item in first["items"] + second["items"]]
    assert sorted(listed) == sorted(mine)
    assert second["next_cursor"] is None
    refused = caller.call("GET", "/api/v1/applications?cursor=bm90LWEtY3Vyc29y")
    assert (refused.status_code, body(refused)["code"]) == (400, "cursor_invalid")

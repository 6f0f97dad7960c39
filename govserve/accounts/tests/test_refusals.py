"""The staff refusal audit (govserve.accounts.refusals): what is written, when, and what never is.

The casework pages' refusals (another institution's file, a colleague's
task) are tested in govserve/casework/tests/test_refusals_audited.py; these
tests use a few views of their own (this module is their URLconf) to reach
the corners: a refusal raised inside a transaction that rolls back, a typed
error, a view that is not refused, the paths that never count.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.test import Client
from django.urls import include, path

from govserve.accounts.refusals import OMITTED, object_ids, refusal_reason
from govserve.accounts.tests.conftest import Staff
from govserve.audit.actors import Actor
from govserve.audit.models import AuditEntry, Outcome
from govserve.audit.services import audit_record
from govserve.core.errors import ConflictError, NotFoundError, PermissionDeniedError

ACTION = "accounts.staff.access_refused"


def _refused_after_a_write(request: HttpRequest, item_id: uuid.UUID) -> HttpResponse:
    with transaction.atomic():
        audit_record(actor=Actor.system("test"), action="accounts.staff.unlocked", subject_id=str(item_id))
        raise PermissionDenied


def _typed_not_found(request: HttpRequest, code: str) -> HttpResponse:
    raise NotFoundError("No such thing.", code="thing_not_found")


def _fine(request: HttpRequest, code: str) -> HttpResponse:
    return HttpResponse("fine")


urlpatterns = [
    path("staff/test/items/<uuid:item_id>/refused", _refused_after_a_write, name="refused"),
    path("staff/test/things/<str:code>", _typed_not_found, name="typed"),
    path("staff/test/fine/<str:code>", _fine, name="fine"),
    path("", include("govserve.accounts.urls")),
    path("", include("govserve.documents.urls")),
]


@pytest.fixture
def test_urls(settings: Any) -> None:
    settings.ROOT_URLCONF = __name__


def refusals() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=ACTION).order_by("id"))


@pytest.mark.usefixtures("test_urls")
def test_a_refusal_raised_in_a_transaction_that_rolls_back_is_still_audited(
    client: Client, signed_in_officer: Staff
) -> None:
    item = uuid.uuid4()

    response = client.get(f"/staff/test/items/{item}/refused")

    assert response.status_code == 403
    assert not AuditEntry.objects.filter(action="accounts.staff.unlocked").exists()  # the view's write rolled back
    [entry] = refusals()
    assert entry.outcome == Outcome.DENIED
    assert entry.actor_id == str(signed_in_officer.user.pk)
    assert entry.subject_id == "refused"
    assert entry.details == {
        "method": "GET",
        "route": "staff/test/items/<uuid:item_id>/refused",
        "status": 403,
        "ids": {"item_id": str(item)},
        "reason": "permission_denied",
    }


@pytest.mark.usefixtures("test_urls")
def test_a_typed_not_found_error_gives_its_code_and_a_personal_looking_argument_is_omitted(
    client: Client, signed_in_officer: Staff
) -> None:
    with pytest.raises(NotFoundError):  # a view that forgot to turn the error into a page: a 500, still refused
        client.get("/staff/test/things/someone@example.org")

    [entry] = refusals()
    assert entry.details["status"] == 500
    assert entry.details["reason"] == "thing_not_found"
    assert entry.details["ids"] == {"code": OMITTED}
    assert "example.org" not in str(entry.details)


@pytest.mark.usefixtures("test_urls")
def test_an_allowed_page_writes_nothing(client: Client, signed_in_officer: Staff) -> None:
    assert client.get("/staff/test/fine/abc").status_code == 200
    assert refusals() == []


def test_an_unknown_document_asked_for_by_staff_is_audited(client: Client, signed_in_officer: Staff) -> None:
    document = uuid.uuid4()

    assert client.get(f"/documents/{document}").status_code == 404

    [entry] = refusals()
    assert entry.details["ids"] == {"document_id": str(document)}


def test_a_refused_staff_page_for_someone_not_signed_in_writes_nothing(client: Client, officer: Staff) -> None:
    assert client.get(f"/documents/{uuid.uuid4()}").status_code == 404
    assert client.get("/staff/no-such-page").status_code == 404
    assert refusals() == []


def test_the_sign_in_pages_and_one_time_links_never_count(client: Client, signed_in_officer: Staff) -> None:
    assert client.get("/staff/set-password/not-a-real-token").status_code == 404
    assert client.get("/staff/set-up-authenticator/not-a-real-token").status_code == 404
    assert refusals() == []


def test_object_ids_keep_ids_and_drop_secrets_and_anything_else() -> None:
    item = uuid.uuid4()
    assert object_ids(
        {
            "file_id": item,
            "version": 3,
            "service_id": "street-trading",
            "token": "secret-one-time-token",
            "code": "someone@example.org",
            "name": "Jane Smith",
            "flag": True,
        }
    ) == {
        "file_id": str(item),
        "version": 3,
        "service_id": "street-trading",
        "code": OMITTED,
        "name": OMITTED,
        "flag": OMITTED,
    }


@pytest.mark.parametrize(
    ("exception", "reason"),
    [
        (Http404(), "not_found"),
        (PermissionDenied(), "permission_denied"),
        (NotFoundError("x", code="file_not_found"), "file_not_found"),
        (PermissionDeniedError("x", code="not_team_leader"), "not_team_leader"),
        (ConflictError("x"), ""),
        (ValueError("x"), ""),
    ],
    ids=["http404", "permission-denied", "typed-404", "typed-403", "conflict", "other"],
)
def test_refusal_reason(exception: Exception, reason: str) -> None:
    assert refusal_reason(exception) == reason


def test_a_refused_csrf_token_on_a_staff_form_is_audited_without_a_reason(
    client: Client, signed_in_officer: Staff
) -> None:
    enforcing = Client(enforce_csrf_checks=True)
    enforcing.cookies = client.cookies

    assert enforcing.post("/staff/account/password", {"password": "x", "password_confirm": "x"}).status_code == 403

    [entry] = refusals()
    assert entry.subject_id == "accounts:staff_change_password"
    assert entry.details == {"method": "POST", "route": "staff/account/password", "status": 403, "ids": {}}

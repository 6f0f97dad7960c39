"""Staff sign-in: password then TOTP, refusals, sign-out (enrolment: test_enrolment.py)."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client

from govserve.accounts.models import User
from govserve.accounts.tests.conftest import MovableClock, Staff, fresh_code, sign_in, totp_code
from govserve.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def _actions() -> list[tuple[str, str, str]]:
    return list(AuditEntry.objects.order_by("id").values_list("action", "outcome", "subject_id"))


def test_password_then_code_signs_in_and_lands_on_the_roles_page(client: Client, officer: Staff) -> None:
    # given an officer with a confirmed authenticator app
    # when they enter their password
    response = client.post("/staff/sign-in", {"username": "officer", "password": officer.password})
    # then they are asked for a code and are not signed in yet
    assert response.status_code == 302
    assert response["Location"] == "/staff/sign-in/code"
    assert client.get("/staff/")["Location"] == "/staff/sign-in?next=%2Fstaff%2F"
    # when they enter the code their app shows
    response = client.post("/staff/sign-in/code", {"code": totp_code(officer.device)})
    # then they are signed in and see their roles
    assert response.status_code == 302
    assert response["Location"] == "/staff/"
    page = client.get("/staff/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Westmoor City Council" in body
    assert "Licensing officer" in body
    assert _actions()[-1] == ("accounts.staff.signed_in", "success", str(officer.user.pk))
    assert AuditEntry.objects.get(action="accounts.staff.signed_in").details == {"method": "password+totp", "mfa": True}


def test_the_session_holds_no_personal_value(client: Client, signed_in_officer: Staff) -> None:
    session = client.session
    assert set(session.keys()) == {
        "_auth_user_id",
        "_auth_user_backend",
        "_auth_user_hash",
        "otp_device_id",
        "gs.kind",
        "gs.auth_at",
        "gs.seen_at",
        "gs.reauth_at",
    }
    assert session["_auth_user_id"] == str(signed_in_officer.user.pk)


def test_a_wrong_password_is_refused_with_one_message_for_known_and_unknown_users(
    client: Client, officer: Staff
) -> None:
    wrong = client.post("/staff/sign-in", {"username": "officer", "password": "not-the-password"})
    unknown = client.post("/staff/sign-in", {"username": "nobody", "password": "not-the-password"})

    for response in (wrong, unknown):
        assert response.status_code == 401
        body = response.content.decode()
        assert "<title>Error: Sign in to govserve staff" in body
        assert "Enter a correct username and password" in body
        assert 'href="#username"' in body
    assert "_auth_user_id" not in client.session
    assert "gs.pending" not in client.session
    failures = AuditEntry.objects.filter(action="accounts.staff.sign_in_failed").order_by("id")
    assert [(e.subject_id, e.details) for e in failures] == [
        (str(officer.user.pk), {"reason": "invalid_credentials"}),
        ("", {"reason": "unknown_user"}),
    ]


def test_empty_fields_get_specific_messages(client: Client, db: None) -> None:
    response = client.post("/staff/sign-in", {"username": "  ", "password": ""})

    assert response.status_code == 400
    body = response.content.decode()
    assert "<title>Error: " in body
    assert "Enter your username" in body
    assert "Enter your password" in body
    assert AuditEntry.objects.count() == 0


def test_an_inactive_account_cannot_sign_in(client: Client, officer: Staff) -> None:
    User.objects.filter(pk=officer.user.pk).update(is_active=False)

    response = client.post("/staff/sign-in", {"username": "officer", "password": officer.password})

    assert response.status_code == 401
    assert "Enter a correct username and password" in response.content.decode()


def test_a_wrong_code_is_refused_and_does_not_sign_in(client: Client, officer: Staff) -> None:
    client.post("/staff/sign-in", {"username": "officer", "password": officer.password})
    right = totp_code(officer.device)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"

    response = client.post("/staff/sign-in/code", {"code": wrong})

    assert response.status_code == 401
    assert "The code is not correct" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert _actions()[-1] == ("accounts.staff.sign_in_failed", "failure", str(officer.user.pk))


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter the 6-digit code from your authenticator app"),
        ("12345", "The code must be 6 digits"),
        ("12a456", "The code must be 6 digits"),
    ],
)
def test_a_malformed_code_gets_a_specific_message(client: Client, officer: Staff, typed: str, message: str) -> None:
    client.post("/staff/sign-in", {"username": "officer", "password": officer.password})

    response = client.post("/staff/sign-in/code", {"code": typed})

    assert message in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_code_with_spaces_is_accepted(client: Client, officer: Staff) -> None:
    client.post("/staff/sign-in", {"username": "officer", "password": officer.password})
    code = totp_code(officer.device)

    response = client.post("/staff/sign-in/code", {"code": f" {code[:3]} {code[3:]} "})

    assert response["Location"] == "/staff/"


def test_a_code_is_accepted_only_once(client: Client, officer: Staff) -> None:
    # given a code already used to sign in
    code = totp_code(officer.device)
    client.post("/staff/sign-in", {"username": "officer", "password": officer.password})
    assert client.post("/staff/sign-in/code", {"code": code})["Location"] == "/staff/"
    other = Client()
    # when someone replays it
    other.post("/staff/sign-in", {"username": "officer", "password": officer.password})
    response = other.post("/staff/sign-in/code", {"code": code})
    # then it is refused
    assert response.status_code == 401
    assert "_auth_user_id" not in other.session


def test_the_code_step_without_a_password_step_goes_back_to_sign_in(client: Client, db: None) -> None:
    assert client.get("/staff/sign-in/code")["Location"] == "/staff/sign-in"
    assert client.post("/staff/sign-in/code", {"code": "123456"})["Location"] == "/staff/sign-in"


def test_the_password_step_expires_after_five_minutes(client: Client, officer: Staff, clock: MovableClock) -> None:
    client.post("/staff/sign-in", {"username": "officer", "password": officer.password})
    clock.advance(minutes=5, seconds=1)

    response = client.post("/staff/sign-in/code", {"code": totp_code(officer.device)})

    assert response["Location"] == "/staff/sign-in"
    assert "_auth_user_id" not in client.session


def test_sign_in_returns_to_a_local_next_page_only(client: Client, officer: Staff) -> None:
    sign_in(client, officer, next_url="/staff/account/password")
    assert client.session["gs.kind"] == "staff"

    other = Client()
    other.post("/staff/sign-in", {"username": "officer", "password": officer.password, "next": "https://evil.example/"})
    response = other.post("/staff/sign-in/code", {"code": fresh_code(officer.device)})
    assert response["Location"] == "/staff/"


def test_a_signed_in_officer_visiting_sign_in_goes_to_their_page(client: Client, signed_in_officer: Staff) -> None:
    assert client.get("/staff/sign-in")["Location"] == "/staff/"


# --- supplier access -----------------------------------------------------------------------------------


def test_an_expired_supplier_cannot_sign_in(client: Client, officer: Staff, clock: MovableClock) -> None:
    User.objects.filter(pk=officer.user.pk).update(is_supplier=True, access_expires_at=clock.current)

    response = client.post("/staff/sign-in", {"username": "officer", "password": officer.password})

    assert response.status_code == 401
    assert "Your supplier access ended on" in response.content.decode()
    assert "gs.pending" not in client.session
    failure = AuditEntry.objects.get(action="accounts.staff.sign_in_failed")
    assert failure.details == {"reason": "supplier_access_expired"}


def test_a_supplier_within_their_access_period_signs_in(client: Client, officer: Staff, clock: MovableClock) -> None:
    User.objects.filter(pk=officer.user.pk).update(
        is_supplier=True, access_expires_at=clock.current + datetime.timedelta(days=1)
    )
    officer.user.refresh_from_db()

    sign_in(client, officer)

    entry = AuditEntry.objects.get(action="accounts.staff.signed_in")
    assert entry.actor_is_supplier is True


# --- sign-out -----------------------------------------------------------------------------------------


def test_sign_out_is_a_post_and_ends_the_session(client: Client, signed_in_officer: Staff) -> None:
    page = client.get("/staff/sign-out")
    assert page.status_code == 200
    assert 'method="post"' in page.content.decode()

    response = client.post("/staff/sign-out")

    assert response["Location"] == "/staff/signed-out"
    assert "_auth_user_id" not in client.session
    assert client.get("/staff/")["Location"] == "/staff/sign-in?next=%2Fstaff%2F"
    assert _actions()[-1] == ("accounts.staff.signed_out", "success", str(signed_in_officer.user.pk))


def test_sign_out_requires_the_csrf_token(officer: Staff) -> None:
    client = Client(enforce_csrf_checks=True)
    sign_in_page = client.get("/staff/sign-in")
    token = sign_in_page.cookies["csrftoken"].value
    client.post(
        "/staff/sign-in",
        {"username": "officer", "password": officer.password, "csrfmiddlewaretoken": token},
    )
    client.post("/staff/sign-in/code", {"code": fresh_code(officer.device), "csrfmiddlewaretoken": token})
    assert client.session["gs.kind"] == "staff"

    response = client.post("/staff/sign-out")

    assert response.status_code == 403
    assert client.session["gs.kind"] == "staff"

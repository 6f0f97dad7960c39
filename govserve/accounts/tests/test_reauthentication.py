"""Re-authentication (password and code again) before sensitive actions."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import check_password
from django.test import Client

from govserve.accounts.tests.conftest import MovableClock, Staff, fresh_code
from govserve.audit.models import AuditEntry

pytestmark = pytest.mark.django_db

CHANGE = "/staff/account/password"
NEW_PASSWORD = "a-brand-new-long-passphrase-7"


def test_a_sensitive_page_is_open_right_after_sign_in(client: Client, signed_in_officer: Staff) -> None:
    assert client.get(CHANGE).status_code == 200


def test_after_five_minutes_the_person_must_confirm_it_is_them(
    client: Client, clock: MovableClock, signed_in_officer: Staff
) -> None:
    # given a sign-in more than five minutes ago
    clock.advance(minutes=5, seconds=1)
    # when they open a sensitive page
    response = client.get(CHANGE)
    # then they are asked for password and code
    assert response["Location"] == "/staff/confirm-it-is-you?next=%2Fstaff%2Faccount%2Fpassword"
    page = client.get(response["Location"]).content.decode()
    assert 'name="password"' in page
    assert 'name="code"' in page
    # when they give both
    response = client.post(
        "/staff/confirm-it-is-you",
        {"password": signed_in_officer.password, "code": fresh_code(signed_in_officer.device), "next": CHANGE},
    )
    # then they are back on the page, which now opens
    assert response["Location"] == CHANGE
    assert client.get(CHANGE).status_code == 200
    assert AuditEntry.objects.filter(action="accounts.staff.reauthenticated").count() == 1


def test_a_wrong_password_does_not_re_authenticate(
    client: Client, clock: MovableClock, signed_in_officer: Staff
) -> None:
    clock.advance(minutes=6)

    response = client.post(
        "/staff/confirm-it-is-you",
        {"password": "wrong-password", "code": fresh_code(signed_in_officer.device), "next": CHANGE},
    )

    assert response.status_code == 401
    assert "Enter your correct password" in response.content.decode()
    assert client.get(CHANGE).status_code == 302
    assert not AuditEntry.objects.filter(action="accounts.staff.reauthenticated").exists()


def test_a_wrong_code_does_not_re_authenticate(client: Client, clock: MovableClock, signed_in_officer: Staff) -> None:
    clock.advance(minutes=6)
    wrong = f"{(int(fresh_code(signed_in_officer.device)) + 1) % 1_000_000:06d}"

    response = client.post(
        "/staff/confirm-it-is-you", {"password": signed_in_officer.password, "code": wrong, "next": CHANGE}
    )

    assert response.status_code == 401
    assert "The code is not correct" in response.content.decode()
    assert client.get(CHANGE).status_code == 302


def test_changing_the_password_after_re_authentication(client: Client, signed_in_officer: Staff) -> None:
    response = client.post(CHANGE, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})

    assert response.status_code == 200
    assert "Your password has been changed" in response.content.decode()
    signed_in_officer.user.refresh_from_db()
    assert check_password(NEW_PASSWORD, signed_in_officer.user.password)
    # the session survives its own password change
    assert client.get("/staff/").status_code == 200
    assert AuditEntry.objects.filter(action="accounts.staff.password_changed").count() == 1


@pytest.mark.parametrize(
    ("password", "confirm", "message"),
    [
        ("", "", "Enter a new password"),
        ("short-one", "short-one", "This password is too short. It must contain at least 12 characters."),
        (NEW_PASSWORD, NEW_PASSWORD + "x", "The passwords do not match"),
        ("123456789012345", "123456789012345", "This password is entirely numeric."),
    ],
)
def test_a_weak_or_mismatched_new_password_is_refused(
    client: Client, signed_in_officer: Staff, password: str, confirm: str, message: str
) -> None:
    before = signed_in_officer.user.password

    response = client.post(CHANGE, {"password": password, "password_confirm": confirm})

    assert response.status_code == 400
    assert message in response.content.decode()
    signed_in_officer.user.refresh_from_db()
    assert signed_in_officer.user.password == before


def test_the_decorator_sends_anonymous_visitors_to_sign_in(client: Client, db: None) -> None:
    assert client.get(CHANGE)["Location"] == "/staff/sign-in?next=%2Fstaff%2Faccount%2Fpassword"

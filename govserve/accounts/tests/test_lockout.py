"""Lockout after repeated failures (django-axes), by wrong passwords or wrong codes, and its message."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client, override_settings

from govserve.accounts.tests.conftest import Staff, fresh_code, totp_code
from govserve.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def _wrong_code(staff: Staff) -> str:
    return f"{(int(totp_code(staff.device)) + 500_000) % 1_000_000:06d}"


@override_settings(AXES_FAILURE_LIMIT=3)
def test_repeated_wrong_passwords_lock_sign_in_with_a_clear_message(client: Client, officer: Staff) -> None:
    # given two failures
    for _ in range(2):
        assert client.post("/staff/sign-in", {"username": "officer", "password": "guess"}).status_code == 401
    # when the third fails
    response = client.post("/staff/sign-in", {"username": "officer", "password": "guess"})
    # then sign-in is locked and the page says why, for how long and what to do
    assert response.status_code == 429
    body = response.content.decode()
    assert "<title>Sign-in is locked" in body
    assert "There have been 3 failed attempts to sign in with this username or from this network" in body
    assert "(60 minutes after the last failed attempt)" in body
    assert "ask an administrator of your organisation to unlock your account" in body
    # and even the right password is refused while locked
    response = client.post("/staff/sign-in", {"username": "officer", "password": officer.password})
    assert response.status_code == 429
    assert "gs.pending" not in client.session
    assert AuditEntry.objects.filter(action="accounts.staff.locked_out", subject_id=str(officer.user.pk)).count() == 1


@override_settings(AXES_FAILURE_LIMIT=3, OTP_TOTP_THROTTLE_FACTOR=0)
def test_wrong_codes_count_towards_the_lockout(client: Client, officer: Staff) -> None:
    client.post("/staff/sign-in", {"username": "officer", "password": officer.password})
    for _ in range(2):
        assert client.post("/staff/sign-in/code", {"code": _wrong_code(officer)}).status_code == 401

    response = client.post("/staff/sign-in/code", {"code": _wrong_code(officer)})

    assert response.status_code == 429
    assert "Sign-in is locked" in response.content.decode()
    # the right code no longer helps
    response = client.post("/staff/sign-in/code", {"code": fresh_code(officer.device)})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


@override_settings(AXES_FAILURE_LIMIT=3)
def test_a_success_before_the_limit_resets_the_count(client: Client, officer: Staff) -> None:
    for _ in range(2):
        client.post("/staff/sign-in", {"username": "officer", "password": "guess"})
    client.post("/staff/sign-in", {"username": "officer", "password": officer.password})
    client.post("/staff/sign-in/code", {"code": fresh_code(officer.device)})
    client.post("/staff/sign-out")

    for _ in range(2):
        assert client.post("/staff/sign-in", {"username": "officer", "password": "guess"}).status_code == 401


@override_settings(AXES_FAILURE_LIMIT=3)
def test_an_administrator_can_unlock_from_the_command_line(client: Client, officer: Staff) -> None:
    for _ in range(3):
        client.post("/staff/sign-in", {"username": "officer", "password": "guess"})

    call_command("staff", "unlock", "officer")

    response = client.post("/staff/sign-in", {"username": "officer", "password": officer.password})
    assert response["Location"] == "/staff/sign-in/code"
    entry = AuditEntry.objects.get(action="accounts.staff.unlocked")
    assert (entry.actor_kind, entry.actor_id, entry.subject_id) == ("system", "cli", str(officer.user.pk))


@override_settings(OTP_TOTP_THROTTLE_FACTOR=1)
def test_after_a_wrong_code_the_device_asks_to_wait(client: Client, officer: Staff) -> None:
    client.post("/staff/sign-in", {"username": "officer", "password": officer.password})
    client.post("/staff/sign-in/code", {"code": _wrong_code(officer)})

    response = client.post("/staff/sign-in/code", {"code": totp_code(officer.device)})

    assert response.status_code == 401
    assert "seconds, then enter the code your app shows" in response.content.decode()
    assert "_auth_user_id" not in client.session


@override_settings(AXES_FAILURE_LIMIT=3)
def test_locking_during_re_authentication_ends_the_session(client: Client, signed_in_officer: Staff) -> None:
    for _ in range(2):
        response = client.post("/staff/confirm-it-is-you", {"password": "guess", "code": "123456"})
        assert response.status_code == 401

    response = client.post("/staff/confirm-it-is-you", {"password": "guess", "code": "123456"})

    assert response.status_code == 429
    assert "Sign-in is locked" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get("/staff/")["Location"] == "/staff/sign-in?next=%2Fstaff%2F"

"""Idle and absolute session timeouts, and sessions ending when access changes."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client, override_settings

from govserve.accounts import services
from govserve.accounts.models import User
from govserve.accounts.tests.conftest import MovableClock, Staff
from govserve.audit.actors import Actor
from govserve.audit.models import AuditEntry

pytestmark = pytest.mark.django_db

SIGN_IN_AGAIN = "/staff/sign-in?next=%2Fstaff%2F"


@override_settings(SESSION_COOKIE_AGE=30 * 60)
def test_an_idle_session_ends_after_the_idle_timeout(
    client: Client, clock: MovableClock, signed_in_officer: Staff
) -> None:
    clock.advance(minutes=30, seconds=1)

    response = client.get("/staff/")

    assert response["Location"] == SIGN_IN_AGAIN
    assert "_auth_user_id" not in client.session
    entry = AuditEntry.objects.filter(action="accounts.staff.session_expired").get()
    assert (entry.subject_id, entry.details) == (str(signed_in_officer.user.pk), {"reason": "idle"})
    page = client.get(response["Location"]).content.decode()
    assert "You were signed out because you had not done anything for a while" in page
    # the notice is shown once
    assert "You were signed out" not in client.get("/staff/sign-in").content.decode()


@override_settings(SESSION_COOKIE_AGE=30 * 60)
def test_activity_keeps_a_session_alive(client: Client, clock: MovableClock, signed_in_officer: Staff) -> None:
    for _ in range(4):
        clock.advance(minutes=29)
        assert client.get("/staff/").status_code == 200

    assert client.session["gs.kind"] == "staff"


@override_settings(SESSION_COOKIE_AGE=30 * 60, SESSION_ABSOLUTE_TIMEOUT=2 * 60 * 60)
def test_a_busy_session_still_ends_at_the_absolute_timeout(
    client: Client, clock: MovableClock, signed_in_officer: Staff
) -> None:
    # given a session used every 20 minutes
    for _ in range(6):
        clock.advance(minutes=20)
        assert client.get("/staff/").status_code == 200
    # when it passes two hours after sign-in
    clock.advance(seconds=1)
    response = client.get("/staff/")
    # then it ends
    assert response["Location"] == SIGN_IN_AGAIN
    entry = AuditEntry.objects.filter(action="accounts.staff.session_expired").get()
    assert entry.details == {"reason": "absolute"}
    assert "reached its time limit" in client.get(response["Location"]).content.decode()


def test_deactivation_ends_an_open_session(client: Client, signed_in_officer: Staff) -> None:
    services.staff_deactivate(actor=Actor.system("cli"), user=signed_in_officer.user)

    assert client.get("/staff/")["Location"] == SIGN_IN_AGAIN
    assert "_auth_user_id" not in client.session


def test_an_mfa_reset_ends_an_open_session(client: Client, signed_in_officer: Staff) -> None:
    services.staff_mfa_reset(actor=Actor.system("cli"), user=signed_in_officer.user)

    assert client.get("/staff/")["Location"] == SIGN_IN_AGAIN
    assert "_auth_user_id" not in client.session


def test_supplier_access_expiring_ends_an_open_session(client: Client, clock: MovableClock, officer: Staff) -> None:
    User.objects.filter(pk=officer.user.pk).update(
        is_supplier=True, access_expires_at=clock.current + datetime.timedelta(minutes=10)
    )
    officer.user.refresh_from_db()
    from govserve.accounts.tests.conftest import sign_in  # noqa: PLC0415

    sign_in(client, officer)
    assert client.get("/staff/").status_code == 200

    clock.advance(minutes=10)

    assert client.get("/staff/")["Location"] == SIGN_IN_AGAIN
    entry = AuditEntry.objects.filter(action="accounts.staff.session_expired").get()
    assert entry.details == {"reason": "access_ended"}
    assert entry.actor_is_supplier is True


def test_an_anonymous_request_is_untouched(client: Client, db: None) -> None:
    response = client.get("/staff/sign-in")

    assert response.status_code == 200
    assert AuditEntry.objects.count() == 0

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


# --- one write at most a minute: the last-seen time ---------------------------------------------------------


def _stored(client: Client) -> dict[str, object]:
    from django.conf import settings  # noqa: PLC0415
    from django.contrib.sessions.backends.db import SessionStore  # noqa: PLC0415

    return SessionStore(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value).load()


@override_settings(SESSION_COOKIE_AGE=30 * 60)
def test_a_request_within_a_minute_of_the_stored_last_seen_time_writes_nothing(
    client: Client, clock: MovableClock, signed_in_officer: Staff
) -> None:
    from django.conf import settings  # noqa: PLC0415

    seen = _stored(client)["gs.seen_at"]
    clock.advance(seconds=59)

    response = client.get("/staff/")

    assert response.status_code == 200
    assert settings.SESSION_COOKIE_NAME not in response.cookies  # the session was not saved
    assert _stored(client)["gs.seen_at"] == seen
    # a minute or more after it, the request stores the new time (and renews the cookie)
    clock.advance(seconds=1)
    response = client.get("/staff/")
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 1800
    assert _stored(client)["gs.seen_at"] == clock.current.timestamp()


@override_settings(SESSION_COOKIE_AGE=30 * 60)
def test_the_idle_timeout_counts_from_the_stored_time_so_it_can_end_up_to_a_minute_early(
    client: Client, clock: MovableClock, signed_in_officer: Staff
) -> None:
    # given a request 59 seconds after sign-in, which stores nothing
    clock.advance(seconds=59)
    assert client.get("/staff/").status_code == 200
    # when 30 minutes have passed since sign-in (29 minutes and a second since that request)
    clock.advance(minutes=29, seconds=2)

    # then the session has ended: the timeout holds to the minute
    assert client.get("/staff/")["Location"] == SIGN_IN_AGAIN
    entry = AuditEntry.objects.filter(action="accounts.staff.session_expired").get()
    assert entry.details == {"reason": "idle"}


@override_settings(SESSION_COOKIE_AGE=60)
def test_a_short_timeout_renews_every_tenth_of_it(
    client: Client, clock: MovableClock, signed_in_officer: Staff
) -> None:
    from govserve.accounts.middleware import renewal_interval  # noqa: PLC0415

    assert renewal_interval() == 6
    for _ in range(20):  # 20 requests 7 seconds apart: each stores the time, so the 1-minute session lives on
        clock.advance(seconds=7)
        assert client.get("/staff/").status_code == 200
    assert _stored(client)["gs.seen_at"] == clock.current.timestamp()


def _anonymous_session(client: Client) -> str:
    # what a draft's access grant or a pending staff sign-in leaves: a session with nobody signed in
    session = client.session
    session["gs.test"] = "anonymous"
    session.save()
    from django.conf import settings  # noqa: PLC0415

    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key or ""
    return session.session_key or ""


@override_settings(SESSION_COOKIE_AGE=30 * 60)
def test_an_anonymous_session_is_kept_alive_by_requests_and_ends_when_idle(client: Client, clock: MovableClock) -> None:
    from django.contrib.sessions.models import Session  # noqa: PLC0415

    key = _anonymous_session(client)
    assert client.get("/staff/sign-in").status_code == 200
    # kept alive by pages that change nothing in it
    for _ in range(3):
        clock.advance(minutes=20)
        assert client.get("/staff/sign-in").status_code == 200
    assert _stored(client)["gs.test"] == "anonymous"

    clock.advance(minutes=30, seconds=1)
    client.get("/staff/sign-in")

    assert not Session.objects.filter(session_key=key).exists()
    assert "gs.test" not in client.session


def test_a_session_a_request_begins_gets_its_last_seen_time_in_the_same_save(
    client: Client, clock: MovableClock, officer: Staff
) -> None:
    # the password step of a staff sign-in begins a session (the pending marker)
    response = client.post("/staff/sign-in", {"username": officer.user.username, "password": officer.password})

    assert response["Location"] == "/staff/sign-in/code"
    assert _stored(client)["gs.seen_at"] == clock.current.timestamp()


def test_an_empty_session_is_never_created_by_the_timeout(client: Client, clock: MovableClock, db: None) -> None:
    from django.contrib.sessions.models import Session  # noqa: PLC0415

    response = client.get("/staff/sign-in")

    assert response.status_code == 200
    assert Session.objects.count() == 0

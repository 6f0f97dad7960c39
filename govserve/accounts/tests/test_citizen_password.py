"""A citizen's password: set or changed only after recent authentication, and rate limited.

Recent authentication is the current password, or a one-time link used in
the last five minutes (the forgotten-password path); an account without a
password needs a recent sign-in or a fresh link.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from django.contrib.auth.hashers import check_password
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client, RequestFactory, override_settings

from govserve.accounts import citizens, errors
from govserve.accounts.models import Citizen
from govserve.accounts.tests.conftest import MovableClock, Staff, sent_emails
from govserve.audit.models import AuditEntry

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse

pytestmark = pytest.mark.django_db

EMAIL = "grace.hopper@example.org"
OLD = "my-first-citizen-passphrase-1906"
NEW = "my-second-citizen-passphrase-1992"
LINK = re.compile(r"http://[^\s]+(/sign-in/link/[A-Za-z0-9_-]{43})")


def _link_sign_in(client: Client) -> Citizen:
    assert client.post("/sign-in", {"email": EMAIL})["Location"] == "/sign-in/check-your-email"
    _use_last_link(client)
    citizen = citizens.citizen_find_by_email(EMAIL)
    assert citizen is not None
    return citizen


def _use_last_link(client: Client) -> str:
    match = LINK.search(sent_emails()[-1].body)
    assert match is not None
    response = client.post(match.group(1))
    assert response.status_code == 302
    return str(response["Location"])


def _citizen_with_password(clock: MovableClock) -> Citizen:
    """A citizen who set a password earlier (and signed out), and signs in with it now."""
    setter = Client()
    citizen = _link_sign_in(setter)
    assert setter.post("/account/password", {"password": OLD, "password_confirm": OLD})["Location"] == "/account"
    citizen.refresh_from_db()
    clock.advance(minutes=1)
    return citizen


def _password_sign_in(client: Client) -> None:
    response = client.post("/sign-in/password", {"email": EMAIL, "password": OLD})
    assert response["Location"] == "/account"


def _change(client: Client, *, current: str | None = None, new: str = NEW) -> _MonkeyPatchedWSGIResponse:
    data = {"password": new, "password_confirm": new}
    if current is not None:
        data["current_password"] = current
    return client.post("/account/password", data)


def _password_sets() -> list[dict[str, object]]:
    return [entry.details for entry in AuditEntry.objects.filter(action="accounts.citizen.password_set").order_by("id")]


def _refusals() -> list[tuple[str, dict[str, object]]]:
    return [
        (entry.outcome, entry.details)
        for entry in AuditEntry.objects.filter(action="accounts.citizen.password_change_refused").order_by("id")
    ]


# --- creating a first password -------------------------------------------------------------------------


def test_a_fresh_link_sign_in_may_create_a_password(client: Client) -> None:
    citizen = _link_sign_in(client)

    page = client.get("/account/password").content.decode()
    response = _change(client)

    assert 'name="current_password"' not in page
    assert response["Location"] == "/account"
    citizen.refresh_from_db()
    assert check_password(NEW, citizen.password_hash)
    assert _password_sets() == [{"changed": False, "proof": "none"}]


def test_without_a_password_an_old_session_must_confirm_by_link_first(client: Client, clock: MovableClock) -> None:
    # given a citizen signed in by link six minutes ago, without a password
    citizen = _link_sign_in(client)
    clock.advance(minutes=6)
    # when they open the password page, they are asked to confirm by email
    page = client.get("/account/password")
    assert page.status_code == 200
    assert "Confirm it is you" in page.content.decode()
    assert 'name="password"' not in page.content.decode()
    # and posting a password anyway changes nothing (the page is not a change attempt)
    response = _change(client)
    assert "Confirm it is you" in response.content.decode()
    citizen.refresh_from_db()
    assert citizen.password_hash == ""
    # when they ask for the link and use it
    sent = client.post("/account/password/email-link")
    assert "We have sent a link to your email address" in sent.content.decode()
    email = sent_emails()[-1]
    assert (email.recipient, email.template) == (EMAIL, "sign_in_link")
    assert _use_last_link(client) == "/account/password"
    # then they may create their password
    assert _change(client)["Location"] == "/account"
    citizen.refresh_from_db()
    assert check_password(NEW, citizen.password_hash)
    requested = AuditEntry.objects.filter(action="accounts.citizen.sign_in_link_requested").order_by("id")
    assert requested.last() is not None
    assert requested.last().details["purpose"] == "password_change"  # type: ignore[union-attr]


def test_the_service_refuses_a_stale_session_without_a_password_and_audits_it(clock: MovableClock) -> None:
    # given a citizen without a password whose session proved itself six minutes ago
    citizen = citizens.citizen_create(email=EMAIL)
    request = RequestFactory().post("/account/password")
    request.session = SessionStore()
    request.session["gs.reauth_at"] = clock.current.timestamp()
    request.session["gs.reauth_by"] = "link"
    clock.advance(minutes=6)
    # when something calls the service anyway
    with pytest.raises(errors.ReauthenticationRequiredError):
        citizens.citizen_password_change(request=request, citizen=citizen, password=NEW, current_password="")
    # then nothing changed, and the refusal is audited
    citizen.refresh_from_db()
    assert citizen.password_hash == ""
    assert _refusals() == [("denied", {"reason": "reauthentication_required"})]


# --- changing a password ---------------------------------------------------------------------------------


def test_changing_a_password_needs_the_current_one(client: Client, clock: MovableClock) -> None:
    citizen = _citizen_with_password(clock)
    _password_sign_in(client)
    assert 'name="current_password"' in client.get("/account/password").content.decode()

    missing = _change(client)
    wrong = _change(client, current="not-my-passphrase-000")

    assert missing.status_code == 401
    assert "Enter your current password" in missing.content.decode()
    assert wrong.status_code == 401
    assert "Your current password is not right: enter it again" in wrong.content.decode()
    assert 'href="#current_password"' in wrong.content.decode()
    citizen.refresh_from_db()
    assert check_password(OLD, citizen.password_hash)
    assert _refusals() == [("denied", {"reason": "current_password_incorrect"})]
    # with the current password it changes
    assert _change(client, current=OLD)["Location"] == "/account"
    citizen.refresh_from_db()
    assert check_password(NEW, citizen.password_hash)
    assert _password_sets()[-1] == {"changed": True, "proof": "current_password"}


def test_a_fresh_link_lets_a_citizen_who_forgot_their_password_choose_a_new_one(
    client: Client, clock: MovableClock
) -> None:
    citizen = _citizen_with_password(clock)
    _link_sign_in(client)

    response = _change(client)

    assert response["Location"] == "/account"
    citizen.refresh_from_db()
    assert check_password(NEW, citizen.password_hash)
    assert _password_sets()[-1] == {"changed": True, "proof": "none"}


def test_a_link_used_more_than_five_minutes_ago_is_not_enough(client: Client, clock: MovableClock) -> None:
    citizen = _citizen_with_password(clock)
    _link_sign_in(client)
    clock.advance(minutes=5, seconds=1)

    response = _change(client)

    assert response.status_code == 401
    citizen.refresh_from_db()
    assert check_password(OLD, citizen.password_hash)


def test_the_forgotten_password_link_returns_to_the_page_without_the_old_password(
    client: Client, clock: MovableClock
) -> None:
    citizen = _citizen_with_password(clock)
    _password_sign_in(client)
    page = client.get("/account/password").content.decode()
    assert "If you have forgotten your password" in page

    client.post("/account/password/email-link")

    assert _use_last_link(client) == "/account/password"
    assert 'name="current_password"' not in client.get("/account/password").content.decode()
    assert _change(client)["Location"] == "/account"
    citizen.refresh_from_db()
    assert check_password(NEW, citizen.password_hash)


def test_a_weak_new_password_keeps_the_old_one(client: Client, clock: MovableClock) -> None:
    citizen = _citizen_with_password(clock)
    _password_sign_in(client)

    response = _change(client, current=OLD, new="password")

    assert response.status_code == 400
    assert "This password is too short" in response.content.decode()
    citizen.refresh_from_db()
    assert check_password(OLD, citizen.password_hash)


# --- rate limits and access -----------------------------------------------------------------------------


@override_settings(GOVSERVE_RATE_LIMITS={"citizen-password-change": (4, 3600)})
def test_password_change_attempts_are_rate_limited(client: Client, clock: MovableClock) -> None:
    citizen = _citizen_with_password(clock)  # setting the first password was attempt 1
    _password_sign_in(client)
    for _attempt in range(3):
        assert _change(client, current="guess-the-passphrase-0").status_code == 401  # attempts 2 to 4

    response = _change(client, current=OLD)

    assert response.status_code == 429
    assert "Retry-After" in response
    citizen.refresh_from_db()
    assert check_password(OLD, citizen.password_hash)
    assert len(_refusals()) == 3


@override_settings(GOVSERVE_RATE_LIMITS={"citizen-link-email": (2, 3600)})
def test_confirmation_links_share_the_sign_in_link_limit(client: Client, clock: MovableClock) -> None:
    _link_sign_in(client)  # the first link of this address
    clock.advance(minutes=6)
    assert client.post("/account/password/email-link").status_code == 200

    response = client.post("/account/password/email-link")

    assert response.status_code == 429
    assert len(sent_emails()) == 2


def test_the_password_pages_need_a_signed_in_citizen(client: Client, signed_in_officer: Staff) -> None:
    assert client.get("/account/password")["Location"] == "/sign-in?next=%2Faccount%2Fpassword"
    assert client.post("/account/password/email-link")["Location"].startswith("/sign-in?next=")
    assert Client().get("/account/password/email-link").status_code == 405
    assert sent_emails() == []

"""Citizen sign-in: emailed one-time links, passwords, email change; no enumeration, rate limits, nothing in clear."""

from __future__ import annotations

import re

import pytest
from django.test import Client, override_settings

from govserve.accounts import citizens
from govserve.accounts.models import Citizen, CitizenLink
from govserve.accounts.tests.conftest import MovableClock, Staff, sent_emails
from govserve.audit.models import AuditEntry
from govserve.privacy.testing import assert_no_plaintext

pytestmark = pytest.mark.django_db

EMAIL = "Ada.Lovelace@Example.org"
NORMALISED = "ada.lovelace@example.org"
SIGN_IN_LINK = re.compile(r"http://[^\s]+(/sign-in/link/[A-Za-z0-9_-]{43})")
CONFIRM_LINK = re.compile(r"http://[^\s]+(/account/email/confirm/[A-Za-z0-9_-]{43})")
PASSWORD = "my-citizen-passphrase-1815"


def _link(pattern: re.Pattern[str] = SIGN_IN_LINK, index: int = -1) -> str:
    match = pattern.search(sent_emails()[index].body)
    assert match is not None
    return match.group(1)


def _request_link(client: Client, email: str = EMAIL, **extra: str) -> str:
    response = client.post("/sign-in", {"email": email, **extra})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == "/sign-in/check-your-email"
    return _link()


def _sign_in(client: Client, email: str = EMAIL) -> Citizen:
    path = _request_link(client, email)
    assert client.post(path).status_code == 302
    citizen = citizens.citizen_find_by_email(email)
    assert citizen is not None
    return citizen


# --- one-time links ---------------------------------------------------------------------------------------


def test_the_emailed_link_signs_in_and_creates_the_account(client: Client) -> None:
    # when a new citizen asks for a link
    path = _request_link(client)
    # then an account exists, with the address sealed and indexed, not yet verified
    citizen = Citizen.objects.get()
    assert citizen.email_index == citizens.email_index(NORMALISED)
    assert citizens.citizen_email(citizen) == NORMALISED
    assert citizen.email_verified_at is None
    [email] = sent_emails()
    assert (email.recipient, email.template, email.owner) == (NORMALISED, "sign_in_link", f"citizen:{citizen.id}")
    assert "stops working after 30 minutes" in email.body
    # and the check-your-email page says so
    assert "We have sent a sign-in link" in client.get("/sign-in/check-your-email").content.decode()
    # when they open the link, a page with a button shows and the link is not used yet
    page = client.get(path)
    assert page.status_code == 200
    assert 'method="post"' in page.content.decode()
    assert CitizenLink.objects.get().used_at is None
    # when they press the button
    response = client.post(path)
    # then they are signed in, and the session holds only the account id and times
    assert response["Location"] == "/account"
    assert set(client.session.keys()) == {
        "gs.kind",
        "gs.citizen_id",
        "gs.auth_at",
        "gs.seen_at",
        "gs.reauth_at",
        "gs.reauth_by",
    }
    assert client.session["gs.reauth_by"] == "link"
    assert client.session["gs.citizen_id"] == str(citizen.id)
    citizen.refresh_from_db()
    assert citizen.email_verified_at is not None
    assert citizen.last_signed_in_at is not None
    account = client.get("/account")
    assert account.status_code == 200
    assert NORMALISED in account.content.decode()
    assert list(
        AuditEntry.objects.filter(action__startswith="accounts.").order_by("id").values_list("action", flat=True)
    ) == ["accounts.citizen.created", "accounts.citizen.sign_in_link_requested", "accounts.citizen.signed_in"]


def test_the_email_address_is_never_stored_in_clear(client: Client) -> None:
    _sign_in(client)

    report = assert_no_plaintext([NORMALISED, EMAIL])

    # the scan really read the tables that hold the account, its links, its email and the session
    assert {"accounts_citizen", "accounts_citizenlink", "django_session"} <= set(report.tables)
    assert report.rows > 0


def test_the_same_page_whatever_the_address(client: Client) -> None:
    _sign_in(client, "known@example.org")
    other = Client()

    known = other.post("/sign-in", {"email": "known@example.org"})
    unknown = other.post("/sign-in", {"email": "unknown@example.org"})

    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert known.content == unknown.content


def test_an_address_in_another_case_reaches_the_same_account(client: Client) -> None:
    _sign_in(client, "Person@Example.org")
    _request_link(Client(), "  person@example.ORG ")

    assert Citizen.objects.count() == 1
    assert {email.recipient for email in sent_emails()} == {"person@example.org"}


def test_an_expired_link_is_refused(client: Client, clock: MovableClock) -> None:
    path = _request_link(client)
    clock.advance(minutes=30, seconds=1)

    for response in (client.get(path), client.post(path)):
        assert response.status_code == 410
        assert "This link has expired" in response.content.decode()
    assert "gs.kind" not in client.session
    assert CitizenLink.objects.get().used_at is None


def test_a_link_works_once(client: Client) -> None:
    path = _request_link(client)
    client.post(path)
    other = Client()

    response = other.post(path)

    assert response.status_code == 410
    assert "This link has already been used" in response.content.decode()
    assert "gs.kind" not in other.session
    assert AuditEntry.objects.filter(action="accounts.citizen.signed_in").count() == 1


@pytest.mark.parametrize("mangle", ["flip", "truncate", "junk"])
def test_a_tampered_link_is_refused(client: Client, mangle: str) -> None:
    path = _request_link(client)
    token = path.rsplit("/", 1)[1]
    tampered = {
        "flip": ("A" if token[-1] != "A" else "B").join([token[:-1], ""]),
        "truncate": token[:-2],
        "junk": "not-a-token",
    }[mangle]

    response = client.post(f"/sign-in/link/{tampered}")

    assert response.status_code == 404
    assert "This link is not valid" in response.content.decode()
    assert "gs.kind" not in client.session
    assert CitizenLink.objects.get().used_at is None


def test_a_sign_in_link_cannot_confirm_an_email_change(client: Client) -> None:
    token = _request_link(client).rsplit("/", 1)[1]

    response = client.post(f"/account/email/confirm/{token}")

    assert response.status_code == 404
    assert CitizenLink.objects.get().used_at is None


def test_the_link_returns_to_the_page_that_asked_for_sign_in(client: Client) -> None:
    path = _request_link(client, next="/apply/street-trading")
    assert client.post(path)["Location"] == "/apply/street-trading"

    path = _request_link(Client(), next="https://evil.example/")
    assert Client().post(path)["Location"] == "/account"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter your email address"),
        ("not-an-address", "Enter an email address in the correct format, like name@example.com"),
        ("a@b@example.org", "Enter an email address in the correct format, like name@example.com"),
    ],
)
def test_a_malformed_address_gets_a_specific_message(client: Client, typed: str, message: str) -> None:
    response = client.post("/sign-in", {"email": typed})

    assert response.status_code == 400
    body = response.content.decode()
    assert "<title>Error: Sign in" in body
    assert message in body
    assert 'href="#email"' in body
    assert Citizen.objects.count() == 0
    assert sent_emails() == []


def test_a_deactivated_account_gets_no_link_and_the_same_page(client: Client) -> None:
    citizen = _sign_in(client)
    Citizen.objects.filter(pk=citizen.pk).update(is_active=False)
    emails_before = len(sent_emails())

    response = Client().post("/sign-in", {"email": EMAIL})

    assert response["Location"] == "/sign-in/check-your-email"
    assert len(sent_emails()) == emails_before
    # and its open session ends
    assert client.get("/account")["Location"] == "/sign-in?next=%2Faccount"


# --- rate limits -----------------------------------------------------------------------------------------


@pytest.mark.usefixtures("clock")  # frozen: the fixed rate-limit window cannot end mid-test
@override_settings(GOVSERVE_RATE_LIMITS={"citizen-link-email": (3, 3600), "citizen-link-ip": (100, 3600)})
def test_links_are_rate_limited_per_address(client: Client) -> None:
    for _ in range(3):
        _request_link(Client())

    response = client.post("/sign-in", {"email": EMAIL})

    assert response.status_code == 429
    body = response.content.decode()
    assert re.search(r"You have tried too many times\. Wait \d+ minutes?, then try again\.", body)
    assert int(response["Retry-After"]) > 0
    assert len(sent_emails()) == 3
    # another address is not affected
    assert client.post("/sign-in", {"email": "someone.else@example.org"}).status_code == 302


@pytest.mark.usefixtures("clock")  # frozen: the fixed rate-limit window cannot end mid-test
@override_settings(GOVSERVE_RATE_LIMITS={"citizen-link-email": (100, 3600), "citizen-link-ip": (3, 3600)})
def test_links_are_rate_limited_per_client(client: Client) -> None:
    for n in range(3):
        assert client.post("/sign-in", {"email": f"person{n}@example.org"}).status_code == 302

    response = client.post("/sign-in", {"email": "person9@example.org"})

    assert response.status_code == 429
    assert len(sent_emails()) == 3
    assert Client(REMOTE_ADDR="192.0.2.44").post("/sign-in", {"email": "person9@example.org"}).status_code == 302


@pytest.mark.usefixtures("clock")  # frozen: the fixed rate-limit window cannot end mid-test
@override_settings(GOVSERVE_RATE_LIMITS={"citizen-link-email": (1, 3600), "citizen-link-ip": (100, 3600)})
def test_the_rate_limit_does_not_reveal_whether_an_account_exists(client: Client) -> None:
    _sign_in(Client(), "known@example.org")

    known = client.post("/sign-in", {"email": "known@example.org"})
    client.post("/sign-in", {"email": "new@example.org"})
    unknown = client.post("/sign-in", {"email": "new@example.org"})

    assert known.status_code == unknown.status_code == 429


def test_the_window_reopens(client: Client, clock: MovableClock) -> None:
    with override_settings(GOVSERVE_RATE_LIMITS={"citizen-link-email": (1, 600), "citizen-link-ip": (100, 600)}):
        _request_link(client)
        assert client.post("/sign-in", {"email": EMAIL}).status_code == 429
        clock.advance(minutes=10)
        assert client.post("/sign-in", {"email": EMAIL}).status_code == 302


# --- passwords ------------------------------------------------------------------------------------------------


def _with_password(client: Client) -> Citizen:
    citizen = _sign_in(client)
    response = client.post("/account/password", {"password": PASSWORD, "password_confirm": PASSWORD})
    assert response["Location"] == "/account"
    client.post("/sign-out")
    return citizen


def test_a_citizen_with_a_password_signs_in_with_it(client: Client) -> None:
    citizen = _with_password(client)
    assert citizen.pk is not None

    response = client.post("/sign-in/password", {"email": EMAIL, "password": PASSWORD})

    assert response["Location"] == "/account"
    assert client.session["gs.citizen_id"] == str(citizen.id)
    signed_in = AuditEntry.objects.filter(action="accounts.citizen.signed_in").order_by("id")
    assert [entry.details for entry in signed_in] == [{"method": "link"}, {"method": "password"}]
    assert AuditEntry.objects.filter(action="accounts.citizen.password_set").count() == 1


def test_password_refusals_share_one_message(client: Client) -> None:
    _with_password(client)
    _sign_in(Client(), "nopassword@example.org")

    responses = [
        client.post("/sign-in/password", {"email": EMAIL, "password": "wrong-passphrase-0000"}),
        client.post("/sign-in/password", {"email": "nobody@example.org", "password": PASSWORD}),
        client.post("/sign-in/password", {"email": "nopassword@example.org", "password": PASSWORD}),
    ]

    for response in responses:
        assert response.status_code == 401
        assert "Enter the email address and password of your account" in response.content.decode()
    assert "gs.kind" not in client.session
    assert Citizen.objects.count() == 2  # nobody@example.org got no account


@pytest.mark.usefixtures("clock")  # frozen: the fixed rate-limit window cannot end mid-test
@override_settings(GOVSERVE_RATE_LIMITS={"citizen-password-email": (3, 900), "citizen-password-ip": (100, 900)})
def test_password_attempts_are_rate_limited(client: Client) -> None:
    _with_password(client)
    for _ in range(3):
        client.post("/sign-in/password", {"email": EMAIL, "password": "wrong-passphrase-0000"})

    response = client.post("/sign-in/password", {"email": EMAIL, "password": PASSWORD})

    assert response.status_code == 429
    assert "gs.kind" not in client.session


def test_a_weak_citizen_password_is_refused(client: Client) -> None:
    citizen = _sign_in(client)

    response = client.post("/account/password", {"password": "password", "password_confirm": "password"})

    assert response.status_code == 400
    assert "This password is too short" in response.content.decode()
    citizen.refresh_from_db()
    assert citizen.password_hash == ""


# --- email change --------------------------------------------------------------------------------------------------


def test_changing_the_email_address_needs_the_new_address_confirmed(client: Client) -> None:
    citizen = _sign_in(client)
    # when they give a new address
    response = client.post("/account/email", {"email": "Ada@New.example"})
    # then a confirmation link goes to the new address, and nothing has changed yet
    assert "We have sent a link to your new email address" in response.content.decode()
    confirm = sent_emails()[-1]
    assert (confirm.recipient, confirm.template) == ("ada@new.example", "accounts_email_change")
    citizen.refresh_from_db()
    assert citizens.citizen_email(citizen) == NORMALISED
    assert_no_plaintext(["ada@new.example"])
    # when the link is opened and confirmed
    path = _link(CONFIRM_LINK)
    assert client.get(path).status_code == 200
    response = client.post(path)
    # then the address is the new one, the old one is told, and look-ups follow
    assert "Your email address has been changed" in response.content.decode()
    citizen.refresh_from_db()
    assert citizens.citizen_email(citizen) == "ada@new.example"
    assert citizens.citizen_find_by_email("ada@new.example") == citizen
    assert citizens.citizen_find_by_email(NORMALISED) is None
    notice = sent_emails()[-1]
    assert (notice.recipient, notice.template) == (NORMALISED, "accounts_email_changed")
    assert client.post(path).status_code == 410
    assert AuditEntry.objects.filter(action="accounts.citizen.email_changed").count() == 1


def test_an_address_used_by_another_account_cannot_be_taken(client: Client) -> None:
    _sign_in(Client(), "taken@example.org")
    citizen = _sign_in(client)
    client.post("/account/email", {"email": "taken@example.org"})

    response = client.post(_link(CONFIRM_LINK))

    assert response.status_code == 409
    assert "There is already an account with this email address" in response.content.decode()
    citizen.refresh_from_db()
    assert citizens.citizen_email(citizen) == NORMALISED


def test_the_current_address_is_not_a_change(client: Client) -> None:
    _sign_in(client)
    emails_before = len(sent_emails())

    response = client.post("/account/email", {"email": NORMALISED.upper()})

    assert response.status_code == 400
    assert "This is already your email address" in response.content.decode()
    assert len(sent_emails()) == emails_before


# --- sessions ---------------------------------------------------------------------------------------------


def test_account_pages_need_a_signed_in_citizen(client: Client, signed_in_officer: Staff) -> None:
    # a staff session is not a citizen session
    assert client.get("/account")["Location"] == "/sign-in?next=%2Faccount"
    assert Client().get("/account/email")["Location"] == "/sign-in?next=%2Faccount%2Femail"


def test_citizen_sign_in_ends_a_staff_session_in_the_same_browser(client: Client, signed_in_officer: Staff) -> None:
    _sign_in(client)

    assert "_auth_user_id" not in client.session
    assert client.get("/staff/")["Location"].startswith("/staff/sign-in")
    assert client.get("/account").status_code == 200


def test_sign_out(client: Client) -> None:
    citizen = _sign_in(client)
    assert client.get("/sign-out").status_code == 200

    response = client.post("/sign-out")

    assert "You have signed out" in response.content.decode()
    assert "gs.kind" not in client.session
    assert client.get("/account").status_code == 302
    entry = AuditEntry.objects.filter(action="accounts.citizen.signed_out").get()
    assert (entry.subject_id, entry.details) == (str(citizen.id), {"reason": "signed_out"})


@override_settings(SESSION_COOKIE_AGE=30 * 60)
def test_an_idle_citizen_session_ends(client: Client, clock: MovableClock) -> None:
    _sign_in(client)
    clock.advance(minutes=31)

    response = client.get("/account")

    assert response["Location"] == "/sign-in?next=%2Faccount"
    assert "You were signed out because you had not done anything" in client.get(response["Location"]).content.decode()

"""Authenticator enrolment: only from a one-time link, never from a password sign-in.

The threat: someone who learnt the password of a member of staff who has not
set up an app yet (a new starter, or after ``reset-mfa``) must not be able
to bind their own app to the account.
"""

from __future__ import annotations

import base64
import io
import re

import pytest
from django.core.management import call_command
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from govserve.accounts.models import Institution, StaffPasswordLink, User
from govserve.accounts.tests.conftest import MovableClock, Staff, sent_emails, sign_in, totp_code
from govserve.accounts.tests.factories import device_create, role_grant, staff_create
from govserve.audit.models import AuditEntry

pytestmark = pytest.mark.django_db

PASSWORD_LINK = re.compile(r"http://[^ \n]+(/staff/set-password/[A-Za-z0-9_-]{43})")
SET_UP_LINK = re.compile(r"http://[^ \n]+(/staff/set-up-authenticator/[A-Za-z0-9_-]{43})")
ENROL = "/staff/sign-in/set-up-authenticator"
NEW_PASSWORD = "a-long-and-unusual-passphrase-9"
NO_APP = "Your account has no authenticator app set up. Ask an administrator for a new set-up link."


def staff(*args: str) -> str:
    out = io.StringIO()
    call_command("staff", *args, stdout=out)
    return out.getvalue()


def _path(pattern: re.Pattern[str], text: str) -> str:
    match = pattern.search(text)
    assert match is not None, text
    return match.group(1)


def _actions(user: User) -> list[str]:
    return list(AuditEntry.objects.filter(subject_id=str(user.pk)).order_by("id").values_list("action", flat=True))


def _invite_and_set_password(client: Client, username: str = "newbie") -> tuple[User, object]:
    path = _path(PASSWORD_LINK, staff("invite", username, "--role", "city-council:reviewer"))
    response = client.post(path, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    return User.objects.get(username=username), response


# --- a password alone never enrols --------------------------------------------------------------


def test_a_password_sign_in_without_an_app_is_refused_with_a_clear_page_and_audited(
    client: Client, institution: Institution
) -> None:
    # given a member of staff with a password and no authenticator app
    user = staff_create(username="newcomer")
    role_grant(user=user, institution=institution, role="reviewer")
    # when someone signs in with the right password
    response = client.post("/staff/sign-in", {"username": "newcomer", "password": "correct-horse-battery-staple-42"})
    # then they are told to ask for a set-up link, and nothing opens
    assert response.status_code == 403
    body = response.content.decode()
    assert f"<title>{NO_APP}" in body
    assert "can only be set up from a one-time link that an administrator gives you" in body
    assert "gs.pending" not in client.session
    assert "gs.enrol" not in client.session
    assert "_auth_user_id" not in client.session
    # and the set-up page stays closed: no secret is ever shown or created
    assert client.get(ENROL)["Location"] == "/staff/sign-in"
    assert client.post(ENROL, {"code": "123456"})["Location"] == "/staff/sign-in"
    assert client.get("/staff/sign-in/code")["Location"] == "/staff/sign-in"
    assert not TOTPDevice.objects.filter(user=user).exists()
    entry = AuditEntry.objects.get(action="accounts.staff.sign_in_failed")
    assert (entry.subject_id, entry.outcome, entry.details) == (str(user.pk), "denied", {"reason": "mfa_not_set_up"})


def test_a_wrong_password_of_an_account_without_an_app_gets_the_usual_message(client: Client, db: None) -> None:
    staff_create(username="newcomer")

    response = client.post("/staff/sign-in", {"username": "newcomer", "password": "not-the-password"})

    assert response.status_code == 401
    body = response.content.decode()
    assert "Enter a correct username and password" in body
    assert "no authenticator app" not in body


def test_an_unconfirmed_app_left_over_does_not_open_the_set_up(client: Client, db: None) -> None:
    user = staff_create(username="halfway")
    device_create(user=user, confirmed=False)

    response = client.post("/staff/sign-in", {"username": "halfway", "password": "correct-horse-battery-staple-42"})

    assert response.status_code == 403
    assert client.get(ENROL)["Location"] == "/staff/sign-in"
    assert TOTPDevice.objects.filter(user=user, confirmed=True).count() == 0


def test_removing_the_app_between_the_two_steps_closes_the_code_step(client: Client, officer: Staff) -> None:
    client.post("/staff/sign-in", {"username": "officer", "password": officer.password})
    TOTPDevice.objects.filter(user=officer.user).delete()

    assert client.get("/staff/sign-in/code")["Location"] == "/staff/sign-in"
    assert client.get(ENROL)["Location"] == "/staff/sign-in"


# --- the invitation link -------------------------------------------------------------------------


def test_the_invitation_link_sets_the_password_then_sets_up_the_app_in_the_same_session(
    client: Client, institution: Institution
) -> None:
    # given an invitation link
    path = _path(PASSWORD_LINK, staff("invite", "newbie", "--role", "city-council:reviewer"))
    assert "you will set one up on your phone straight after this" in client.get(path).content.decode()
    # when the person sets a password with it
    response = client.post(path, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    # then they go straight on to set up their app, in this session only
    assert response["Location"] == ENROL
    user = User.objects.get(username="newbie")
    page = client.get(ENROL).content.decode()
    assert 'src="data:image/png;base64,' in page
    device = TOTPDevice.objects.get(user=user)
    assert device.confirmed is False
    shown = re.search(r'id="secret-key">([A-Z2-7 ]+)<', page)
    assert shown is not None
    assert shown.group(1).replace(" ", "") == base64.b32encode(device.bin_key).decode()
    # and reloading keeps the same secret (the app was scanned once)
    client.get(ENROL)
    assert TOTPDevice.objects.filter(user=user).count() == 1
    # when they confirm a code from the app
    response = client.post(ENROL, {"code": totp_code(device)})
    # then the app is confirmed and they are signed in, verified
    assert response["Location"] == "/staff/"
    device.refresh_from_db()
    assert device.confirmed is True
    assert client.get("/staff/").status_code == 200
    assert "gs.enrol" not in client.session
    link = StaffPasswordLink.objects.get(user=user)
    assert _actions(user) == [
        "accounts.staff.invited",
        "accounts.staff.password_set",
        "accounts.staff.mfa_enrolled",
        "accounts.staff.signed_in",
    ]
    enrolled = AuditEntry.objects.get(action="accounts.staff.mfa_enrolled")
    assert enrolled.details == {"device": device.persistent_id, "link": str(link.pk), "via": "invitation"}
    signed_in = AuditEntry.objects.get(action="accounts.staff.signed_in")
    assert signed_in.details == {"method": "link+totp-enrol", "mfa": True}
    # and the link works once
    assert client.get(path).status_code == 410


def test_another_browser_cannot_use_the_set_up_the_link_granted(client: Client, institution: Institution) -> None:
    user, _response = _invite_and_set_password(client)
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=user)
    # someone else who knows the new password signs in and tries the set-up page
    other = Client()
    refused = other.post("/staff/sign-in", {"username": "newbie", "password": NEW_PASSWORD})
    assert refused.status_code == 403

    assert other.get(ENROL)["Location"] == "/staff/sign-in"
    assert other.post(ENROL, {"code": totp_code(device)})["Location"] == "/staff/sign-in"
    device.refresh_from_db()
    assert device.confirmed is False
    assert "_auth_user_id" not in other.session


def test_a_wrong_code_keeps_the_app_unconfirmed_and_counts(client: Client, institution: Institution) -> None:
    user, _response = _invite_and_set_password(client)
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=user)
    wrong = f"{(int(totp_code(device)) + 7) % 1_000_000:06d}"

    response = client.post(ENROL, {"code": wrong})

    assert response.status_code == 401
    assert "The code is not correct" in response.content.decode()
    device.refresh_from_db()
    assert device.confirmed is False
    assert "_auth_user_id" not in client.session
    failure = AuditEntry.objects.get(action="accounts.staff.sign_in_failed")
    assert failure.details == {"reason": "invalid_enrolment_code"}
    # the grant is still there: the same secret is shown for the next try
    assert "gs.enrol" in client.session
    assert client.get(ENROL).status_code == 200
    assert TOTPDevice.objects.get(user=user).pk == device.pk


def test_the_set_up_time_runs_out(client: Client, clock: MovableClock, institution: Institution) -> None:
    user, _response = _invite_and_set_password(client)
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=user)
    clock.advance(minutes=15, seconds=1)

    response = client.post(ENROL, {"code": totp_code(device)})

    assert response.status_code == 403
    body = response.content.decode()
    assert "The time to set up your authenticator app has run out" in body
    assert "Ask an administrator for a new set-up link." in body
    device.refresh_from_db()
    assert device.confirmed is False
    assert "gs.enrol" not in client.session
    assert client.get(ENROL)["Location"] == "/staff/sign-in"


def test_a_deactivated_account_cannot_finish_its_set_up(client: Client, institution: Institution) -> None:
    user, _response = _invite_and_set_password(client)
    client.get(ENROL)
    staff("deactivate", "newbie")

    assert client.get(ENROL)["Location"] == "/staff/sign-in"
    assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def test_an_app_confirmed_elsewhere_ends_this_set_up(client: Client, institution: Institution) -> None:
    user, _response = _invite_and_set_password(client)
    client.get(ENROL)
    unconfirmed = TOTPDevice.objects.get(user=user)
    device_create(user=user, confirmed=True)

    response = client.post(ENROL, {"code": totp_code(unconfirmed)})

    assert response["Location"] == "/staff/sign-in"
    assert "_auth_user_id" not in client.session
    assert not AuditEntry.objects.filter(action="accounts.staff.mfa_enrolled").exists()


def test_a_password_reset_link_of_an_account_with_an_app_only_sets_the_password(client: Client, officer: Staff) -> None:
    path = _path(PASSWORD_LINK, staff("reset-password", "officer"))

    response = client.post(path, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})

    assert response.status_code == 200
    assert "Your password is set" in response.content.decode()
    assert "gs.enrol" not in client.session
    assert client.get(ENROL)["Location"] == "/staff/sign-in"
    assert TOTPDevice.objects.filter(user=officer.user).count() == 1


# --- reset-mfa and its set-up link --------------------------------------------------------------


def test_reset_mfa_issues_a_set_up_link_that_needs_the_password(client: Client, officer: Staff) -> None:
    # given an administrator reset the officer's app
    out = staff("reset-mfa", "officer")
    assert out.startswith("removed 1 authenticator device(s) of officer")
    assert "authenticator set-up link (works once, until " in out
    path = _path(SET_UP_LINK, out)
    assert not TOTPDevice.objects.filter(user=officer.user).exists()
    reset = AuditEntry.objects.get(action="accounts.staff.mfa_reset")
    link = StaffPasswordLink.objects.get(user=officer.user)
    assert (reset.actor_kind, reset.actor_id, reset.details) == (
        "system",
        "cli",
        {"devices_removed": 1, "link": str(link.pk), "link_purpose": "mfa_enrolment"},
    )
    # then a password sign-in no longer leads anywhere
    assert client.post("/staff/sign-in", {"username": "officer", "password": officer.password}).status_code == 403
    # when the officer opens the link, it asks for their password
    page = client.get(path)
    assert page.status_code == 200
    assert "removed the authenticator app from the account officer" in page.content.decode()
    # a wrong password is refused and keeps the link usable
    wrong = client.post(path, {"password": "not-the-password"})
    assert wrong.status_code == 401
    assert "Enter your correct password" in wrong.content.decode()
    assert client.get(ENROL)["Location"] == "/staff/sign-in"
    assert StaffPasswordLink.objects.get(pk=link.pk).used_at is None
    # the right password uses the link and opens the set-up
    response = client.post(path, {"password": officer.password})
    assert response["Location"] == ENROL
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=officer.user)
    assert client.post(ENROL, {"code": totp_code(device)})["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200
    enrolled = AuditEntry.objects.get(action="accounts.staff.mfa_enrolled")
    assert enrolled.details == {"device": device.persistent_id, "link": str(link.pk), "via": "mfa_enrolment"}
    used = AuditEntry.objects.get(action="accounts.staff.enrolment_link_used")
    assert used.details == {"link": str(link.pk)}
    failures = AuditEntry.objects.filter(action="accounts.staff.sign_in_failed").order_by("id")
    assert [entry.details for entry in failures] == [{"reason": "mfa_not_set_up"}, {"reason": "invalid_credentials"}]
    # and the link works once
    again = Client().get(path)
    assert again.status_code == 410
    assert "This link has already been used" in again.content.decode()


def test_the_set_up_link_alone_without_the_password_enrols_nothing(officer: Staff) -> None:
    path = _path(SET_UP_LINK, staff("reset-mfa", "officer"))
    stranger = Client()

    for _attempt in range(2):
        assert stranger.post(path, {"password": ""}).status_code == 400
    response = stranger.post(path, {"password": "guess-1"})

    assert response.status_code == 401
    assert stranger.get(ENROL)["Location"] == "/staff/sign-in"
    assert not TOTPDevice.objects.filter(user=officer.user).exists()
    failures = AuditEntry.objects.filter(action="accounts.staff.sign_in_failed").order_by("id")
    assert [entry.details for entry in failures] == [{"reason": "invalid_credentials"}]


def test_link_kinds_are_not_interchangeable(client: Client, officer: Staff, institution: Institution) -> None:
    set_up = _path(SET_UP_LINK, staff("reset-mfa", "officer")).rsplit("/", 1)[1]
    invited = _path(PASSWORD_LINK, staff("invite", "newbie")).rsplit("/", 1)[1]

    as_password = client.post(
        f"/staff/set-password/{set_up}", {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
    )
    as_set_up = client.post(f"/staff/set-up-authenticator/{invited}", {"password": NEW_PASSWORD})

    assert as_password.status_code == 404
    assert as_set_up.status_code == 404
    officer.user.refresh_from_db()
    assert officer.user.check_password(officer.password)
    assert User.objects.get(username="newbie").has_usable_password() is False
    assert StaffPasswordLink.objects.filter(used_at__isnull=False).count() == 0


def test_reset_mfa_of_an_account_without_a_password_issues_a_set_password_link(
    client: Client, institution: Institution
) -> None:
    invitation = _path(PASSWORD_LINK, staff("invite", "newbie"))

    out = staff("reset-mfa", "newbie")

    path = _path(PASSWORD_LINK, out)
    assert "set-password link (works once" in out
    # the invitation link it replaced no longer works
    assert client.get(invitation).status_code == 410
    assert client.post(path, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})["Location"] == ENROL
    assert AuditEntry.objects.get(action="accounts.staff.mfa_reset").details["link_purpose"] == "reset"


def test_an_expired_set_up_link_is_refused(client: Client, clock: MovableClock, officer: Staff) -> None:
    path = _path(SET_UP_LINK, staff("reset-mfa", "officer"))
    clock.advance(hours=72, seconds=1)

    response = client.post(path, {"password": officer.password})

    assert response.status_code == 410
    assert "This link has expired" in response.content.decode()
    assert client.get(ENROL)["Location"] == "/staff/sign-in"


def test_reset_mfa_can_email_the_set_up_link(officer: Staff) -> None:
    out = staff("reset-mfa", "officer", "--send-email")

    assert f"emailed to {officer.user.email}" in out
    [email] = sent_emails()
    assert (email.recipient, email.template) == (officer.user.email, "accounts_staff_mfa_enrolment")
    assert _path(SET_UP_LINK, out) in email.body
    assert "You will be asked for your password" in email.body


def test_reset_mfa_cannot_email_without_an_address_and_changes_nothing(officer: Staff) -> None:
    User.objects.filter(pk=officer.user.pk).update(email="")

    with pytest.raises(Exception, match="officer has no email address to send the link to"):
        staff("reset-mfa", "officer", "--send-email")

    assert TOTPDevice.objects.filter(user=officer.user, confirmed=True).count() == 1
    assert not StaffPasswordLink.objects.filter(user=officer.user).exists()
    assert not AuditEntry.objects.filter(action="accounts.staff.mfa_reset").exists()


def test_a_signed_in_officer_whose_app_was_reset_signs_in_again_only_through_the_link(
    client: Client, signed_in_officer: Staff
) -> None:
    path = _path(SET_UP_LINK, staff("reset-mfa", "officer"))

    assert client.get("/staff/")["Location"].startswith("/staff/sign-in")
    client.post(path, {"password": signed_in_officer.password})
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=signed_in_officer.user)
    client.post(ENROL, {"code": totp_code(device)})
    signed_in_officer.device = device
    client.post("/staff/sign-out")
    sign_in(client, signed_in_officer)
    assert client.get("/staff/").status_code == 200

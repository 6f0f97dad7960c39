"""``govserve staff``: invite, roles, deactivate, reset MFA and password, list; each audited as system:cli."""

from __future__ import annotations

import datetime
import io
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from govserve.accounts.models import Institution, RoleAssignment, StaffPasswordLink, User
from govserve.accounts.tests.conftest import MovableClock, Staff, totp_code
from govserve.accounts.tests.factories import unit_create
from govserve.audit.models import AuditEntry

pytestmark = pytest.mark.django_db

LINK = re.compile(r"http://[^ \n]+/staff/set-password/([A-Za-z0-9_-]{43})")
PASSWORD = "a-long-and-unusual-passphrase-9"


def staff(*args: str) -> str:
    out = io.StringIO()
    call_command("staff", *args, stdout=out)
    return out.getvalue()


def _cli_entries(action: str) -> list[tuple[str, str, dict[str, object]]]:
    return [(e.actor_kind, e.actor_id, e.details) for e in AuditEntry.objects.filter(action=action).order_by("id")]


def test_invite_creates_an_account_without_password_and_prints_a_one_time_link(institution: Institution) -> None:
    unit_create(institution=institution, code="licensing", name="Licensing")

    out = staff(
        "invite",
        "jo.bloggs",
        "--email",
        "jo@westmoor.gov.uk",
        "--first-name",
        "Jo",
        "--last-name",
        "Bloggs",
        "--unit",
        "city-council/licensing",
        "--role",
        "city-council:licensing_officer",
        "--role",
        "city-council:analyst",
    )

    user = User.objects.get(username="jo.bloggs")
    assert user.has_usable_password() is False
    assert str(user.unit) == "city-council/licensing"
    assert sorted(user.role_assignments.values_list("role", flat=True)) == ["analyst", "licensing_officer"]
    match = LINK.search(out)
    assert match is not None
    link = StaffPasswordLink.objects.get(user=user)
    assert match.group(1) not in link.token_hash  # only the hash is stored
    assert _cli_entries("accounts.staff.invited") == [
        (
            "system",
            "cli",
            {
                "roles": ["city-council:analyst", "city-council:licensing_officer"],
                "unit": "city-council/licensing",
                "is_supplier": False,
            },
        )
    ]


def test_the_invitation_link_sets_the_password_then_sets_up_mfa(client: Client, institution: Institution) -> None:
    out = staff("invite", "newbie", "--role", "city-council:reviewer")
    token = LINK.search(out).group(1)  # type: ignore[union-attr]

    assert client.get(f"/staff/set-password/{token}").status_code == 200
    response = client.post(f"/staff/set-password/{token}", {"password": PASSWORD, "password_confirm": PASSWORD})
    assert response["Location"] == "/staff/sign-in/set-up-authenticator"
    client.get(response["Location"])
    device = TOTPDevice.objects.get(user__username="newbie")
    assert client.post(response["Location"], {"code": totp_code(device)})["Location"] == "/staff/"
    assert User.objects.get(username="newbie").check_password(PASSWORD)
    # the link works once
    again = client.get(f"/staff/set-password/{token}")
    assert again.status_code == 410
    assert "This link has already been used" in again.content.decode()


def test_a_tampered_or_expired_set_password_link_is_refused(
    client: Client, clock: MovableClock, institution: Institution
) -> None:
    token = LINK.search(staff("invite", "late")).group(1)  # type: ignore[union-attr]
    tampered = ("A" if token[0] != "A" else "B") + token[1:]

    response = client.get(f"/staff/set-password/{tampered}")
    assert response.status_code == 404
    assert "This link is not valid" in response.content.decode()

    clock.advance(hours=72, seconds=1)
    response = client.post(f"/staff/set-password/{token}", {"password": PASSWORD, "password_confirm": PASSWORD})
    assert response.status_code == 410
    assert "This link has expired" in response.content.decode()
    assert User.objects.get(username="late").has_usable_password() is False


def test_a_weak_password_keeps_the_link_usable(client: Client, institution: Institution) -> None:
    token = LINK.search(staff("invite", "weak")).group(1)  # type: ignore[union-attr]

    response = client.post(
        f"/staff/set-password/{token}", {"password": "password123", "password_confirm": "password123"}
    )

    assert response.status_code == 400
    assert "This password is too short" in response.content.decode()
    assert StaffPasswordLink.objects.get(user__username="weak").used_at is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["invite", "bad name!"], "A username has 1 to 150 letters, digits and @ . + - _ only"),
        (["invite", "x", "--email", "not-an-email"], "Enter an email address in the correct format"),
        (["invite", "x", "--role", "nowhere:reviewer"], "There is no institution with the code nowhere"),
        (["invite", "x", "--role", "city-council:Bad Role"], "A role is a lower-case id"),
        (["invite", "x", "--unit", "city-council/missing"], "city-council has no unit with the code missing"),
        (["invite", "x", "--supplier"], "A supplier account needs an access expiry date in the future"),
        (["invite", "officer"], "The username officer is taken"),
    ],
)
def test_invite_refuses_bad_input_and_creates_nothing(officer: Staff, args: list[str], message: str) -> None:
    users_before = User.objects.count()

    with pytest.raises(CommandError, match=re.escape(message)):
        staff(*args)

    assert User.objects.count() == users_before
    assert not AuditEntry.objects.filter(action="accounts.staff.invited").exists()


def test_invite_refuses_a_malformed_role_argument(institution: Institution) -> None:
    with pytest.raises(CommandError, match="expected INSTITUTION:ROLE, like city-council:licensing_officer"):
        staff("invite", "x", "--role", "reviewer")


def test_a_supplier_invitation_records_the_expiry(institution: Institution) -> None:
    staff("invite", "vendor", "--supplier", "--expires", "2099-03-31", "--role", "city-council:analyst")

    user = User.objects.get(username="vendor")
    assert user.is_supplier is True
    assert user.access_expires_at == datetime.datetime(2099, 3, 31, 23, 0, tzinfo=datetime.UTC)  # midnight BST


def test_assign_and_remove_role(officer: Staff) -> None:
    assert staff("assign-role", "officer", "city-council", "reviewer") == (
        "officer now holds reviewer in city-council\n"
    )
    assert RoleAssignment.objects.filter(user=officer.user, role="reviewer").exists()

    staff("remove-role", "officer", "city-council", "reviewer")

    assert not RoleAssignment.objects.filter(user=officer.user, role="reviewer").exists()
    assert _cli_entries("accounts.role.assigned") == [
        ("system", "cli", {"institution": "city-council", "role": "reviewer"})
    ]
    assert _cli_entries("accounts.role.removed") == [
        ("system", "cli", {"institution": "city-council", "role": "reviewer"})
    ]


def test_role_changes_refuse_what_makes_no_sense(officer: Staff) -> None:
    with pytest.raises(CommandError, match="officer already holds licensing_officer in city-council"):
        staff("assign-role", "officer", "city-council", "licensing_officer")
    with pytest.raises(CommandError, match="officer does not hold auditor in city-council"):
        staff("remove-role", "officer", "city-council", "auditor")
    with pytest.raises(CommandError, match="There is no staff user with the username ghost"):
        staff("assign-role", "ghost", "city-council", "auditor")

    assert list(officer.user.role_assignments.values_list("role", flat=True)) == ["licensing_officer"]
    assert not AuditEntry.objects.filter(action__startswith="accounts.role.").exists()


def test_deactivate(officer: Staff) -> None:
    assert staff("deactivate", "officer") == "officer deactivated\n"
    assert staff("deactivate", "officer") == "officer was already inactive\n"

    officer.user.refresh_from_db()
    assert officer.user.is_active is False
    assert len(_cli_entries("accounts.staff.deactivated")) == 1


def test_reset_mfa_removes_the_app_and_prints_a_set_up_link(client: Client, officer: Staff) -> None:
    out = staff("reset-mfa", "officer")

    assert out.startswith("removed 1 authenticator device(s) of officer")
    assert re.search(r"http://[^ \n]+/staff/set-up-authenticator/[A-Za-z0-9_-]{43}", out) is not None
    assert not TOTPDevice.objects.filter(user=officer.user).exists()
    response = client.post("/staff/sign-in", {"username": "officer", "password": officer.password})
    assert response.status_code == 403
    link = StaffPasswordLink.objects.get(user=officer.user)
    assert _cli_entries("accounts.staff.mfa_reset") == [
        ("system", "cli", {"devices_removed": 1, "link": str(link.pk), "link_purpose": "mfa_enrolment"})
    ]


def test_reset_password_issues_a_new_link_and_the_old_one_stops_working(
    client: Client, institution: Institution
) -> None:
    first = LINK.search(staff("invite", "forgetful")).group(1)  # type: ignore[union-attr]

    second = LINK.search(staff("reset-password", "forgetful")).group(1)  # type: ignore[union-attr]

    assert client.get(f"/staff/set-password/{first}").status_code == 410
    assert client.get(f"/staff/set-password/{second}").status_code == 200


def test_list_shows_accounts_and_roles(officer: Staff, administrator: Staff) -> None:
    out = staff("list", "--institution", "city-council")

    lines = out.splitlines()
    assert lines[0].split() == ["username", "status", "unit", "roles"]
    assert lines[1].split() == ["admin", "active", "-", "city-council:administrator"]
    assert lines[2].split() == ["officer", "active", "-", "city-council:licensing_officer"]
    with pytest.raises(CommandError, match="There is no institution with the code atlantis"):
        staff("list", "--institution", "atlantis")


def test_invite_can_email_the_link(institution: Institution) -> None:
    from govserve.accounts.tests.conftest import sent_emails  # noqa: PLC0415

    out = staff("invite", "mailed", "--email", "mailed@westmoor.gov.uk", "--send-email")

    assert "emailed to mailed@westmoor.gov.uk" in out
    [email] = sent_emails()
    assert (email.recipient, email.template) == ("mailed@westmoor.gov.uk", "accounts_staff_invitation")
    assert LINK.search(out).group(0) in email.body  # type: ignore[union-attr]


def test_invite_cannot_email_without_an_address(institution: Institution) -> None:
    with pytest.raises(CommandError, match="mailed has no email address to send the link to"):
        staff("invite", "mailed", "--send-email")

    assert not User.objects.filter(username="mailed").exists()


def test_expired_links_are_purged_after_a_week(clock: MovableClock, institution: Institution) -> None:
    from govserve.accounts.services import one_time_links_purge  # noqa: PLC0415

    staff("invite", "old")
    clock.advance(hours=72 + 24 * 7, seconds=1)
    staff("invite", "recent")

    assert one_time_links_purge() == 1
    assert list(StaffPasswordLink.objects.values_list("user__username", flat=True)) == ["recent"]

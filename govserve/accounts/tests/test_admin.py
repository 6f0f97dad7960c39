"""The Django admin: administrators only, OTP-verified sessions only, every change audited."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from govserve.accounts.models import Institution
from govserve.accounts.tests.conftest import MovableClock, Staff, fresh_code, sign_in
from govserve.accounts.tests.factories import institution_create, role_grant, staff_create
from govserve.audit.models import AuditEntry

pytestmark = pytest.mark.django_db

ADMIN = "/staff/admin/"


def _institution_form(institution: Institution, **changes: str) -> dict[str, str]:
    data = {
        "code": institution.code,
        "name": institution.name,
        "name_cy": institution.name_cy,
        "holiday_country": institution.holiday_country,
        "holiday_subdivision": institution.holiday_subdivision,
        "is_active": "on",
    }
    for prefix in ("units", "holiday_overrides"):
        data |= {
            f"{prefix}-TOTAL_FORMS": "0",
            f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-MIN_NUM_FORMS": "0",
            f"{prefix}-MAX_NUM_FORMS": "1000",
        }
    return data | changes


def test_anonymous_visitors_are_sent_to_staff_sign_in(client: Client) -> None:
    response = client.get(ADMIN, follow=True)

    assert response.redirect_chain[-1] == ("/staff/sign-in?next=%2Fstaff%2Fadmin%2F", 302)


def test_staff_without_the_administrator_role_are_refused(client: Client, signed_in_officer: Staff) -> None:
    response = client.get(ADMIN, follow=True)

    assert response.status_code == 403
    assert "The platform administration is only for staff with the administrator role" in response.content.decode()


@override_settings(GOVSERVE_STAFF_MFA_REQUIRED=False)
def test_an_administrator_without_an_otp_verified_session_is_refused(client: Client, institution: Institution) -> None:
    # given an administrator without an authenticator app, signed in with a password alone
    user = staff_create(username="no-mfa-admin")
    role_grant(user=user, institution=institution, role="administrator")
    response = client.post(
        "/staff/sign-in", {"username": "no-mfa-admin", "password": "correct-horse-battery-staple-42"}
    )
    assert response["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200
    # when they open the admin
    response = client.get(ADMIN, follow=True)
    # then it refuses them
    assert response.status_code == 403
    assert "needs you to sign in with your authenticator app" in response.content.decode()


def test_a_session_opened_without_the_staff_sign_in_is_refused(client: Client, administrator: Staff) -> None:
    client.force_login(administrator.user)

    response = client.get(ADMIN)

    assert response.status_code == 302
    assert response["Location"].startswith("/staff/admin/login/")


def test_an_administrator_with_an_otp_verified_session_gets_in(client: Client, signed_in_administrator: Staff) -> None:
    response = client.get(ADMIN)

    assert response.status_code == 200
    assert "Platform administration" in response.content.decode()
    assert client.get("/staff/admin/accounts/user/").status_code == 200


def test_removing_the_role_closes_the_admin_at_once(client: Client, signed_in_administrator: Staff) -> None:
    signed_in_administrator.user.role_assignments.all().delete()

    assert client.get(ADMIN, follow=True).status_code == 403


def test_admin_changes_are_audited(client: Client, signed_in_administrator: Staff) -> None:
    institution = signed_in_administrator.institution
    url = f"/staff/admin/accounts/institution/{institution.pk}/change/"

    response = client.post(url, _institution_form(institution, name="Westmoor Borough Council"))

    assert response.status_code == 302, response.content.decode()[:3000]
    institution.refresh_from_db()
    assert institution.name == "Westmoor Borough Council"
    entry = AuditEntry.objects.get(action="accounts.admin.changed")
    assert entry.actor_id == str(signed_in_administrator.user.pk)
    assert (entry.subject_type, entry.subject_id) == ("accounts.institution", str(institution.pk))
    assert entry.details == {"fields": ["Name"]}


def test_admin_additions_and_deletions_are_audited(client: Client, signed_in_administrator: Staff) -> None:
    # addition
    blank = Institution(code="harbour-board", name="Harbour Board", holiday_country="GB", holiday_subdivision="ENG")
    response = client.post("/staff/admin/accounts/institution/add/", _institution_form(blank))
    assert response.status_code == 302, response.content.decode()[:3000]
    added = Institution.objects.get(code="harbour-board")
    assert AuditEntry.objects.filter(
        action="accounts.admin.added", subject_type="accounts.institution", subject_id=str(added.pk)
    ).exists()
    # deletion
    response = client.post(f"/staff/admin/accounts/institution/{added.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Institution.objects.filter(code="harbour-board").exists()
    deleted = AuditEntry.objects.get(action="accounts.admin.deleted")
    assert (deleted.subject_type, deleted.subject_id) == ("accounts.institution", str(added.pk))


def test_a_non_administrator_cannot_post_changes(client: Client, signed_in_officer: Staff) -> None:
    institution = signed_in_officer.institution

    response = client.post(
        f"/staff/admin/accounts/institution/{institution.pk}/change/", _institution_form(institution, name="Hijacked")
    )

    assert response.status_code in {302, 403}
    institution.refresh_from_db()
    assert institution.name == "Westmoor City Council"
    assert not AuditEntry.objects.filter(action__startswith="accounts.admin.").exists()


def test_setting_someone_elses_password_needs_a_recent_re_authentication(
    client: Client, clock: MovableClock, signed_in_administrator: Staff
) -> None:
    other = staff_create(username="colleague")
    url = f"/staff/admin/accounts/user/{other.pk}/password/"
    assert client.get(url).status_code == 200

    clock.advance(minutes=6)
    response = client.get(url)

    assert (
        response["Location"]
        == f"/staff/confirm-it-is-you?next=%2Fstaff%2Fadmin%2Faccounts%2Fuser%2F{other.pk}%2Fpassword%2F"
    )
    client.post(
        "/staff/confirm-it-is-you",
        {"password": signed_in_administrator.password, "code": fresh_code(signed_in_administrator.device)},
    )
    assert client.get(url).status_code == 200


def test_the_admin_lists_citizens_without_any_personal_value(client: Client, signed_in_administrator: Staff) -> None:
    response = client.get("/staff/admin/accounts/citizen/")

    assert response.status_code == 200
    assert client.get("/staff/admin/accounts/citizen/add/").status_code == 403


def test_sign_in_then_admin_returns_to_the_admin(client: Client, administrator: Staff) -> None:
    institution_create(code="other-body")
    sign_in(client, administrator, next_url="/staff/admin/")

    assert client.get(ADMIN).status_code == 200

"""The Django admin: administrators only, OTP-verified sessions only, every change audited."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from govserve.accounts import citizens
from govserve.accounts.models import Institution
from govserve.accounts.tests.conftest import MovableClock, Staff, fresh_code, sign_in
from govserve.accounts.tests.factories import device_create, institution_create, role_grant, staff_create
from govserve.audit.events import event_type
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


# --- reads of personal data ----------------------------------------------------------------------------


def _views() -> list[tuple[str, str, dict[str, object]]]:
    return [
        (entry.subject_type, entry.subject_id, entry.details)
        for entry in AuditEntry.objects.filter(action="accounts.admin.viewed").order_by("id")
    ]


def test_viewing_is_a_registered_read_of_personal_data() -> None:
    assert event_type("accounts.admin.viewed").reads_personal_data is True


def test_a_list_page_of_staff_is_audited_with_the_ids_it_showed(client: Client, signed_in_administrator: Staff) -> None:
    # given another member of staff
    colleague = staff_create(username="colleague", first_name="Grace", last_name="Hopper")
    # when the administrator opens the staff list
    response = client.get("/staff/admin/accounts/user/")
    # then one read is recorded, with the ids on the page and nothing else
    assert response.status_code == 200
    [(subject_type, subject_id, details)] = _views()
    assert (subject_type, subject_id) == ("accounts.user", "")
    assert details == {
        "model": "accounts.user",
        "view": "list",
        "object_ids": [str(signed_in_administrator.user.pk), str(colleague.pk)],  # by username: admin, colleague
        "searched": False,
    }
    entry = AuditEntry.objects.get(action="accounts.admin.viewed")
    assert entry.actor_id == str(signed_in_administrator.user.pk)


def test_a_search_is_recorded_as_a_search_without_the_text_typed(
    client: Client, signed_in_administrator: Staff
) -> None:
    colleague = staff_create(username="colleague", first_name="Grace", last_name="Hopper")

    client.get("/staff/admin/accounts/user/", {"q": "Hopper"})

    [(_type, _id, details)] = _views()
    assert details == {"model": "accounts.user", "view": "list", "object_ids": [str(colleague.pk)], "searched": True}
    assert "Hopper" not in str(AuditEntry.objects.get(action="accounts.admin.viewed").details)


def test_a_change_form_of_a_person_is_audited_with_its_id_never_values(
    client: Client, signed_in_administrator: Staff
) -> None:
    colleague = staff_create(username="colleague", email="grace@westmoor.gov.uk")
    citizen = citizens.citizen_create(email="ada@example.org")

    assert client.get(f"/staff/admin/accounts/user/{colleague.pk}/change/").status_code == 200
    assert client.get(f"/staff/admin/accounts/citizen/{citizen.pk}/change/").status_code == 200

    assert _views() == [
        ("accounts.user", str(colleague.pk), {"model": "accounts.user", "view": "change"}),
        ("accounts.citizen", str(citizen.pk), {"model": "accounts.citizen", "view": "change"}),
    ]


def test_a_delete_confirmation_is_audited_like_a_read(client: Client, signed_in_administrator: Staff) -> None:
    colleague = staff_create(username="colleague")

    assert client.get(f"/staff/admin/accounts/user/{colleague.pk}/delete/").status_code == 200

    assert _views() == [("accounts.user", str(colleague.pk), {"model": "accounts.user", "view": "delete"})]


def test_pages_that_show_no_personal_data_are_not_recorded_as_reads(
    client: Client, signed_in_administrator: Staff
) -> None:
    institution = signed_in_administrator.institution

    assert client.get("/staff/admin/accounts/institution/").status_code == 200
    assert client.get(f"/staff/admin/accounts/institution/{institution.pk}/change/").status_code == 200
    assert client.get("/staff/admin/").status_code == 200
    assert client.get("/staff/admin/accounts/user/add/").status_code == 200

    assert _views() == []


def test_an_unknown_object_or_a_refused_visitor_shows_nothing_and_records_nothing(
    client: Client, signed_in_officer: Staff
) -> None:
    other = Client()
    admin = staff_create(username="second-admin")
    role_grant(user=admin, institution=signed_in_officer.institution, role="administrator")
    admin_staff = Staff(user=admin, device=device_create(user=admin), institution=signed_in_officer.institution)
    sign_in(other, admin_staff)

    assert other.get("/staff/admin/accounts/user/00000000-0000-0000-0000-000000000000/change/").status_code == 302
    assert client.get("/staff/admin/accounts/user/", follow=True).status_code == 403
    assert client.get(f"/staff/admin/accounts/user/{admin.pk}/change/", follow=True).status_code == 403

    assert _views() == []


def test_saving_a_change_is_audited_as_a_change_not_a_read(client: Client, signed_in_administrator: Staff) -> None:
    citizen = citizens.citizen_create(email="ada@example.org")

    response = client.post(
        f"/staff/admin/accounts/citizen/{citizen.pk}/change/",
        {"is_active": ""},
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert _views() == []
    changed = AuditEntry.objects.get(action="accounts.admin.changed")
    assert (changed.subject_type, changed.subject_id) == ("accounts.citizen", str(citizen.pk))

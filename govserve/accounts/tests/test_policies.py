"""Permission policies and the selectors that apply them."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser

from govserve.accounts import errors, policies, selectors, services
from govserve.accounts.models import Institution, SupplierScope, User
from govserve.accounts.tests.conftest import MovableClock, Staff
from govserve.accounts.tests.factories import institution_create, role_grant, staff_create
from govserve.audit.actors import Actor

pytestmark = pytest.mark.django_db


def test_a_role_counts_only_in_its_institution(officer: Staff) -> None:
    other = institution_create(code="health-agency")

    assert policies.can_act_in_role(officer.user, "city-council", "licensing_officer") is True
    assert policies.can_act_in_role(officer.user, officer.institution, "licensing_officer") is True
    assert policies.can_act_in_role(officer.user, other, "licensing_officer") is False
    assert policies.can_act_in_role(officer.user, "city-council", "administrator") is False
    assert selectors.staff_has_role(officer.user, "city-council", "licensing_officer") is True
    assert selectors.staff_has_role(officer.user, "health-agency", "licensing_officer") is False


def test_can_view_institution_needs_a_role_there(officer: Staff) -> None:
    other = institution_create(code="health-agency")

    assert policies.can_view_institution(officer.user, "city-council") is True
    assert policies.can_view_institution(officer.user, other) is False


def test_anonymous_and_inactive_accounts_can_do_nothing(officer: Staff) -> None:
    assert policies.can_act_in_role(AnonymousUser(), "city-council", "licensing_officer") is False
    User.objects.filter(pk=officer.user.pk).update(is_active=False)
    officer.user.refresh_from_db()

    assert policies.can_act_in_role(officer.user, "city-council", "licensing_officer") is False
    assert policies.can_view_institution(officer.user, "city-council") is False
    assert selectors.staff_roles_for_user(officer.user) == []


def test_an_expired_supplier_can_do_nothing(officer: Staff, clock: MovableClock) -> None:
    officer.user.is_supplier = True
    officer.user.access_expires_at = clock.current + datetime.timedelta(hours=1)
    SupplierScope.objects.create(user=officer.user).institutions.set([officer.institution])
    assert policies.can_act_in_role(officer.user, "city-council", "licensing_officer") is True

    clock.advance(hours=1)

    assert policies.can_act_in_role(officer.user, "city-council", "licensing_officer") is False
    assert policies.can_use_admin(officer.user) is False


def test_a_supplier_without_an_end_date_has_no_access(officer: Staff) -> None:
    officer.user.is_supplier = True
    officer.user.access_expires_at = None

    assert policies.supplier_access_current(officer.user) is False


def test_a_role_in_an_inactive_institution_does_not_count(officer: Staff) -> None:
    Institution.objects.filter(pk=officer.institution.pk).update(is_active=False)

    assert policies.can_act_in_role(officer.user, "city-council", "licensing_officer") is False


def test_role_changes_through_services_are_seen_at_once(officer: Staff) -> None:
    assert policies.can_act_in_role(officer.user, "city-council", "reviewer") is False

    services.role_assign(actor=Actor.system("cli"), user=officer.user, institution_code="city-council", role="reviewer")

    assert policies.can_act_in_role(officer.user, "city-council", "reviewer") is True


def test_only_an_institutions_administrator_lists_its_staff(officer: Staff, administrator: Staff) -> None:
    other = institution_create(code="health-agency")
    stranger = staff_create(username="stranger")
    role_grant(user=stranger, institution=other, role="administrator")

    listed = [
        user.username for user in selectors.staff_list(viewer=administrator.user, institution_code="city-council")
    ]
    assert listed == ["admin", "officer"]
    for viewer, code in ((officer.user, "city-council"), (stranger, "city-council"), (administrator.user, None)):
        with pytest.raises(errors.AccountsPermissionDeniedError):
            selectors.staff_list(viewer=viewer, institution_code=code)


def test_staff_roles_for_user_labels_platform_and_flow_roles(officer: Staff) -> None:
    role_grant(user=officer.user, institution=officer.institution, role="auditor")

    roles = selectors.staff_roles_for_user(officer.user)

    assert [(r.institution_code, r.role, r.label) for r in roles] == [
        ("city-council", "auditor", "Auditor"),
        ("city-council", "licensing_officer", "Licensing officer"),
    ]


def test_staff_read_a_citizens_email_only_for_their_institution_and_it_is_audited(
    officer: Staff, clock: MovableClock
) -> None:
    from govserve.accounts.citizens import citizen_create  # noqa: PLC0415
    from govserve.audit.models import AuditEntry  # noqa: PLC0415

    citizen = citizen_create(email="applicant@example.org")
    institution_create(code="health-agency")

    email = selectors.citizen_email_for_staff(
        viewer=officer.user, citizen=citizen, institution_code="city-council", purpose="casework"
    )

    assert email == "applicant@example.org"
    entry = AuditEntry.objects.get(action="accounts.citizen.email_read")
    assert (entry.actor_id, entry.subject_id, entry.details) == (
        str(officer.user.pk),
        str(citizen.id),
        {"institution": "city-council", "purpose": "casework"},
    )
    with pytest.raises(errors.AccountsPermissionDeniedError):
        selectors.citizen_email_for_staff(
            viewer=officer.user, citizen=citizen, institution_code="health-agency", purpose="casework"
        )
    assert AuditEntry.objects.filter(action="accounts.citizen.email_read").count() == 1


def test_django_permissions_follow_platform_roles(officer: Staff, administrator: Staff) -> None:
    auditor = staff_create(username="auditor")
    role_grant(user=auditor, institution=officer.institution, role="auditor")

    assert administrator.user.has_perm("accounts.change_institution") is True
    assert administrator.user.has_perm("audit.view_auditentry") is True
    assert auditor.has_perm("audit.view_auditentry") is True
    assert auditor.has_perm("audit.change_auditentry") is False
    assert auditor.has_module_perms("audit") is True
    assert auditor.has_module_perms("accounts") is False
    assert officer.user.has_perm("audit.view_auditentry") is False
    assert officer.user.has_perm("accounts.change_institution") is False
    auditor.is_active = False
    assert auditor.has_perm("audit.view_auditentry") is False

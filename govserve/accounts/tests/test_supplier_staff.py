"""Supplier staff (issue 8): time-limited, scoped to named institutions and services, marked in audit, reported.

Casework's part of the scope (a supplier limited to named services sees and
acts on only their tasks) is tested here too, through the real workspace
pages, because the scope is an accounts concept that casework applies.
"""

from __future__ import annotations

import datetime
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from govserve.accounts import policies, selectors, services
from govserve.accounts.errors import AccountsPermissionDeniedError
from govserve.accounts.models import Institution, RoleAssignment, SupplierScope, User
from govserve.accounts.tests.conftest import MovableClock, Staff, sign_in
from govserve.accounts.tests.factories import device_create, institution_create, role_grant, staff_create
from govserve.audit.actors import Actor
from govserve.audit.models import AuditEntry
from govserve.core.errors import ValidationError

CLI = Actor.system("cli")


def _supplier(
    institution: Institution,
    clock: MovableClock,
    *,
    role: str = "licensing_officer",
    services_: tuple[str, ...] = (),
    company: str = "Acme Digital",
    username: str = "vendor",
) -> Staff:
    services.staff_invite(
        actor=CLI,
        username=username,
        first_name="Val",
        last_name="Vendor",
        roles=[(institution.code, role)],
        is_supplier=True,
        access_expires_at=clock.current + datetime.timedelta(days=1),
        supplier_company=company,
        supplier_services=services_,
    )
    user = User.objects.get(username=username)
    user.set_password("correct horse battery staple 1")
    user.save()
    return Staff(
        user=user, device=device_create(user=user), institution=institution, password="correct horse battery staple 1"
    )


@pytest.fixture
def other(db: None) -> Institution:
    return institution_create(code="other-council", name="Other Council")


# --- scope ---------------------------------------------------------------------------------------------------


def test_an_invited_supplier_is_scoped_to_the_institutions_of_its_roles(
    institution: Institution, clock: MovableClock
) -> None:
    vendor = _supplier(institution, clock, services_=("street-trading-licence",))

    scope = SupplierScope.objects.get(user=vendor.user)
    assert [i.code for i in scope.institutions.all()] == ["city-council"]
    assert scope.services == ["street-trading-licence"]
    assert scope.company == "Acme Digital"
    assert policies.can_act_in_role(vendor.user, "city-council", "licensing_officer") is True
    assert policies.service_scope(vendor.user) == frozenset({"street-trading-licence"})


def test_a_supplier_role_outside_its_institutions_counts_for_nothing(
    institution: Institution, other: Institution, clock: MovableClock
) -> None:
    vendor = _supplier(institution, clock)
    role_grant(user=vendor.user, institution=other, role="administrator")
    policies.forget_roles(vendor.user)

    assert policies.can_act_in_role(vendor.user, "other-council", "administrator") is False
    assert policies.can_view_institution(vendor.user, "other-council") is False
    assert policies.can_use_admin(vendor.user) is False
    assert policies.can_act_in_role(vendor.user, "city-council", "licensing_officer") is True


def test_a_supplier_without_a_scope_reaches_nothing(institution: Institution, clock: MovableClock) -> None:
    user = staff_create(
        username="unscoped", is_supplier=True, access_expires_at=clock.current + datetime.timedelta(days=1)
    )
    role_grant(user=user, institution=institution, role="administrator")

    assert policies.account_usable(user) is True  # they may sign in: there is nothing to see
    assert policies.roles_of(user) == frozenset()
    assert policies.can_manage_staff(user, institution) is False


def test_a_civil_servant_is_not_limited_by_supplier_scopes(officer: Staff) -> None:
    assert policies.service_scope(officer.user) is None
    assert policies.can_act_in_role(officer.user, "city-council", "licensing_officer") is True


def test_setting_a_scope_replaces_it_audited_and_refuses_bad_input(
    institution: Institution, other: Institution, clock: MovableClock
) -> None:
    vendor = _supplier(institution, clock)

    services.supplier_scope_set(
        actor=CLI, user=vendor.user, institutions=["other-council"], services=["report-street-light"]
    )

    assert policies.roles_of(vendor.user) == frozenset()  # its roles are in city-council, now out of reach
    entry = AuditEntry.objects.filter(action="accounts.supplier.scope_set").get()
    assert entry.details["supplier_institutions"] == ["other-council"]
    assert entry.details["supplier_services"] == ["report-street-light"]
    for kwargs, code in (
        ({"institutions": []}, "supplier_institutions_required"),
        ({"institutions": ["city-council"], "services": ["Not A Service"]}, "supplier_service_invalid"),
        ({"institutions": ["city-council"], "access_expires_at": clock.current}, "supplier_expiry_required"),
    ):
        with pytest.raises(ValidationError) as refused:
            services.supplier_scope_set(actor=CLI, user=vendor.user, **kwargs)
        assert refused.value.code == code
    assert SupplierScope.objects.get(user=vendor.user).services == ["report-street-light"]


def test_a_civil_servant_has_no_supplier_scope_to_set(officer: Staff) -> None:
    with pytest.raises(ValidationError) as refused:
        services.supplier_scope_set(actor=CLI, user=officer.user, institutions=["city-council"])
    assert refused.value.code == "not_supplier"


def test_a_supplier_invitation_without_institutions_creates_nothing(db: None, clock: MovableClock) -> None:
    with pytest.raises(ValidationError):
        services.staff_invite(
            actor=CLI,
            username="nowhere",
            is_supplier=True,
            access_expires_at=clock.current + datetime.timedelta(days=1),
        )
    assert not User.objects.filter(username="nowhere").exists()


# --- expiry and audit marking --------------------------------------------------------------------------------


def test_a_supplier_is_refused_at_sign_in_and_on_every_request_after_expiry(
    client: Client, institution: Institution, clock: MovableClock
) -> None:
    vendor = _supplier(institution, clock, role="administrator")
    sign_in(client, vendor)
    assert client.get("/staff/suppliers").status_code == 200

    clock.advance(days=1)

    response = client.get("/staff/suppliers")
    assert response.status_code == 302
    assert response["Location"].startswith("/staff/sign-in")
    again = Client().post("/staff/sign-in", {"username": vendor.user.username, "password": vendor.password})
    assert "Your supplier access ended on" in again.content.decode()
    refused = AuditEntry.objects.filter(action="accounts.staff.sign_in_failed").latest("id")
    assert refused.actor_is_supplier is True


def test_every_audit_entry_a_supplier_causes_is_marked(
    client: Client, institution: Institution, clock: MovableClock
) -> None:
    vendor = _supplier(institution, clock, role="administrator")
    sign_in(client, vendor)
    client.get("/staff/suppliers")
    client.post("/staff/sign-out")

    caused = AuditEntry.objects.filter(actor_kind="user", actor_id=str(vendor.user.pk))
    assert {entry.action for entry in caused} >= {
        "accounts.staff.signed_in",
        "accounts.supplier.report_viewed",
        "accounts.staff.signed_out",
    }
    assert all(entry.actor_is_supplier for entry in caused)


# --- the report ----------------------------------------------------------------------------------------------


def test_the_report_lists_every_supplier_of_the_institution_with_its_status(
    institution: Institution, other: Institution, clock: MovableClock, administrator: Staff
) -> None:
    _supplier(institution, clock, services_=("street-trading-licence",), username="current-vendor")
    expired = _supplier(institution, clock, username="expired-vendor", company="Old Co")
    User.objects.filter(pk=expired.user.pk).update(access_expires_at=clock.current - datetime.timedelta(days=1))
    _supplier(other, clock, username="elsewhere-vendor")

    rows = selectors.supplier_report(viewer=administrator.user, institution_code="city-council")

    assert [(row.username, row.status, row.company, row.services, row.roles) for row in rows] == [
        ("current-vendor", "current", "Acme Digital", ("street-trading-licence",), ("licensing_officer",)),
        ("expired-vendor", "expired", "Old Co", (), ("licensing_officer",)),
    ]
    viewed = AuditEntry.objects.filter(action="accounts.supplier.report_viewed").get()
    assert viewed.actor_id == str(administrator.user.pk)
    assert viewed.details == {"institution": "city-council", "rows": 2}


def test_only_service_owners_and_administrators_of_the_institution_see_the_report(
    institution: Institution, other: Institution, officer: Staff, clock: MovableClock
) -> None:
    owner = staff_create(username="owner")
    role_grant(user=owner, institution=institution, role="service-owner")
    stranger = staff_create(username="stranger")
    role_grant(user=stranger, institution=other, role="administrator")

    assert selectors.supplier_report(viewer=owner, institution_code="city-council") == []
    for refused in (officer.user, stranger):
        with pytest.raises(AccountsPermissionDeniedError):
            selectors.supplier_report(viewer=refused, institution_code="city-council")
    assert AuditEntry.objects.filter(action="accounts.supplier.report_viewed").count() == 1


def test_the_report_page_shows_the_suppliers_and_hides_other_institutions(
    client: Client, institution: Institution, other: Institution, clock: MovableClock, administrator: Staff
) -> None:
    _supplier(institution, clock, services_=("street-trading-licence",))
    sign_in(client, administrator)

    page = client.get("/staff/suppliers")
    elsewhere = client.get("/staff/suppliers?institution=other-council")
    unknown = client.get("/staff/suppliers?institution=no-such-council")

    text = page.content.decode()
    assert page.status_code == 200
    assert "Val Vendor (vendor)" in text
    assert "Acme Digital" in text
    assert "street-trading-licence" in text
    assert "Current" in text
    assert elsewhere.status_code == unknown.status_code == 404


def test_the_report_page_is_not_found_for_staff_who_may_see_no_report(client: Client, officer: Staff) -> None:
    sign_in(client, officer)

    assert client.get("/staff/suppliers").status_code == 404
    assert not AuditEntry.objects.filter(action="accounts.supplier.report_viewed").exists()


def test_the_command_prints_the_report_as_a_table_and_as_json(institution: Institution, clock: MovableClock) -> None:
    vendor = _supplier(institution, clock, services_=("street-trading-licence",))
    table, lines = io.StringIO(), io.StringIO()

    call_command("staff", "suppliers", "--institution", "city-council", stdout=table)
    call_command("staff", "suppliers", "--institution", "city-council", "--json", stdout=lines)

    assert "vendor" in table.getvalue()
    assert "Acme Digital" in table.getvalue()
    row = json.loads(lines.getvalue())
    assert row["user_id"] == str(vendor.user.pk)
    assert (row["status"], row["services"], row["roles"]) == (
        "current",
        ["street-trading-licence"],
        ["licensing_officer"],
    )
    assert AuditEntry.objects.filter(action="accounts.supplier.report_viewed", actor_kind="system").count() == 2
    with pytest.raises(CommandError, match="institution"):
        call_command("staff", "suppliers", "--institution", "no-such-council", stdout=io.StringIO())


def test_the_command_sets_a_scope(institution: Institution, clock: MovableClock) -> None:
    vendor = _supplier(institution, clock)
    out = io.StringIO()

    call_command(
        "staff",
        "supplier-scope",
        "vendor",
        "--institution",
        "city-council",
        "--service",
        "report-street-light",
        stdout=out,
    )

    assert "vendor (supplier) reaches report-street-light of city-council" in out.getvalue()
    assert policies.service_scope(User.objects.get(pk=vendor.user.pk)) == frozenset({"report-street-light"})
    assert RoleAssignment.objects.filter(user=vendor.user).count() == 1


def test_a_supplier_limited_to_services_holds_no_institution_wide_role(
    institution: Institution, clock: MovableClock
) -> None:
    vendor = _supplier(institution, clock, services_=("street-trading-licence",))
    for role in ("administrator", "auditor", "service-owner", "finance", "data-protection-officer"):
        role_grant(user=vendor.user, institution=institution, role=role)
    policies.forget_roles(vendor.user)

    assert policies.roles_of(vendor.user) == frozenset({("city-council", "licensing_officer")})
    assert policies.can_use_admin(vendor.user) is False
    assert policies.can_manage_staff(vendor.user, institution) is False
    assert policies.can_read_audit(vendor.user, institution) is False


def test_a_supplier_of_every_service_of_its_institutions_keeps_its_platform_roles(
    institution: Institution, clock: MovableClock
) -> None:
    vendor = _supplier(institution, clock, role="administrator")

    assert policies.can_manage_staff(vendor.user, institution) is True

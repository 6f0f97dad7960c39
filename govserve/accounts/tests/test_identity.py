"""Identity-provider interfaces, the built-in providers, and the accounts system checks."""

from __future__ import annotations

import pytest
from django.test import RequestFactory, override_settings

from govserve.accounts import identity
from govserve.accounts.checks import check_accounts_security
from govserve.accounts.models import ExternalIdentity
from govserve.accounts.tests.conftest import Staff


def test_the_built_in_providers_implement_the_interfaces() -> None:
    staff_providers = identity.staff_identity_providers()
    citizen_providers = identity.citizen_identity_providers()

    assert [p.key for p in staff_providers] == ["password-totp"]
    assert [p.key for p in citizen_providers] == ["email-link", "password"]
    assert all(isinstance(p, identity.StaffIdentityProvider) for p in staff_providers)
    assert all(isinstance(p, identity.CitizenIdentityProvider) for p in citizen_providers)


@pytest.mark.parametrize(
    ("provider", "location"),
    [
        (identity.PasswordTotpProvider(), "/staff/sign-in?next=%2Fstaff%2Fadmin%2F"),
        (identity.EmailLinkProvider(), "/sign-in?next=%2Fstaff%2Fadmin%2F"),
        (identity.CitizenPasswordProvider(), "/sign-in/password?next=%2Fstaff%2Fadmin%2F"),
    ],
)
def test_start_sends_to_the_providers_page(provider: identity.StaffIdentityProvider, location: str) -> None:
    response = provider.start(RequestFactory().get("/"), next_url="/staff/admin/")

    assert (response.status_code, response["Location"]) == (302, location)


@pytest.mark.django_db
def test_external_identities_map_a_subject_to_an_active_account(officer: Staff) -> None:
    ExternalIdentity.objects.create(provider="staff-oidc", subject="0f9a-42", user=officer.user)

    assert identity.external_staff_user(provider="staff-oidc", subject="0f9a-42") == officer.user
    assert identity.external_staff_user(provider="staff-oidc", subject="other") is None
    assert identity.external_citizen(provider="staff-oidc", subject="0f9a-42") is None
    officer.user.is_active = False
    officer.user.save(update_fields=["is_active"])
    assert identity.external_staff_user(provider="staff-oidc", subject="0f9a-42") is None


@pytest.mark.django_db
def test_an_external_identity_links_exactly_one_account(officer: Staff) -> None:
    from django.db import IntegrityError, transaction  # noqa: PLC0415

    with pytest.raises(IntegrityError), transaction.atomic():
        ExternalIdentity.objects.create(provider="staff-oidc", subject="nobody")

    assert ExternalIdentity.objects.count() == 0


def test_the_checks_pass_with_the_shipped_settings() -> None:
    assert check_accounts_security(None) == []


@override_settings(GOVSERVE_STAFF_MFA_REQUIRED=False)
def test_switching_staff_mfa_off_is_reported() -> None:
    assert [message.id for message in check_accounts_security(None)] == ["govserve.accounts.W001"]


def test_a_missing_session_middleware_is_an_error() -> None:
    from django.conf import settings as django_settings  # noqa: PLC0415

    middleware = [m for m in django_settings.MIDDLEWARE if "SessionTimeoutMiddleware" not in m]
    with override_settings(MIDDLEWARE=middleware):
        assert [message.id for message in check_accounts_security(None)] == ["govserve.accounts.E001"]

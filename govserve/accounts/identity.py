"""Identity providers: who vouches that a person is who they say, for staff and for citizens.

Every way of signing in is a provider behind one of two interfaces, so that
single sign-on can be added without touching the rest of accounts:

- :class:`StaffIdentityProvider` — built in: :class:`PasswordTotpProvider`
  (password, then a TOTP code). A staff OIDC adapter (mozilla-django-oidc)
  implements the same interface: ``start`` redirects to the identity
  provider, its callback maps the ``sub`` claim to a staff account through
  :class:`~govserve.accounts.models.ExternalIdentity` and calls
  :func:`govserve.accounts.signin.staff_session_begin`; it must pass a
  verified second factor (the provider's ``amr`` claim) while
  ``GOVSERVE_STAFF_MFA_REQUIRED`` is on.
- :class:`CitizenIdentityProvider` — built in: :class:`EmailLinkProvider`
  (an emailed one-time link, the default) and :class:`CitizenPasswordProvider`.
  A GOV.UK One Login adapter implements it the same way and ends in
  :func:`govserve.accounts.citizens.citizen_session_begin`.

Which providers are offered comes from ``GOVSERVE_STAFF_IDENTITY_PROVIDERS``
and ``GOVSERVE_CITIZEN_IDENTITY_PROVIDERS`` (dotted paths to classes; the
built-ins by default), read when used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from govserve.accounts.models import Citizen, ExternalIdentity, User

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse
    from django.utils.functional import Promise


@runtime_checkable
class StaffIdentityProvider(Protocol):
    """A way for staff to prove who they are.

    ``key`` is a stable slug (stored in audit entries and in
    ``ExternalIdentity.provider``); ``label`` is shown on the sign-in page.
    ``start`` begins the sign-in and returns the response that does it (a
    page, or a redirect to an external provider); the provider finishes by
    calling ``staff_session_begin`` with the account and the verified
    second factor.
    """

    key: str
    label: str | Promise

    def start(self, request: HttpRequest, *, next_url: str) -> HttpResponse:
        """Return the response that begins signing in, ending at ``next_url``."""
        ...


@runtime_checkable
class CitizenIdentityProvider(Protocol):
    """A way for citizens to prove who they are (emailed link, password, GOV.UK One Login).

    The provider finishes by calling ``citizen_session_begin`` with the
    citizen account, creating it on first sign-in where the provider allows.
    """

    key: str
    label: str | Promise

    def start(self, request: HttpRequest, *, next_url: str) -> HttpResponse:
        """Return the response that begins signing in, ending at ``next_url``."""
        ...


def _redirect(name: str, next_url: str) -> HttpResponseRedirect:
    query = f"?{urlencode({'next': next_url})}" if next_url else ""
    return HttpResponseRedirect(f"{reverse(name)}{query}")


class PasswordTotpProvider:
    """Staff: username and password (argon2), then a TOTP code; enrolment at first sign-in."""

    key = "password-totp"
    label = _("Username, password and authenticator app")

    def start(self, request: HttpRequest, *, next_url: str) -> HttpResponse:
        """Send to the staff sign-in page."""
        return _redirect("accounts:staff_sign_in", next_url)


class EmailLinkProvider:
    """Citizens: a one-time link emailed to the address (30 minutes, single use)."""

    key = "email-link"
    label = _("A link sent to your email address")

    def start(self, request: HttpRequest, *, next_url: str) -> HttpResponse:
        """Send to the page that asks for the email address."""
        return _redirect("accounts:citizen_sign_in", next_url)


class CitizenPasswordProvider:
    """Citizens who chose a password: email address and password."""

    key = "password"
    label = _("Your email address and password")

    def start(self, request: HttpRequest, *, next_url: str) -> HttpResponse:
        """Send to the password sign-in page."""
        return _redirect("accounts:citizen_password_sign_in", next_url)


DEFAULT_STAFF_PROVIDERS = ["govserve.accounts.identity.PasswordTotpProvider"]
DEFAULT_CITIZEN_PROVIDERS = [
    "govserve.accounts.identity.EmailLinkProvider",
    "govserve.accounts.identity.CitizenPasswordProvider",
]


def staff_identity_providers() -> list[StaffIdentityProvider]:
    """Return the configured staff providers, in the order the sign-in page offers them."""
    paths = getattr(settings, "GOVSERVE_STAFF_IDENTITY_PROVIDERS", None) or DEFAULT_STAFF_PROVIDERS
    providers: list[StaffIdentityProvider] = [import_string(path)() for path in paths]
    return providers


def citizen_identity_providers() -> list[CitizenIdentityProvider]:
    """Return the configured citizen providers, in the order the sign-in page offers them."""
    paths = getattr(settings, "GOVSERVE_CITIZEN_IDENTITY_PROVIDERS", None) or DEFAULT_CITIZEN_PROVIDERS
    providers: list[CitizenIdentityProvider] = [import_string(path)() for path in paths]
    return providers


def external_staff_user(*, provider: str, subject: str) -> User | None:
    """Return the active staff account linked to ``provider``'s ``subject``, if any (for SSO adapters)."""
    link = ExternalIdentity.objects.filter(provider=provider, subject=subject, user__isnull=False).select_related(
        "user"
    )
    found = link.first()
    return found.user if found is not None and found.user is not None and found.user.is_active else None


def external_citizen(*, provider: str, subject: str) -> Citizen | None:
    """Return the active citizen account linked to ``provider``'s ``subject``, if any (for One Login)."""
    link = ExternalIdentity.objects.filter(provider=provider, subject=subject, citizen__isnull=False).select_related(
        "citizen"
    )
    found = link.first()
    return found.citizen if found is not None and found.citizen is not None and found.citizen.is_active else None

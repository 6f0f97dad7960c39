"""System checks: accounts' middleware is installed and MFA is not switched off unnoticed."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from govserve.accounts import conf

SESSION_MIDDLEWARE = "govserve.accounts.middleware.SessionTimeoutMiddleware"


@register(Tags.security)
def check_accounts_security(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    """Report missing session timeouts (error) and staff MFA switched off (warning)."""
    messages: list[CheckMessage] = []
    middleware = list(settings.MIDDLEWARE)
    if SESSION_MIDDLEWARE not in middleware:
        messages.append(
            Error(
                f"{SESSION_MIDDLEWARE} is not in MIDDLEWARE: sessions would have no absolute timeout.",
                id="govserve.accounts.E001",
            )
        )
    elif "django_otp.middleware.OTPMiddleware" in middleware and middleware.index(
        SESSION_MIDDLEWARE
    ) < middleware.index("django_otp.middleware.OTPMiddleware"):
        messages.append(Error(f"{SESSION_MIDDLEWARE} must come after OTPMiddleware.", id="govserve.accounts.E002"))
    if not conf.staff_mfa_required():
        messages.append(
            Warning(
                "GOVSERVE_STAFF_MFA_REQUIRED is off: staff sign in with a password alone.",
                hint="Only switch it off when every staff member signs in through an SSO provider that enforces MFA.",
                id="govserve.accounts.W001",
            )
        )
    return messages

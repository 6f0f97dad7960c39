"""Typed failures of accounts: sign-in, one-time links, roles, calendars.

Codes are stable (tests, the API and the audit log rely on them); messages
are specific and fit to show to the person they concern. Refusals that must
not reveal whether an account exists (citizen sign-in) share one message.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from govserve.core.errors import ApplicationError, ConflictError, NotFoundError, PermissionDeniedError, ValidationError

# ValidationError is re-exported: accounts' callers catch every accounts error from here.
__all__ = [
    "INVALID_CREDENTIALS_MESSAGE",
    "INVALID_TOTP_MESSAGE",
    "AccountInactiveError",
    "AccountsPermissionDeniedError",
    "CurrentPasswordIncorrectError",
    "EmailAddressInUseError",
    "InstitutionNotFoundError",
    "InvalidCredentialsError",
    "InvalidRoleError",
    "InvalidTotpCodeError",
    "LinkExpiredError",
    "LinkInvalidError",
    "LinkUsedError",
    "MfaAlreadySetUpError",
    "MfaNotSetUpError",
    "PendingSignInExpiredError",
    "ReauthenticationRequiredError",
    "RoleAlreadyHeldError",
    "RoleNotHeldError",
    "SignInError",
    "SignInLockedOutError",
    "StaffUserNotFoundError",
    "StaffUsernameTakenError",
    "SupplierAccessExpiredError",
    "UnitNotFoundError",
    "ValidationError",
    "WeakPasswordError",
]


class SignInError(ApplicationError):
    """Sign-in refused: wrong credentials, expired access, inactive account."""

    code = "sign_in_failed"
    status = 401


class InvalidCredentialsError(SignInError):
    code = "invalid_credentials"


class InvalidTotpCodeError(SignInError):
    code = "invalid_totp_code"


class AccountInactiveError(SignInError):
    code = "account_inactive"


class SupplierAccessExpiredError(SignInError):
    code = "supplier_access_expired"


class SignInLockedOutError(SignInError):
    code = "locked_out"
    status = 429


class MfaNotSetUpError(SignInError):
    """The password was right, but the account has no authenticator app: only a set-up link can add one."""

    code = "mfa_not_set_up"
    status = 403


class MfaAlreadySetUpError(SignInError):
    """An authenticator app was confirmed (in another session) while this one was setting one up."""

    code = "mfa_already_set_up"
    status = 409


class PendingSignInExpiredError(SignInError):
    code = "pending_sign_in_expired"


class CurrentPasswordIncorrectError(SignInError):
    """A sensitive change asked for the current password, and it was missing or wrong."""

    code = "current_password_incorrect"


class ReauthenticationRequiredError(PermissionDeniedError):
    """A sensitive change needs a fresh proof of identity first (an emailed one-time link)."""

    code = "reauthentication_required"


class LinkInvalidError(ApplicationError):
    """A one-time link that never existed (or was altered)."""

    code = "link_invalid"
    status = 404


class LinkExpiredError(ApplicationError):
    code = "link_expired"
    status = 410


class LinkUsedError(ApplicationError):
    code = "link_used"
    status = 410


class EmailAddressInUseError(ConflictError):
    code = "email_in_use"


class StaffUserNotFoundError(NotFoundError):
    code = "staff_user_not_found"


class InstitutionNotFoundError(NotFoundError):
    code = "institution_not_found"


class UnitNotFoundError(NotFoundError):
    code = "unit_not_found"


class RoleNotHeldError(NotFoundError):
    code = "role_not_held"


class RoleAlreadyHeldError(ConflictError):
    code = "role_already_held"


class StaffUsernameTakenError(ConflictError):
    code = "username_taken"


class InvalidRoleError(ValidationError):
    code = "invalid_role"


class WeakPasswordError(ValidationError):
    code = "weak_password"


class AccountsPermissionDeniedError(PermissionDeniedError):
    code = "accounts_permission_denied"


INVALID_CREDENTIALS_MESSAGE = _("Enter a correct username and password")
INVALID_TOTP_MESSAGE = _("Enter the 6-digit code shown in your authenticator app")

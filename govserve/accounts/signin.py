"""Signing in and out: staff (password, then TOTP) and the session rules for everyone.

Staff sign-in has two steps, and the person is not signed in until both pass:
the password step leaves only a *pending* marker in the session (the user id
and when), the second step (a TOTP code) opens the session. Failures of
either step count towards django-axes' lockout (``AXES_FAILURE_LIMIT``), so
guessing codes is as limited as guessing passwords.

Enrolling an authenticator app is never reachable from a password alone
(whoever learnt the password of a member of staff who has not enrolled yet
could otherwise bind their own app to the account). It is granted only by a
one-time link an administrator issued: the invitation or set-password link
(``govserve staff invite``, ``reset-password``), once the password is set
with it, or the set-up link of ``govserve staff reset-mfa``, once the
person's password is confirmed on it. Using the link leaves an *enrolment
grant* in that session (user id, link id, when; :data:`ENROL`) for
``GOVSERVE_STAFF_ENROLMENT_MINUTES`` (15); the set-up page needs it. A
password sign-in of an account without an authenticator app is refused with
a page that says to ask an administrator for a new set-up link, and audited.

A session holds the kind of account (``staff`` or ``citizen``), the account
id, and three times: signed in, last seen, last re-authenticated. Nothing
personal. :class:`govserve.accounts.middleware.SessionTimeoutMiddleware`
ends sessions idle for ``SESSION_COOKIE_AGE`` or older than
``SESSION_ABSOLUTE_TIMEOUT``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.utils import formats
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from govserve.accounts import conf, errors, policies
from govserve.accounts.auditing import staff_actor
from govserve.accounts.models import User
from govserve.audit.actors import Actor
from govserve.audit.models import Outcome
from govserve.audit.services import audit_record
from govserve.core import clock

if TYPE_CHECKING:
    from django.http import HttpRequest

KIND = "gs.kind"
CITIZEN_ID = "gs.citizen_id"
AUTH_AT = "gs.auth_at"
SEEN_AT = "gs.seen_at"
REAUTH_AT = "gs.reauth_at"
REAUTH_BY = "gs.reauth_by"
PENDING = "gs.pending"
ENROL = "gs.enrol"
NOTICE = "gs.notice"

KIND_STAFF = "staff"
KIND_CITIZEN = "citizen"

_CODE = re.compile(r"^\d{6}$")
_MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
USER_SUBJECT = "accounts.user"
ANONYMOUS = Actor.system("web")


@dataclass(frozen=True)
class PendingSignIn:
    """The password step passed for ``user``, who has an authenticator app: the code is next."""

    user: User
    next_url: str


@dataclass(frozen=True)
class EnrolmentGrant:
    """This session may enrol an authenticator app for ``user``: granted by the one-time link ``link_id``."""

    user: User
    link_id: str
    purpose: str


def _axes() -> Any:
    # django-axes reads settings when imported: import when used.
    from axes.handlers.proxy import AxesProxyHandler  # noqa: PLC0415

    return AxesProxyHandler


def _record_failure(*, user: User | None, reason: str, outcome: Outcome = Outcome.FAILURE) -> None:
    with transaction.atomic():
        audit_record(
            actor=staff_actor(user) if user is not None else ANONYMOUS,
            action="accounts.staff.sign_in_failed",
            subject_type=USER_SUBJECT if user is not None else "",
            subject_id=user.pk if user is not None else "",
            outcome=outcome,
            details={"reason": reason},
        )


def _record_lockout(user: User | None) -> None:
    with transaction.atomic():
        audit_record(
            actor=staff_actor(user) if user is not None else ANONYMOUS,
            action="accounts.staff.locked_out",
            subject_type=USER_SUBJECT if user is not None else "",
            subject_id=user.pk if user is not None else "",
            outcome=Outcome.DENIED,
            details={"failure_limit": int(getattr(_settings(), "AXES_FAILURE_LIMIT", 5))},
        )


def _settings() -> Any:
    from django.conf import settings  # noqa: PLC0415

    return settings


def _locked_error() -> errors.SignInLockedOutError:
    return errors.SignInLockedOutError(_("Sign-in is locked after too many failed attempts"))


def _count_failure(request: HttpRequest, user: User, reason: str) -> None:
    """Count a failed second step towards axes' lockout, as a failed password would be."""
    user_login_failed.send(sender=__name__, credentials={"username": user.get_username()}, request=request)
    if getattr(request, "axes_locked_out", False):
        _record_lockout(user)
        raise _locked_error()
    _record_failure(user=user, reason=reason)


# --- staff: the password step -----------------------------------------------------------------


def staff_password_verify(*, request: HttpRequest, username: str, password: str) -> User:
    """Check ``username`` and ``password`` through Django's backends (axes first) and return the user.

    Raise SignInLockedOutError (locked before or by this failure),
    InvalidCredentialsError (unknown user, wrong password or inactive
    account: one message, so accounts cannot be discovered) or
    SupplierAccessExpiredError (right password, supplier access over).
    Failures are audited without the values typed.
    """
    known = User.objects.filter(username=username).first() if username else None
    if not _axes().is_allowed(request, {"username": username}):
        request.axes_locked_out = True  # type: ignore[attr-defined]
        _record_failure(user=known, reason="locked_out", outcome=Outcome.DENIED)
        raise _locked_error()
    user = authenticate(request, username=username, password=password)
    if user is None:
        if getattr(request, "axes_locked_out", False):
            _record_lockout(known)
            raise _locked_error()
        _record_failure(user=known, reason="invalid_credentials" if known else "unknown_user")
        raise errors.InvalidCredentialsError(str(errors.INVALID_CREDENTIALS_MESSAGE))
    if not isinstance(user, User):  # pragma: no cover - AUTH_USER_MODEL is accounts.User
        raise TypeError(type(user))
    if not policies.supplier_access_current(user):
        _record_failure(user=user, reason="supplier_access_expired", outcome=Outcome.DENIED)
        if user.access_expires_at is None:
            raise errors.SupplierAccessExpiredError(
                _("Your supplier access has no end date set. Ask an administrator to set one.")
            )
        raise errors.SupplierAccessExpiredError(
            _("Your supplier access ended on %(date)s. Ask an administrator to extend it.")
            % {"date": formats.date_format(user.access_expires_at, "j F Y")}
        )
    return user


def confirmed_devices(user: User) -> list[TOTPDevice]:
    """Return ``user``'s confirmed authenticator devices."""
    return list(TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id"))


def staff_second_step_begin(request: HttpRequest, *, user: User, next_url: str) -> PendingSignIn:
    """Record that ``user`` passed the password step; the code of their authenticator app is next.

    Raise MfaNotSetUpError, audited as ``accounts.staff.sign_in_failed``
    (reason ``mfa_not_set_up``, outcome denied), when ``user`` has no
    confirmed authenticator app: a password alone never leads to enrolment
    (see the module docstring). Nothing is stored in the session then.
    """
    if not confirmed_devices(user):
        _record_failure(user=user, reason="mfa_not_set_up", outcome=Outcome.DENIED)
        raise errors.MfaNotSetUpError(
            _("Your account has no authenticator app set up. Ask an administrator for a new set-up link.")
        )
    request.session.cycle_key()
    request.session.pop(ENROL, None)
    request.session[PENDING] = {"user_id": str(user.pk), "at": clock.now().timestamp(), "next": next_url}
    return PendingSignIn(user=user, next_url=next_url)


def pending_get(request: HttpRequest) -> PendingSignIn | None:
    """Return the pending sign-in of this session, or None if none, expired, or the account is no longer usable.

    An account whose authenticator apps were removed since the password step
    has no pending sign-in either.
    """
    pending = request.session.get(PENDING)
    if not isinstance(pending, dict):
        return None
    if clock.now().timestamp() - float(pending.get("at", 0)) > conf.PENDING_SIGN_IN_SECONDS:
        del request.session[PENDING]
        return None
    user = User.objects.filter(pk=str(pending.get("user_id", "")), is_active=True).first()
    if user is None or not policies.supplier_access_current(user) or not confirmed_devices(user):
        del request.session[PENDING]
        return None
    return PendingSignIn(user=user, next_url=str(pending.get("next", "")))


# --- staff: enrolment, granted by a one-time link -------------------------------------------------


def enrolment_grant(request: HttpRequest, *, user: User, link_id: str, purpose: str) -> None:
    """Let this session enrol an authenticator app for ``user``, on the strength of the used link ``link_id``.

    Only callers that have just used a one-time link of ``user`` may call
    this (:func:`govserve.accounts.services.staff_password_set_from_link`,
    :func:`staff_enrolment_link_use`). The grant lasts
    ``GOVSERVE_STAFF_ENROLMENT_MINUTES`` and holds ids and a time only.
    """
    request.session.cycle_key()
    request.session.pop(PENDING, None)
    request.session[ENROL] = {
        "user_id": str(user.pk),
        "link_id": link_id,
        "purpose": purpose,
        "at": clock.now().timestamp(),
    }


def enrolment_grant_get(request: HttpRequest) -> EnrolmentGrant | None:
    """Return this session's enrolment grant, or None (none, expired, account unusable, or already enrolled).

    An expired or spent grant is removed from the session.
    """
    grant = request.session.get(ENROL)
    if not isinstance(grant, dict):
        return None
    if clock.now().timestamp() - float(grant.get("at", 0)) > conf.staff_enrolment_lifetime().total_seconds():
        del request.session[ENROL]
        return None
    user = User.objects.filter(pk=str(grant.get("user_id", "")), is_active=True).first()
    if user is None or not policies.supplier_access_current(user) or confirmed_devices(user):
        del request.session[ENROL]
        return None
    return EnrolmentGrant(user=user, link_id=str(grant.get("link_id", "")), purpose=str(grant.get("purpose", "")))


def enrolment_grant_expired(request: HttpRequest) -> bool:
    """Return whether the session holds an enrolment grant that has run out of time (to say so on the page)."""
    grant = request.session.get(ENROL)
    if not isinstance(grant, dict):
        return False
    return clock.now().timestamp() - float(grant.get("at", 0)) > conf.staff_enrolment_lifetime().total_seconds()


def staff_enrolment_link_use(*, request: HttpRequest, token: str, password: str) -> EnrolmentGrant:
    """Use an authenticator set-up link (``govserve staff reset-mfa``): confirm the password, grant enrolment.

    The link alone is not enough, nor the password alone: the person proves
    both, so neither a leaked link nor a leaked password binds a stranger's
    app to the account. The password check is django-axes counted and its
    failures audited as for sign-in; the link stays usable after a wrong
    password. Success uses the link up (audited as
    ``accounts.staff.enrolment_link_used``) and grants this session
    enrolment (:func:`enrolment_grant`). Raise LinkInvalidError,
    LinkExpiredError, LinkUsedError, or the SignInErrors of
    :func:`staff_password_verify`.
    """
    from govserve.accounts import services  # noqa: PLC0415  (services imports this module)
    from govserve.accounts.models import StaffPasswordLink, StaffPasswordLinkPurpose  # noqa: PLC0415

    link = services.staff_password_link_get(token=token, purposes=(StaffPasswordLinkPurpose.MFA_ENROLMENT,))
    user = staff_password_verify(request=request, username=link.user.get_username(), password=password)
    with transaction.atomic():
        locked = StaffPasswordLink.objects.select_for_update().get(pk=link.pk)
        if locked.used_at is not None:
            raise errors.LinkUsedError(_("This link has already been used"))
        if locked.expires_at <= clock.now():
            raise errors.LinkExpiredError(_("This link has expired"))
        locked.used_at = clock.now()
        locked.save(update_fields=["used_at", "updated_at"])
        audit_record(
            actor=staff_actor(user),
            action="accounts.staff.enrolment_link_used",
            subject_type=USER_SUBJECT,
            subject_id=user.pk,
            details={"link": str(locked.pk)},
        )
    enrolment_grant(request, user=user, link_id=str(link.pk), purpose=str(link.purpose))
    return EnrolmentGrant(user=user, link_id=str(link.pk), purpose=str(link.purpose))


def _normalise_code(code: str) -> str:
    return "".join(ch for ch in code if ch not in " -\u00a0")


def _check_code_shape(code: str) -> str:
    code = _normalise_code(code)
    if not code:
        raise errors.InvalidTotpCodeError(_("Enter the 6-digit code from your authenticator app"))
    if not _CODE.match(code):
        raise errors.InvalidTotpCodeError(_("The code must be 6 digits"))
    return code


def _throttle_message(device: TOTPDevice) -> str | None:
    allowed, detail = device.verify_is_allowed()
    if allowed:
        return None
    locked_until = (detail or {}).get("locked_until")
    if locked_until is not None:
        seconds = max(1, int((locked_until - clock.now()).total_seconds()) + 1)
        return _("Wait %(seconds)s seconds, then enter the code your app shows") % {"seconds": seconds}
    return _("Wait a few seconds, then enter the code your app shows")


# --- staff: the second step ----------------------------------------------------------------------


def staff_totp_verify(*, request: HttpRequest, user: User, code: str) -> TOTPDevice:
    """Check ``code`` against ``user``'s confirmed devices and return the device that accepted it.

    A code is accepted once (django-otp refuses a code at or before the
    last accepted time step). Raise InvalidTotpCodeError (shape or value;
    a wrong value counts towards lockout) or SignInLockedOutError.
    """
    if not _axes().is_allowed(request, {"username": user.get_username()}):
        request.axes_locked_out = True  # type: ignore[attr-defined]
        raise _locked_error()
    code = _check_code_shape(code)
    with transaction.atomic():
        devices = list(TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).order_by("id"))
        for device in devices:
            message = _throttle_message(device)
            if message is not None:
                raise errors.InvalidTotpCodeError(message, code="totp_throttled")
        for device in devices:
            if device.verify_token(code):
                return device
    _count_failure(request, user, "invalid_totp_code")
    raise errors.InvalidTotpCodeError(_("The code is not correct: enter the code your authenticator app shows now"))


def enrolment_device(user: User) -> TOTPDevice:
    """Return the unconfirmed device ``user`` is enrolling (created on first call, kept across reloads)."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("id").first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name=_("Authenticator app"), confirmed=False)
    return device


def staff_enrolment_confirm(*, request: HttpRequest, grant: EnrolmentGrant, code: str) -> TOTPDevice:
    """Confirm the new authenticator app of the grant's user with a code it shows; return the confirmed device.

    Needs the session's enrolment grant (:func:`enrolment_grant_get`).
    Audited as ``accounts.staff.mfa_enrolled`` with the link that granted it.
    Raise InvalidTotpCodeError or SignInLockedOutError (a wrong code counts
    towards lockout), or MfaAlreadySetUpError when another session of the
    same person confirmed an app first.
    """
    user = grant.user
    if not _axes().is_allowed(request, {"username": user.get_username()}):
        request.axes_locked_out = True  # type: ignore[attr-defined]
        raise _locked_error()
    code = _check_code_shape(code)
    with transaction.atomic():
        devices = list(TOTPDevice.objects.select_for_update().filter(user=user).order_by("id"))
        if any(device.confirmed for device in devices):
            raise errors.MfaAlreadySetUpError(_("An authenticator app is already set up: sign in with it"))
        device = next((device for device in devices if not device.confirmed), None)
        if device is None:
            raise errors.InvalidTotpCodeError(_("Scan the QR code again: the set-up has been restarted"))
        message = _throttle_message(device)
        if message is not None:
            raise errors.InvalidTotpCodeError(message, code="totp_throttled")
        if device.verify_token(code):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            TOTPDevice.objects.filter(user=user, confirmed=False).delete()
            audit_record(
                actor=staff_actor(user),
                action="accounts.staff.mfa_enrolled",
                subject_type=USER_SUBJECT,
                subject_id=user.pk,
                details={"device": device.persistent_id, "link": grant.link_id, "via": grant.purpose},
            )
            return device
    _count_failure(request, user, "invalid_enrolment_code")
    raise errors.InvalidTotpCodeError(_("The code is not correct: enter the code your authenticator app shows now"))


# --- sessions ---------------------------------------------------------------------------------------


def stamp(request: HttpRequest, kind: str) -> None:
    """Record in the session that an account of ``kind`` signed in now."""
    now = clock.now().timestamp()
    request.session[KIND] = kind
    request.session[AUTH_AT] = now
    request.session[SEEN_AT] = now
    request.session[REAUTH_AT] = now


def staff_session_begin(*, request: HttpRequest, user: User, device: TOTPDevice | None, method: str) -> None:
    """Sign ``user`` in on this request's session (new session key), OTP-verified by ``device``.

    Refuse (InvalidCredentialsError) a session without a device while staff MFA
    is required: no caller can open an unverified staff session by mistake.
    Audited as ``accounts.staff.signed_in``.
    """
    if device is None and conf.staff_mfa_required():
        msg = "staff MFA is required: a staff session needs a verified device"
        raise errors.InvalidCredentialsError(msg, code="mfa_required")
    if request.session.get(KIND) == KIND_CITIZEN:
        request.session.flush()
    request.session.pop(PENDING, None)
    request.session.pop(ENROL, None)
    request.session.pop(NOTICE, None)
    with transaction.atomic():
        login(request, user, backend=_MODEL_BACKEND)
        if device is not None:
            otp_login(request, device)
        stamp(request, KIND_STAFF)
        audit_record(
            actor=staff_actor(user),
            action="accounts.staff.signed_in",
            subject_type=USER_SUBJECT,
            subject_id=user.pk,
            details={"method": method, "mfa": device is not None},
        )


def staff_reauthenticate(*, request: HttpRequest, user: User, password: str, code: str) -> None:
    """Confirm the signed-in ``user`` again with password and code; mark the session re-authenticated.

    Raise InvalidCredentialsError, InvalidTotpCodeError or SignInLockedOutError;
    failures count towards lockout.
    """
    verified = staff_password_verify(request=request, username=user.get_username(), password=password)
    if verified.pk != user.pk:  # pragma: no cover - same username, same account
        raise errors.InvalidCredentialsError(str(errors.INVALID_CREDENTIALS_MESSAGE))
    if conf.staff_mfa_required() or confirmed_devices(user):
        staff_totp_verify(request=request, user=user, code=code)
    request.session[REAUTH_AT] = clock.now().timestamp()
    with transaction.atomic():
        audit_record(
            actor=staff_actor(user),
            action="accounts.staff.reauthenticated",
            subject_type=USER_SUBJECT,
            subject_id=user.pk,
        )


def session_end(request: HttpRequest, *, reason: str) -> None:
    """End the session (staff or citizen) and audit why: ``signed_out``, ``idle``, ``absolute``, ``access_ended``.

    The new, empty session keeps a notice so the next page can say why.
    """
    kind = request.session.get(KIND)
    user_id = request.session.get("_auth_user_id")
    citizen_id = request.session.get(CITIZEN_ID)
    with transaction.atomic():
        staff_user = User.objects.filter(pk=user_id).first() if kind == KIND_STAFF and user_id else None
        if staff_user is not None:
            audit_record(
                actor=staff_actor(staff_user),
                action="accounts.staff.signed_out" if reason == "signed_out" else "accounts.staff.session_expired",
                subject_type=USER_SUBJECT,
                subject_id=staff_user.pk,
                details={"reason": reason},
            )
        elif kind == KIND_CITIZEN and citizen_id:
            audit_record(
                actor=Actor.for_citizen(citizen_id),
                action="accounts.citizen.signed_out",
                subject_type="accounts.citizen",
                subject_id=citizen_id,
                details={"reason": reason},
            )
    logout(request)  # flushes the session and sets request.user to AnonymousUser
    if reason != "signed_out":
        request.session[NOTICE] = reason


def otp_verified(user: object) -> bool:
    """Return whether django-otp's middleware verified ``user`` with a device in this session."""
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified is not None and is_verified())


def seconds_since_reauthentication(request: HttpRequest) -> float:
    """Return how long ago this session last proved password and code (sign-in counts)."""
    at = request.session.get(REAUTH_AT) or request.session.get(AUTH_AT) or 0
    return clock.now().timestamp() - float(at)

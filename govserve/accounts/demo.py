"""Demo accounts: institutions, one staff user per (institution, role), an administrator, a citizen.

The demo is real: staff sign in with their password *and* a TOTP code, so
each staff user gets a confirmed authenticator device whose secret (base32)
and ``otpauth://`` URI are returned for printing (add it to any authenticator
app, or scan a QR code made from the URI). MFA is never switched off for the
demo. Passwords are fixed, public demo values, so this refuses to run unless
``settings.GOVSERVE_DEMO`` is true.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Literal

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from govserve.accounts import citizens
from govserve.accounts.models import Citizen, Institution, PlatformRole, RoleAssignment, Unit, User
from govserve.audit.actors import Actor
from govserve.audit.services import audit_record
from govserve.core import clock

DEMO_STAFF_PASSWORD = "demo-staff-password-2026"  # noqa: S105 - a public demo value, refused outside the demo
DEMO_CITIZEN_EMAIL = "citizen@example.org"
DEMO_CITIZEN_PASSWORD = "demo-citizen-password-2026"  # noqa: S105 - a public demo value
DEMO_ADMINISTRATOR = "demo-admin"
DEMO_UNIT = "demo"

DEMO_INSTITUTIONS: dict[str, tuple[str, str]] = {
    "city-council": ("Westmoor City Council", "Cyngor Dinas Westmoor"),
    "health-agency": ("National Health Registration Agency", "Asiantaeth Gofrestru Iechyd Genedlaethol"),
    "civil-registry": ("Civil Registration Office", "Swyddfa Gofrestru Sifil"),
}

_DEMO = Actor.system("demo")


@dataclass(frozen=True)
class DemoLogin:
    """How to sign in as one demo account (printed by ``govserve demo``)."""

    username: str
    password: str
    roles: tuple[str, ...]
    totp_secret_base32: str
    otpauth_uri: str
    kind: Literal["staff", "citizen"] = "staff"


def demo_username(institution_code: str, role: str) -> str:
    """Return the demo username for ``role`` in the institution (``city-council-licensing-officer``)."""
    return f"{institution_code}-{role}".replace("_", "-")


def _institution(code: str) -> Institution:
    name, name_cy = DEMO_INSTITUTIONS.get(code, (code.replace("-", " ").title(), ""))
    institution, _created = Institution.objects.get_or_create(code=code, defaults={"name": name, "name_cy": name_cy})
    Unit.objects.get_or_create(institution=institution, code=DEMO_UNIT, defaults={"name": "Demo team"})
    return institution


def _staff(username: str, unit: Unit | None) -> User:
    """Return the demo user ``username``, created or put back to the demo state, written only when it differs.

    The password is hashed only when the stored one does not already match
    (``check_password``): re-hashing every run made ``make run`` slower and,
    since a new hash (new salt) changes the session auth hash, signed every
    demo staff member out of their open sessions at each restart.
    """
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username, first_name="Demo", last_name=username, unit=unit, is_active=True)
        user.set_password(DEMO_STAFF_PASSWORD)
        user.save()
        return user
    changed: list[str] = []
    if not user.is_active:
        user.is_active = True
        changed.append("is_active")
    if not user.check_password(DEMO_STAFF_PASSWORD):
        # check_password may already have saved an upgraded hash of the right password; this is the wrong one.
        user.set_password(DEMO_STAFF_PASSWORD)
        changed.append("password")
    if changed:
        user.save(update_fields=changed)
    return user


def _grant(user: User, institution: Institution, role: str) -> None:
    _assignment, created = RoleAssignment.objects.get_or_create(user=user, institution=institution, role=role)
    if created:
        audit_record(
            actor=_DEMO,
            action="accounts.role.assigned",
            subject_type="accounts.user",
            subject_id=user.pk,
            details={"institution": institution.code, "role": role},
        )


def _device(user: User) -> TOTPDevice:
    # Keep an existing device: people who added it to their app keep their codes.
    device: TOTPDevice | None = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Demo authenticator", confirmed=True)
    return device


def _login(user: User, roles: list[str], device: TOTPDevice) -> DemoLogin:
    return DemoLogin(
        username=user.username,
        password=DEMO_STAFF_PASSWORD,
        roles=tuple(sorted(roles)),
        totp_secret_base32=base64.b32encode(device.bin_key).decode("ascii"),
        otpauth_uri=device.config_url,
    )


def _citizen() -> Citizen:
    citizen = citizens.citizen_find_by_email(DEMO_CITIZEN_EMAIL)
    if citizen is None:
        citizen = citizens.citizen_create(email=DEMO_CITIZEN_EMAIL)
    citizen.is_active = True
    citizen.email_verified_at = citizen.email_verified_at or clock.now()
    if not citizen.has_password:
        citizens.citizen_password_set(citizen=citizen, password=DEMO_CITIZEN_PASSWORD)
    citizen.save(update_fields=["is_active", "email_verified_at", "updated_at"])
    return citizen


def demo_accounts_ensure(*, roles_by_institution: dict[str, set[str]]) -> list[DemoLogin]:
    """Create or update the demo accounts and return how to sign in as each; idempotent.

    For each institution code (names for the known demo institutions, a
    title-cased code otherwise): the institution and a ``demo`` unit; one
    staff user per role (:func:`demo_username`) holding it; ``demo-admin``,
    administrator of every institution named; and the demo citizen
    (``citizen@example.org``, with a password). Staff passwords are put back
    to the demo value when they differ (a matching one is left alone: no
    re-hash, open sessions stay valid); TOTP devices are enrolled directly,
    confirmed, and kept once created. Raise ImproperlyConfigured unless
    ``settings.GOVSERVE_DEMO``.
    """
    if not getattr(settings, "GOVSERVE_DEMO", False):
        msg = "Demo accounts have public passwords: they are created only when GOVSERVE_DEMO is on."
        raise ImproperlyConfigured(msg)
    logins: list[DemoLogin] = []
    with transaction.atomic():
        institutions = {code: _institution(code) for code in sorted(roles_by_institution)}
        for code, roles in sorted(roles_by_institution.items()):
            institution = institutions[code]
            unit = Unit.objects.get(institution=institution, code=DEMO_UNIT)
            for role in sorted(roles):
                user = _staff(demo_username(code, role), unit)
                _grant(user, institution, role)
                logins.append(_login(user, [f"{code}:{role}"], _device(user)))
        administrator = _staff(DEMO_ADMINISTRATOR, None)
        for institution in institutions.values():
            _grant(administrator, institution, PlatformRole.ADMINISTRATOR)
        logins.insert(
            0,
            _login(
                administrator,
                [f"{code}:{PlatformRole.ADMINISTRATOR.value}" for code in institutions],
                _device(administrator),
            ),
        )
        _citizen()
        logins.append(
            DemoLogin(
                username=DEMO_CITIZEN_EMAIL,
                password=DEMO_CITIZEN_PASSWORD,
                roles=(),
                totp_secret_base32="",
                otpauth_uri="",
                kind="citizen",
            )
        )
    return logins


def demo_logins_format(logins: list[DemoLogin]) -> str:
    """Return the demo logins as text for the terminal: staff with TOTP secret and URI, then the citizen."""
    lines = ["Demo sign-in (public demo values, never for real use)", ""]
    for login in logins:
        if login.kind == "staff":
            lines += [
                f"  staff   {login.username}  password: {login.password}  roles: {', '.join(login.roles)}",
                f"          TOTP secret: {login.totp_secret_base32}",
                f"          {login.otpauth_uri}",
            ]
        else:
            lines.append(f"  citizen {login.username}  password: {login.password}  (or ask for a sign-in link)")
    lines += [
        "",
        "Staff sign in at /staff/sign-in with the password, then the 6-digit code of an authenticator",
        "app (add the TOTP secret or the otpauth URI to it). Citizens sign in at /sign-in.",
    ]
    return "\n".join(lines)

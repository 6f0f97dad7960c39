"""Typed builders for accounts' tests (and other apps' tests that need staff).

Plain functions rather than factory_boy classes: factory_boy's partial type
hints do not pass mypy --strict, and these stay short.
"""

from __future__ import annotations

import itertools
from typing import Any

from django_otp.plugins.otp_totp.models import TOTPDevice

from govserve.accounts.models import Institution, RoleAssignment, Unit, User

STAFF_PASSWORD = "correct-horse-battery-staple-42"
_sequence = itertools.count(1)


def institution_create(*, code: str | None = None, name: str | None = None, **fields: Any) -> Institution:
    """Create (or return the existing, by code) institution."""
    n = next(_sequence)
    institution, _created = Institution.objects.get_or_create(
        code=code or f"institution-{n}", defaults={"name": name or f"Institution {n}", **fields}
    )
    return institution


def unit_create(*, institution: Institution | None = None, code: str | None = None, **fields: Any) -> Unit:
    """Create a unit (in a new institution unless one is given)."""
    n = next(_sequence)
    return Unit.objects.create(
        institution=institution or institution_create(),
        code=code or f"unit-{n}",
        name=fields.pop("name", f"Unit {n}"),
        **fields,
    )


def staff_create(*, username: str | None = None, password: str = STAFF_PASSWORD, **fields: Any) -> User:
    """Create an active staff user with ``password``."""
    n = next(_sequence)
    user = User(
        username=username or f"staff{n}",
        first_name=fields.pop("first_name", "Sam"),
        last_name=fields.pop("last_name", "Staff"),
        email=fields.pop("email", f"staff{n}@example.gov.uk"),
        **fields,
    )
    user.set_password(password)
    user.save()
    return user


def role_grant(*, user: User, institution: Institution, role: str = "licensing_officer") -> RoleAssignment:
    """Give ``user`` ``role`` in ``institution``."""
    return RoleAssignment.objects.create(user=user, institution=institution, role=role)


def device_create(*, user: User, confirmed: bool = True) -> TOTPDevice:
    """Create a TOTP device (random secret) for ``user``."""
    device: TOTPDevice = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=confirmed)
    return device

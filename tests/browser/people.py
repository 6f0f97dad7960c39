"""The people of the browser tests, created in the (committed) test database, and signing them in.

Signing in always goes through the real pages: password, then a real TOTP
code computed from the device's secret, for staff; the password page or the
emailed link (read from the demo mail page) for citizens.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from govserve.accounts import citizens, demo
from govserve.accounts.models import Citizen, User
from govserve.accounts.tests.factories import (
    STAFF_PASSWORD,
    device_create,
    institution_create,
    role_grant,
    staff_create,
)
from tests.browser.browsing import Tab

CITIZEN_PASSWORD = "a-long-citizen-passphrase-2026"
NEW_STAFF_PASSWORD = "a-new-officers-passphrase-2026"


@dataclass(frozen=True)
class Officer:
    """A staff member with a password and (unless enrolling) a confirmed authenticator."""

    user: User
    device: TOTPDevice | None
    password: str = STAFF_PASSWORD


@dataclass(frozen=True)
class Applicant:
    """A citizen account with a password."""

    citizen: Citizen
    email: str
    password: str = CITIZEN_PASSWORD


def officer_create(*, username: str = "officer", enrolled: bool = True) -> Officer:
    """Create a licensing officer of Westmoor City Council, with an authenticator when ``enrolled``."""
    institution = institution_create(code="city-council", name="Westmoor City Council")
    user = staff_create(username=username)
    role_grant(user=user, institution=institution, role="licensing_officer")
    return Officer(user=user, device=device_create(user=user) if enrolled else None)


def applicant_create(email: str = "ada@example.org") -> Applicant:
    """Create a citizen account with a password (the password sign-in path)."""
    citizen = citizens.citizen_create(email=email)
    citizens.citizen_password_set(citizen=citizen, password=CITIZEN_PASSWORD)
    return Applicant(citizen=citizen, email=email)


def demo_citizen() -> Applicant:
    """Create the demo accounts (``govserve demo``'s, GOVSERVE_DEMO must be on) and return the demo citizen."""
    demo.demo_accounts_ensure(roles_by_institution={})
    citizen = citizens.citizen_find_by_email(demo.DEMO_CITIZEN_EMAIL)
    assert citizen is not None
    return Applicant(citizen=citizen, email=demo.DEMO_CITIZEN_EMAIL, password=demo.DEMO_CITIZEN_PASSWORD)


def totp_fresh_code(device: TOTPDevice) -> str:
    """Return a code the authenticator shows now that the device has not accepted yet.

    django-otp accepts each 30-second step once: after two sign-ins in one step,
    wait for the next one rather than send a code that must fail.
    """
    device.refresh_from_db()
    current_step = int((time.time() - device.t0) // device.step)
    ahead = max(0, device.last_t + 1 - current_step)
    if ahead > device.tolerance:
        # Both the current and the next step were used. Rather than wait for the next step (up to
        # 30 s of real time), let one step pass for this device alone: its epoch moves one step back,
        # so the app and the server (which reads t0 from the database) both count a step on.
        device.t0 -= device.step
        device.save(update_fields=["t0"])
        return totp_fresh_code(device)
    code: int = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=ahead)
    return f"{code:06d}"


def officer_sign_in_to_code_step(tab: Tab, officer: Officer, *, status: int = 200) -> None:
    """Enter the officer's username and password; the next page asks for the code (or refuses)."""
    tab.goto("/staff/sign-in")
    tab.page.locator("#username").fill(officer.user.username)
    tab.page.locator("#password").fill(officer.password)
    tab.click_button("Continue", status=status)


def officer_sign_in(tab: Tab, officer: Officer) -> None:
    """Sign the officer in through the real pages: password, then a fresh TOTP code."""
    assert officer.device is not None, "an officer without an authenticator must enrol first"
    officer_sign_in_to_code_step(tab, officer)
    assert tab.path == "/staff/sign-in/code", tab.path
    tab.page.locator("#code").fill(totp_fresh_code(officer.device))
    tab.click_button("Sign in")


def applicant_sign_in(tab: Tab, applicant: Applicant, *, next_path: str = "") -> None:
    """Sign the citizen in with email address and password."""
    tab.goto("/sign-in/password" + (f"?next={next_path}" if next_path else ""))
    tab.page.locator("#email").fill(applicant.email)
    tab.page.locator("#password").fill(applicant.password)
    tab.click_button("Sign in")

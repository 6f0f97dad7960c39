"""Fixtures of accounts' tests: a movable clock, staff with devices, real TOTP codes, a signed-in client."""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass

import pytest
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from govserve.accounts.models import Institution, User
from govserve.accounts.tests.factories import (
    STAFF_PASSWORD,
    device_create,
    institution_create,
    role_grant,
    staff_create,
)


class MovableClock:
    """Stands in for ``govserve.core.clock.now``: starts at the current hour, moves only when told."""

    def __init__(self, start: datetime.datetime) -> None:
        self.current = start

    def __call__(self) -> datetime.datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += datetime.timedelta(**delta)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> MovableClock:
    # Ten seconds into the current hour: rate limits count in fixed windows (up to an hour), so a test that
    # moves the clock by minutes never crosses a window edge by the chance of when it runs.
    movable = MovableClock(datetime.datetime.now(tz=datetime.UTC).replace(minute=0, second=10, microsecond=0))
    monkeypatch.setattr("govserve.core.clock.now", movable)
    return movable


def totp_code(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    """Return the 6-digit code ``device``'s app shows now (or ``steps_ahead`` 30-second steps later)."""
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=steps_ahead):06d}"


def fresh_code(device: TOTPDevice) -> str:
    """Return a code the device has not accepted yet (django-otp accepts each time step once)."""
    device.refresh_from_db()
    current_step = int((time.time() - device.t0) // device.step)
    ahead = max(0, device.last_t + 1 - current_step)
    if ahead > device.tolerance:
        # Both the current and the next step were used. Rather than wait for the next step (up to
        # 30 s of real time), let one step pass for this device alone: its epoch moves one step back,
        # so the app and the server (which reads t0 from the database) both count a step on.
        device.t0 -= device.step
        device.save(update_fields=["t0"])
        return fresh_code(device)
    return totp_code(device, steps_ahead=ahead)


@dataclass
class Staff:
    user: User
    device: TOTPDevice
    institution: Institution
    password: str = STAFF_PASSWORD


@pytest.fixture
def institution(db: None) -> Institution:
    return institution_create(code="city-council", name="Westmoor City Council")


@pytest.fixture
def officer(institution: Institution) -> Staff:
    user = staff_create(username="officer")
    role_grant(user=user, institution=institution, role="licensing_officer")
    return Staff(user=user, device=device_create(user=user), institution=institution)


@pytest.fixture
def administrator(institution: Institution) -> Staff:
    user = staff_create(username="admin")
    role_grant(user=user, institution=institution, role="administrator")
    return Staff(user=user, device=device_create(user=user), institution=institution)


def sign_in(client: Client, staff: Staff, *, next_url: str = "") -> None:
    """Sign ``staff`` in through the real pages (password, then a fresh TOTP code)."""
    data = {"username": staff.user.username, "password": staff.password}
    if next_url:
        data["next"] = next_url
    response = client.post("/staff/sign-in", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == "/staff/sign-in/code"
    response = client.post("/staff/sign-in/code", {"code": fresh_code(staff.device)})
    assert response.status_code == 302, response.content.decode()[:2000]


@pytest.fixture
def signed_in_officer(client: Client, officer: Staff) -> Staff:
    sign_in(client, officer)
    return officer


@pytest.fixture
def signed_in_administrator(client: Client, administrator: Staff) -> Staff:
    sign_in(client, administrator)
    return administrator


@dataclass(frozen=True)
class SentEmail:
    recipient: str
    subject: str
    body: str
    template: str
    owner: str


def sent_emails() -> list[SentEmail]:
    """Return every email queued so far, oldest first, opened (tests only)."""
    from govserve.notifications.email import FIELD_BODY, FIELD_RECIPIENT, FIELD_SUBJECT  # noqa: PLC0415
    from govserve.notifications.models import OutboundEmail  # noqa: PLC0415
    from govserve.privacy.crypto import unseal_text  # noqa: PLC0415

    return [
        SentEmail(
            recipient=unseal_text(owner=email.owner, field=FIELD_RECIPIENT, sealed=email.recipient_sealed),
            subject=unseal_text(owner=email.owner, field=FIELD_SUBJECT, sealed=email.subject_sealed),
            body=unseal_text(owner=email.owner, field=FIELD_BODY, sealed=email.body_sealed),
            template=email.template,
            owner=email.owner,
        )
        for email in OutboundEmail.objects.order_by("created_at", "id")
    ]

"""Demo accounts: idempotent, real MFA (TOTP secrets returned), refused outside the demo."""

from __future__ import annotations

import base64

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, override_settings
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from govserve.accounts import citizens
from govserve.accounts.demo import (
    DEMO_CITIZEN_EMAIL,
    DEMO_CITIZEN_PASSWORD,
    DEMO_STAFF_PASSWORD,
    demo_accounts_ensure,
    demo_logins_format,
)
from govserve.accounts.models import Institution, RoleAssignment, User

pytestmark = pytest.mark.django_db

ROLES = {"city-council": {"licensing_officer", "street_lighting_officer"}, "civil-registry": {"registrar"}}


@override_settings(GOVSERVE_DEMO=True)
def test_demo_accounts_are_created_with_real_totp_devices(client: Client) -> None:
    logins = demo_accounts_ensure(roles_by_institution=ROLES)

    assert [(login.kind, login.username, login.roles) for login in logins] == [
        ("staff", "demo-admin", ("city-council:administrator", "civil-registry:administrator")),
        ("staff", "city-council-licensing-officer", ("city-council:licensing_officer",)),
        ("staff", "city-council-street-lighting-officer", ("city-council:street_lighting_officer",)),
        ("staff", "civil-registry-registrar", ("civil-registry:registrar",)),
        ("citizen", DEMO_CITIZEN_EMAIL, ()),
    ]
    assert Institution.objects.get(code="city-council").name == "Westmoor City Council"
    # a demo officer signs in with the password and a code computed from the printed secret
    officer = logins[1]
    assert officer.otpauth_uri.startswith("otpauth://totp/govserve%3Acity-council-licensing-officer?secret=")
    key = base64.b32decode(officer.totp_secret_base32)
    assert (
        client.post("/staff/sign-in", {"username": officer.username, "password": DEMO_STAFF_PASSWORD})["Location"]
        == "/staff/sign-in/code"
    )
    response = client.post("/staff/sign-in/code", {"code": f"{totp(key):06d}"})
    assert response["Location"] == "/staff/"
    # the demo citizen signs in with the demo password
    citizen_client = Client()
    response = citizen_client.post(
        "/sign-in/password", {"email": DEMO_CITIZEN_EMAIL, "password": DEMO_CITIZEN_PASSWORD}
    )
    assert response["Location"] == "/account"


@override_settings(GOVSERVE_DEMO=True)
def test_demo_accounts_are_idempotent_and_keep_their_secrets() -> None:
    first = demo_accounts_ensure(roles_by_institution=ROLES)

    second = demo_accounts_ensure(roles_by_institution=ROLES)

    assert first == second
    assert User.objects.count() == 4
    assert TOTPDevice.objects.count() == 4
    assert RoleAssignment.objects.count() == 5
    citizen = citizens.citizen_find_by_email(DEMO_CITIZEN_EMAIL)
    assert citizen is not None
    assert citizen.has_password


@override_settings(GOVSERVE_DEMO=False)
def test_demo_accounts_are_refused_outside_the_demo() -> None:
    with pytest.raises(ImproperlyConfigured, match="only when GOVSERVE_DEMO is on"):
        demo_accounts_ensure(roles_by_institution=ROLES)

    assert User.objects.count() == 0


@override_settings(GOVSERVE_DEMO=True)
def test_the_printed_logins_show_secrets_and_uris() -> None:
    logins = demo_accounts_ensure(roles_by_institution={"health-agency": {"registration_officer"}})

    text = demo_logins_format(logins)

    assert f"TOTP secret: {logins[0].totp_secret_base32}" in text
    assert logins[1].otpauth_uri in text
    assert f"citizen {DEMO_CITIZEN_EMAIL}  password: {DEMO_CITIZEN_PASSWORD}" in text

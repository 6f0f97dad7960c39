"""Demo accounts: idempotent, real MFA (TOTP secrets returned), refused outside the demo."""

from __future__ import annotations

import base64

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
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


@override_settings(GOVSERVE_DEMO=True)
def test_a_rerun_hashes_no_password_and_writes_no_staff_row(monkeypatch: pytest.MonkeyPatch) -> None:
    # given the demo accounts exist
    demo_accounts_ensure(roles_by_institution=ROLES)
    hashes = dict(User.objects.values_list("username", "password"))
    hashed: list[str] = []
    real_set_password = User.set_password

    def counting_set_password(self: User, raw_password: str | None) -> None:
        hashed.append(self.username)
        real_set_password(self, raw_password)

    monkeypatch.setattr(User, "set_password", counting_set_password)
    # when the demo starts again
    with CaptureQueriesContext(connection) as queries:
        demo_accounts_ensure(roles_by_institution=ROLES)
    # then no password was hashed and no staff row written
    assert hashed == []
    assert dict(User.objects.values_list("username", "password")) == hashes
    user_table = User._meta.db_table
    writes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith(("UPDATE", "INSERT"))]
    assert [sql for sql in writes if user_table in sql.split("SET")[0].split("VALUES")[0]] == []


@override_settings(GOVSERVE_DEMO=True)
def test_a_rerun_keeps_an_open_demo_session(client: Client) -> None:
    logins = demo_accounts_ensure(roles_by_institution=ROLES)
    officer = logins[1]
    client.post("/staff/sign-in", {"username": officer.username, "password": DEMO_STAFF_PASSWORD})
    client.post("/staff/sign-in/code", {"code": f"{totp(base64.b32decode(officer.totp_secret_base32)):06d}"})
    assert client.get("/staff/").status_code == 200

    demo_accounts_ensure(roles_by_institution=ROLES)

    assert client.get("/staff/").status_code == 200


@override_settings(GOVSERVE_DEMO=True)
def test_a_rerun_puts_back_a_changed_password_and_a_deactivated_account() -> None:
    demo_accounts_ensure(roles_by_institution=ROLES)
    changed = User.objects.get(username="city-council-licensing-officer")
    changed.set_password("someone-changed-it-2026")
    changed.save()
    User.objects.filter(username="civil-registry-registrar").update(is_active=False)

    demo_accounts_ensure(roles_by_institution=ROLES)

    changed.refresh_from_db()
    assert changed.check_password(DEMO_STAFF_PASSWORD)
    assert User.objects.get(username="civil-registry-registrar").is_active is True

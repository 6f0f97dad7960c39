"""Password hashing: argon2id with OWASP's parameters, older hashes verified and upgraded at sign-in.

docs/decisions/0007-password-hashing-parameters.md. The test settings hash
with MD5 for speed; these tests put the production hashers back.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher, check_password, identify_hasher, make_password
from django.test import Client, override_settings

from config.settings.base import PASSWORD_HASHERS
from govserve.accounts import citizens
from govserve.accounts.hashers import Argon2idPasswordHasher
from govserve.accounts.models import Citizen, User
from govserve.accounts.tests.conftest import Staff

PASSWORD = "a-long-and-unusual-passphrase-1815"
EMAIL = "ada.lovelace@example.org"
# The hash Django's own Argon2PasswordHasher made (100 MiB, 2 passes, 8 lanes): accounts created before 0007.
DJANGO_DEFAULT = Argon2PasswordHasher().encode(PASSWORD, "b3JpZ2luYWxzYWx0MTIz")

production_hashers = override_settings(PASSWORD_HASHERS=PASSWORD_HASHERS)


def _parameters(encoded: str) -> str:
    # argon2$argon2id$v=19$m=19456,t=2,p=1$salt$hash -> "m=19456,t=2,p=1"
    return encoded.split("$")[3]


def test_production_hashes_new_passwords_with_owasps_argon2id_parameters() -> None:
    assert PASSWORD_HASHERS[0] == "govserve.accounts.hashers.Argon2idPasswordHasher"
    with production_hashers:
        encoded = make_password(PASSWORD)

        assert encoded.startswith("argon2$argon2id$v=19$")
        assert _parameters(encoded) == "m=19456,t=2,p=1"
        assert check_password(PASSWORD, encoded)
        assert not check_password(PASSWORD + "x", encoded)
        assert not identify_hasher(encoded).must_update(encoded)


def test_a_hash_with_djangos_parameters_still_verifies_and_is_marked_for_upgrade() -> None:
    upgraded: list[str] = []
    with production_hashers:
        assert _parameters(DJANGO_DEFAULT) == "m=102400,t=2,p=8"
        assert isinstance(identify_hasher(DJANGO_DEFAULT), Argon2idPasswordHasher)

        assert not check_password("wrong passphrase", DJANGO_DEFAULT, setter=upgraded.append)
        assert upgraded == []  # a wrong password upgrades nothing
        assert check_password(PASSWORD, DJANGO_DEFAULT, setter=upgraded.append)

    assert upgraded == [PASSWORD]


@pytest.mark.django_db
def test_a_citizens_old_hash_is_replaced_when_they_sign_in_with_their_password(client: Client) -> None:
    citizen = citizens.citizen_create(email=EMAIL)
    Citizen.objects.filter(pk=citizen.pk).update(password_hash=DJANGO_DEFAULT)

    with production_hashers:
        response = client.post("/sign-in/password", {"email": EMAIL, "password": PASSWORD})

    assert response.status_code == 302
    stored = Citizen.objects.get(pk=citizen.pk).password_hash
    assert _parameters(stored) == "m=19456,t=2,p=1"
    with production_hashers:
        assert check_password(PASSWORD, stored)


@pytest.mark.django_db
def test_a_wrong_password_leaves_a_citizens_old_hash_alone(client: Client) -> None:
    citizen = citizens.citizen_create(email=EMAIL)
    Citizen.objects.filter(pk=citizen.pk).update(password_hash=DJANGO_DEFAULT)

    with production_hashers:
        response = client.post("/sign-in/password", {"email": EMAIL, "password": "not the passphrase at all"})

    assert response.status_code == 401
    assert Citizen.objects.get(pk=citizen.pk).password_hash == DJANGO_DEFAULT


def test_staff_hashes_are_upgraded_on_the_password_step(client: Client, officer: Staff) -> None:
    User.objects.filter(pk=officer.user.pk).update(
        password=Argon2PasswordHasher().encode(officer.password, "c3RhZmZzYWx0MTIzNDU2")
    )

    with production_hashers:
        response = client.post("/staff/sign-in", {"username": officer.user.username, "password": officer.password})

    assert response["Location"] == "/staff/sign-in/code"
    assert _parameters(User.objects.get(pk=officer.user.pk).password) == "m=19456,t=2,p=1"


def test_hashing_a_password_needs_about_19_mib_instead_of_100() -> None:
    # Each in a fresh process, so the growth of its peak resident memory is this one hash's.
    ours = _fresh_peak_kib("ours")
    django = _fresh_peak_kib("django")

    assert 18 * 1024 <= ours <= 24 * 1024
    assert django >= 95 * 1024


_FRESH = """
import json, sys
from govserve.accounts.hashers import Argon2idPasswordHasher
from django.contrib.auth.hashers import Argon2PasswordHasher
import argon2  # loaded before the baseline, as a worker has it loaded

def high_water_kib():
    # VmHWM: this process's peak resident memory. Not ru_maxrss: Linux carries that over exec from the parent.
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))

hasher = {"ours": Argon2idPasswordHasher, "django": Argon2PasswordHasher}[sys.argv[1]]()
before = high_water_kib()
hasher.encode("a passphrase to hash", "c2FsdHNhbHRzYWx0")
print(json.dumps(high_water_kib() - before))
"""


def _fresh_peak_kib(which: str) -> int:
    out = subprocess.run(
        [sys.executable, "-c", _FRESH, which], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    return int(json.loads(out))

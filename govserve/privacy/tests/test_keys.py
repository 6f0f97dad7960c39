"""Key configuration (GOVSERVE_KEYS, GOVSERVE_BLIND_INDEX_KEY) and the system checks that guard it."""

from __future__ import annotations

import base64
import io

import pytest
from django.core.checks import Tags, run_checks
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from govserve.privacy.crypto import blind_index, seal
from govserve.privacy.keys import generate_key_entry, key_ring, parse_blind_index_key, parse_key_ring
from govserve.privacy.models import DataKey
from govserve.privacy.tests.kek import NEW_KEK, OLD_KEK, kek_entry

DEV_KEK = "dev1:ZGV2ZWxvcG1lbnQta2V5LWVuY3J5cHRpb24ta2V5LTE="
DEV_BLIND = "ZGV2ZWxvcG1lbnQtYmxpbmQtaW5kZXgta2V5LTEyMzQ="
PROD_BLIND = base64.b64encode(b"P" * 32).decode("ascii")
SECRET_MATERIAL = base64.b64encode(bytes([0x5A]) * 16).decode("ascii")


def test_the_first_entry_is_the_current_key() -> None:
    ring = parse_key_ring([NEW_KEK, OLD_KEK])

    assert ring.current.id == "new"
    assert ring.ids == ["new", "old"]
    assert ring.by_id["old"].material == bytes([0x11]) * 32


def test_key_material_never_prints() -> None:
    ring = parse_key_ring([NEW_KEK])

    assert base64.b64encode(ring.current.material).decode() not in repr(ring)
    assert "material" not in repr(ring.current)


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([], "GOVSERVE_KEYS is empty"),
        ("new:abc", "GOVSERVE_KEYS must be a list"),
        (["no-colon"], "GOVSERVE_KEYS entry 1 must look like 'id:base64key'"),
        ([NEW_KEK, 42], "GOVSERVE_KEYS entry 2 must look like 'id:base64key'"),
        ([f"bad id:{SECRET_MATERIAL}"], "GOVSERVE_KEYS entry 1: the id must be 1-32 characters"),
        ([f":{SECRET_MATERIAL}"], "GOVSERVE_KEYS entry 1: the id must be 1-32 characters"),
        ([f"{'x' * 33}:{SECRET_MATERIAL}"], "GOVSERVE_KEYS entry 1: the id must be 1-32 characters"),
        ([NEW_KEK, kek_entry("new", 0x44)], "GOVSERVE_KEYS: the id 'new' appears more than once"),
        (["short:" + SECRET_MATERIAL], "GOVSERVE_KEYS: the key of 'short' must be 32 bytes, got 16"),
        (["bad:not base64!!"], "GOVSERVE_KEYS: the key of 'bad' is not valid base64"),
        ([NEW_KEK, NEW_KEK.replace("new:", "again:")], "GOVSERVE_KEYS: the key of 'again' repeats the key of another"),
    ],
)
def test_malformed_keys_are_refused_naming_the_variable_but_not_the_key(entries: object, message: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=message) as refused:
        parse_key_ring(entries)

    assert SECRET_MATERIAL not in str(refused.value)
    assert NEW_KEK.split(":")[1] not in str(refused.value)


def test_keys_are_read_at_call_time(settings: object) -> None:
    settings.GOVSERVE_KEYS = [OLD_KEK]  # type: ignore[attr-defined]
    assert key_ring().current.id == "old"

    settings.GOVSERVE_KEYS = [NEW_KEK, OLD_KEK]  # type: ignore[attr-defined]

    assert key_ring().current.id == "new"


def test_a_missing_setting_is_refused(settings: object) -> None:
    del settings.GOVSERVE_KEYS  # type: ignore[attr-defined]

    with pytest.raises(ImproperlyConfigured, match="GOVSERVE_KEYS is not set"):
        key_ring()


@pytest.mark.django_db
def test_sealing_without_keys_is_refused_and_writes_nothing(settings: object) -> None:
    settings.GOVSERVE_KEYS = []  # type: ignore[attr-defined]

    with pytest.raises(ImproperlyConfigured, match="GOVSERVE_KEYS is empty"):
        seal(owner="application:no-keys", field="email", plaintext="ada@example.org")

    assert DataKey.objects.count() == 0


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "GOVSERVE_BLIND_INDEX_KEY is empty"),
        (None, "GOVSERVE_BLIND_INDEX_KEY is empty"),
        ("***", "GOVSERVE_BLIND_INDEX_KEY: the key is not valid base64"),
        (SECRET_MATERIAL, "GOVSERVE_BLIND_INDEX_KEY must be at least 32 bytes, got 16"),
    ],
)
def test_malformed_blind_index_keys_are_refused(settings: object, value: object, message: str) -> None:
    settings.GOVSERVE_BLIND_INDEX_KEY = value  # type: ignore[attr-defined]

    with pytest.raises(ImproperlyConfigured, match=message):
        blind_index("ada@example.org", purpose="citizen.email")
    with pytest.raises(ImproperlyConfigured, match=message):
        parse_blind_index_key(value)


def test_generated_entries_are_valid_and_random() -> None:
    first, second = generate_key_entry("k1"), generate_key_entry("k2")

    ring = parse_key_ring([first, second])

    assert ring.ids == ["k1", "k2"]
    assert ring.by_id["k1"].material != ring.by_id["k2"].material


# --- System checks ----------------------------------------------------------------------------------


def privacy_check_ids(*, deploy: bool) -> list[str]:
    # The security checks only: the whole registry includes model checks, which reach the database
    # (not allowed in these tests) whenever an earlier test in the process left a connection open.
    messages = run_checks(tags=[Tags.security], include_deployment_checks=deploy)
    return sorted(str(m.id) for m in messages if str(m.id).startswith("privacy."))


def test_deploy_check_refuses_the_development_keys(settings: object) -> None:
    settings.GOVSERVE_KEYS = [DEV_KEK]  # type: ignore[attr-defined]
    settings.GOVSERVE_BLIND_INDEX_KEY = DEV_BLIND  # type: ignore[attr-defined]

    assert privacy_check_ids(deploy=True) == ["privacy.E003", "privacy.E004"]
    assert privacy_check_ids(deploy=False) == []


def test_deploy_check_refuses_the_development_key_under_another_id_or_as_an_older_key(settings: object) -> None:
    settings.GOVSERVE_KEYS = [NEW_KEK, DEV_KEK.replace("dev1:", "renamed:")]  # type: ignore[attr-defined]
    settings.GOVSERVE_BLIND_INDEX_KEY = PROD_BLIND  # type: ignore[attr-defined]

    messages = [m for m in run_checks(tags=[Tags.security], include_deployment_checks=True) if m.id == "privacy.E003"]

    assert [m.msg for m in messages] == ["GOVSERVE_KEYS holds the public development key (id renamed)"]


def test_deploy_check_refuses_missing_keys(settings: object) -> None:
    settings.GOVSERVE_KEYS = []  # type: ignore[attr-defined]
    settings.GOVSERVE_BLIND_INDEX_KEY = ""  # type: ignore[attr-defined]

    assert privacy_check_ids(deploy=True) == ["privacy.E001", "privacy.E002"]
    # Without --deploy a release can still be built (collectstatic) without secrets.
    assert privacy_check_ids(deploy=False) == []


def test_deploy_check_passes_production_keys(settings: object) -> None:
    settings.GOVSERVE_KEYS = [NEW_KEK, OLD_KEK]  # type: ignore[attr-defined]
    settings.GOVSERVE_BLIND_INDEX_KEY = PROD_BLIND  # type: ignore[attr-defined]

    assert privacy_check_ids(deploy=True) == []


def test_malformed_keys_fail_every_check(settings: object) -> None:
    settings.GOVSERVE_KEYS = ["short:" + SECRET_MATERIAL]  # type: ignore[attr-defined]
    settings.GOVSERVE_BLIND_INDEX_KEY = SECRET_MATERIAL  # type: ignore[attr-defined]

    assert privacy_check_ids(deploy=False) == ["privacy.E001", "privacy.E002"]


def test_a_blind_index_key_reusing_a_kek_is_refused(settings: object) -> None:
    settings.GOVSERVE_KEYS = [NEW_KEK]  # type: ignore[attr-defined]
    settings.GOVSERVE_BLIND_INDEX_KEY = NEW_KEK.split(":", 1)[1]  # type: ignore[attr-defined]

    assert privacy_check_ids(deploy=False) == ["privacy.E005"]


def test_govserve_check_deploy_fails_on_development_keys(settings: object) -> None:
    settings.GOVSERVE_KEYS = [DEV_KEK]  # type: ignore[attr-defined]
    settings.GOVSERVE_BLIND_INDEX_KEY = DEV_BLIND  # type: ignore[attr-defined]

    with pytest.raises(SystemCheckError) as failed:
        call_command("check", "--deploy", "--tag", "security", stdout=io.StringIO(), stderr=io.StringIO())

    assert "(privacy.E003) GOVSERVE_KEYS holds the public development key (id dev1)" in str(failed.value)
    assert "(privacy.E004) GOVSERVE_BLIND_INDEX_KEY is the public development key" in str(failed.value)


@pytest.mark.django_db
def test_database_check_refuses_data_keys_under_a_missing_kek(settings: object) -> None:
    settings.GOVSERVE_KEYS = [OLD_KEK]  # type: ignore[attr-defined]
    seal(owner="application:check", field="email", plaintext="ada@example.org")
    settings.GOVSERVE_KEYS = [NEW_KEK]  # type: ignore[attr-defined]

    messages = [m for m in run_checks(databases=["default"]) if m.id == "privacy.E006"]

    assert [m.msg for m in messages] == ["data keys are wrapped by key-encryption keys missing from GOVSERVE_KEYS: old"]
    settings.GOVSERVE_KEYS = [NEW_KEK, OLD_KEK]  # type: ignore[attr-defined]
    assert [m for m in run_checks(databases=["default"]) if m.id == "privacy.E006"] == []

"""Key configuration: the deployment check refuses the development key; `govserve results keys` prints public keys."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from govserve.casework.results import checks, signing


def _ids(messages: list[Any]) -> list[str]:
    return [message.id for message in messages]


def test_the_deployment_check_refuses_the_development_key(settings: Any) -> None:
    settings.GOVSERVE_RESULT_SIGNING_KEYS = [signing.generate_key_entry("new"), signing.DEVELOPMENT_KEY_ENTRY]

    messages = checks.check_result_keys_for_production()

    assert _ids(messages) == ["casework_results.E002"]
    assert "dev-results-1" in messages[0].msg
    assert "ZGV2" not in messages[0].msg


def test_the_deployment_check_refuses_no_key_and_passes_a_real_one(settings: Any) -> None:
    settings.GOVSERVE_RESULT_SIGNING_KEYS = []
    assert _ids(checks.check_result_keys_for_production()) == ["casework_results.E001"]

    settings.GOVSERVE_RESULT_SIGNING_KEYS = [signing.generate_key_entry("k2026")]
    assert checks.check_result_keys_for_production() == []
    assert checks.check_result_keys() == []


def test_malformed_keys_are_refused_by_every_check(settings: Any) -> None:
    settings.GOVSERVE_RESULT_SIGNING_KEYS = ["k1:tooshort"]

    assert _ids(checks.check_result_keys()) == ["casework_results.E001"]
    assert checks.check_result_keys_for_production() == []  # reported once, by the general check


def test_the_development_settings_sign_with_the_development_key() -> None:
    assert signing.key_ring().active.id == "dev-results-1"


def test_keys_prints_a_jwk_set_of_public_keys_only(settings: Any) -> None:
    active = signing.generate_key_entry("k2026")
    settings.GOVSERVE_RESULT_SIGNING_KEYS = [active, signing.DEVELOPMENT_KEY_ENTRY]
    out = io.StringIO()

    call_command("results", "keys", stdout=out)

    printed = json.loads(out.getvalue())
    assert printed["active"] == "k2026"
    assert [key["kid"] for key in printed["keys"]] == ["k2026", "dev-results-1"]
    assert all(set(key) == {"kty", "crv", "x", "kid", "alg", "use"} for key in printed["keys"])
    assert active.split(":", 1)[1] not in out.getvalue()


def test_keys_prints_pem(settings: Any) -> None:
    out = io.StringIO()

    call_command("results", "keys", "--format", "pem", stdout=out)

    text = out.getvalue()
    assert text.startswith("# key id: dev-results-1 (signing)\n-----BEGIN PUBLIC KEY-----\n")
    assert "PRIVATE" not in text


def test_keys_generate_prints_a_usable_entry() -> None:
    out = io.StringIO()

    call_command("results", "keys", "generate", "k2027", stdout=out)

    entry = out.getvalue().strip()
    assert signing.parse_signing_keys([entry]).active.id == "k2027"
    with pytest.raises(CommandError, match="1-16 characters"):
        call_command("results", "keys", "generate", "not a valid id")


def test_keys_without_a_signing_key_says_what_to_configure(settings: Any) -> None:
    settings.GOVSERVE_RESULT_SIGNING_KEYS = []

    with pytest.raises(CommandError, match="GOVSERVE_RESULT_SIGNING_KEYS is empty"):
        call_command("results", "keys")

"""Verification codes: format, signatures, keys, rotation, and every kind of bad input."""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.exceptions import ImproperlyConfigured
from hypothesis import given
from hypothesis import strategies as st

from govserve.casework.results import signing
from govserve.casework.results.signing import code_bytes, code_sign, code_text, code_verify, parse_signing_keys

RESULT_ID = uuid.UUID("3f2a8c1e-0b7d-4e52-9a31-6c1d2e4f5a6b")
DAY = dt.date(2026, 11, 27)


def _entry(key_id: str) -> str:
    return signing.generate_key_entry(key_id)


def _public_entry(private_entry: str) -> str:
    key_id, _, encoded = private_entry.partition(":")
    public = Ed25519PrivateKey.from_private_bytes(base64.b64decode(encoded)).public_key()
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return f"{key_id}:{base64.b64encode(raw).decode()}"


@pytest.fixture
def keys(settings: Any) -> list[str]:
    entries = [_entry("k2026a"), _entry("k2025b")]
    settings.GOVSERVE_RESULT_SIGNING_KEYS = entries
    settings.GOVSERVE_RESULT_VERIFY_KEYS = []
    return entries


def test_a_code_carries_the_key_result_and_day_and_verifies(keys: list[str]) -> None:
    code, key_id = code_sign(result_id=RESULT_ID, issued_on=DAY)

    payload = code_verify(code)

    assert key_id == "k2026a"
    assert payload == signing.CodePayload(key_id="k2026a", result_id=RESULT_ID, issued_on=DAY)
    assert len(code) == 144  # 90 bytes (2 + a 6-character key id + 16 + 2 + 64) in base32
    assert code == code.lower()


def test_codes_are_deterministic_and_read_in_any_case_with_spaces_and_hyphens(keys: list[str]) -> None:
    code, _ = code_sign(result_id=RESULT_ID, issued_on=DAY)
    again, _ = code_sign(result_id=RESULT_ID, issued_on=DAY)
    grouped = "-".join(code[i : i + 5] for i in range(0, len(code), 5)).upper()

    assert again == code
    assert code_verify(grouped) == code_verify(code)
    assert code_verify(f"  {code}\n") is not None


def test_every_single_byte_altered_is_refused(keys: list[str]) -> None:
    code, _ = code_sign(result_id=RESULT_ID, issued_on=DAY)
    raw = code_bytes(code)
    assert raw is not None

    accepted = []
    for position in range(len(raw)):
        altered = raw[:position] + bytes([raw[position] ^ 0x01]) + raw[position + 1 :]
        if code_verify(code_text(altered)) is not None:
            accepted.append(position)

    assert accepted == []


def test_a_code_signed_with_another_key_under_our_key_id_is_forged(keys: list[str]) -> None:
    forger = Ed25519PrivateKey.generate()
    body = signing._body("k2026a", RESULT_ID, DAY)
    forged = code_text(body + forger.sign(signing.DOMAIN + body))

    assert code_verify(forged) is None


def test_a_code_under_an_unknown_key_id_is_refused(keys: list[str], settings: Any) -> None:
    other = _entry("elsewhere")
    code, _ = code_sign(result_id=RESULT_ID, issued_on=DAY, key=parse_signing_keys([other]).active)

    assert code_verify(code) is None


def test_a_signature_without_the_domain_label_does_not_verify(keys: list[str]) -> None:
    ring = signing.key_ring()
    body = signing._body("k2026a", RESULT_ID, DAY)
    assert ring.active.private is not None
    undomained = code_text(body + ring.active.private.sign(body))

    assert code_verify(undomained) is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "a",
        "not a code at all",
        "../../etc/passwd",
        "%00%ff",
        "\x00\x01",
        "é" * 50,
        "a" * 399,
        "a" * 5000,
        "ab" * 70 + "1",
        "MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43UOV3HO6DZPI",
    ],
)
def test_garbage_is_never_genuine_and_never_raises(keys: list[str], text: str) -> None:
    assert code_verify(text) is None


def test_truncated_and_extended_codes_are_refused(keys: list[str]) -> None:
    code, _ = code_sign(result_id=RESULT_ID, issued_on=DAY)

    for length in range(len(code)):
        assert code_verify(code[:length]) is None, length
    assert code_verify(code + "a") is None
    assert code_verify(code + "aaaaaaaa") is None


@given(st.binary(max_size=120))
def test_any_bytes_are_refused_without_an_exception(data: bytes) -> None:
    keys = [signing.DEVELOPMENT_KEY_ENTRY]
    ring = parse_signing_keys(keys)
    assert code_verify(code_text(data), keys=list(ring.by_id.values())) is None


@given(st.text(max_size=300))
def test_any_text_is_refused_without_an_exception(text: str) -> None:
    ring = parse_signing_keys([signing.DEVELOPMENT_KEY_ENTRY])
    assert code_verify(text, keys=list(ring.by_id.values())) is None


def test_rotation_keeps_old_codes_verifying_and_signs_with_the_new_key(settings: Any) -> None:
    # given a code signed under the 2025 key
    old = _entry("k2025")
    settings.GOVSERVE_RESULT_SIGNING_KEYS = [old]
    settings.GOVSERVE_RESULT_VERIFY_KEYS = []
    old_code, _ = code_sign(result_id=RESULT_ID, issued_on=DAY)
    # when a new key is put first
    settings.GOVSERVE_RESULT_SIGNING_KEYS = [_entry("k2026"), old]
    new_code, new_key = code_sign(result_id=RESULT_ID, issued_on=DAY)
    # then new codes use it and the old code still verifies
    assert new_key == "k2026"
    assert code_verify(old_code) is not None
    assert code_verify(new_code) is not None
    # and once the old private key is destroyed, its public half alone keeps old codes verifying
    settings.GOVSERVE_RESULT_SIGNING_KEYS = [settings.GOVSERVE_RESULT_SIGNING_KEYS[0]]
    assert code_verify(old_code) is None
    settings.GOVSERVE_RESULT_VERIFY_KEYS = [_public_entry(old)]
    assert code_verify(old_code) is not None
    assert signing.key_ring().by_id["k2025"].can_sign is False


@pytest.mark.parametrize(
    ("signing_keys", "verify_keys", "message"),
    [
        ([], [], "GOVSERVE_RESULT_SIGNING_KEYS is empty"),
        ("k1:abc", [], "must be a list"),
        (["no-colon"], [], "entry 1 must look like 'id:base64key'"),
        (["bad id!:AAAA"], [], "entry 1: the id must be"),
        (["k1:not base64!"], [], "the key of 'k1' is not valid base64"),
        (["k1:" + base64.b64encode(b"short").decode()], [], "must be 32 bytes, got 5"),
        ([signing.DEVELOPMENT_KEY_ENTRY, signing.DEVELOPMENT_KEY_ENTRY], [], "appears more than once"),
        ([signing.DEVELOPMENT_KEY_ENTRY], ["dev-results-1:" + "A" * 43 + "="], "also in"),
    ],
)
def test_malformed_key_settings_are_refused_without_echoing_keys(
    signing_keys: Any, verify_keys: list[str], message: str
) -> None:
    with pytest.raises(ImproperlyConfigured, match=message) as raised:
        parse_signing_keys(signing_keys, verify_keys)
    assert "ZGV2ZWxvcG1lbnQ" not in str(raised.value)


def test_the_public_key_prints_as_pem_and_as_an_rfc8037_jwk() -> None:
    key = parse_signing_keys([signing.DEVELOPMENT_KEY_ENTRY]).active

    jwk = key.public_jwk()

    assert key.public_pem().startswith("-----BEGIN PUBLIC KEY-----")
    assert jwk["kty"] == "OKP"
    assert jwk["crv"] == "Ed25519"
    assert jwk["kid"] == "dev-results-1"
    assert base64.urlsafe_b64decode(jwk["x"] + "=") == key.public_raw
    assert "d" not in jwk


def test_only_the_canonical_spelling_of_a_code_is_read(keys: list[str]) -> None:
    # a 5-character key id makes 89 bytes: the last base32 character carries 3 unused bits
    settings_key = signing.parse_signing_keys([signing.generate_key_entry("k2026")]).active
    code, _ = code_sign(result_id=RESULT_ID, issued_on=DAY, key=settings_key)
    alphabet = "abcdefghijklmnopqrstuvwxyz234567"
    value = alphabet.index(code[-1])
    assert value & 0b111 == 0

    variants = [code[:-1] + alphabet[value | bits] for bits in range(1, 8)]

    assert code_verify(code, keys=[settings_key]) is not None
    assert [code_verify(variant, keys=[settings_key]) for variant in variants] == [None] * 7

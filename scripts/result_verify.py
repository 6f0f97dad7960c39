#!/usr/bin/env python3
"""Check a govserve result code offline: is it signed by the issuer, and what does it say?

Needs Python 3.10+ and the ``cryptography`` package, nothing of govserve::

    govserve results keys > keys.json            # the issuer publishes its public keys (JWK set)
    python result_verify.py --keys keys.json CODE  # or the whole https://.../verify/CODE address

Prints what a genuine code proves (the result id, the issue date and the key
id) and exits 0; prints "not genuine" and exits 1 for anything else. A
genuine code proves the issuer signed it; whether the result has since been
revoked or has expired only the issuer's /verify page can say. The format is
in docs/results.md ("Checking a code offline").
"""

from __future__ import annotations

import argparse
import base64
import binascii
import datetime as dt
import json
import re
import struct
import sys
import uuid
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

DOMAIN = b"govserve.result.v1\x00"
FORMAT_VERSION = 1
KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,16}$")
EPOCH = dt.date(1970, 1, 1)


def load_keys(text: str) -> dict[str, Ed25519PublicKey]:
    """Return the public keys by key id, from a JWK set (JSON) or PEM blocks each after ``# key id: <id>``."""
    keys: dict[str, Ed25519PublicKey] = {}
    if text.lstrip().startswith("{"):
        for jwk in json.loads(text)["keys"]:
            if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519":
                raw = base64.urlsafe_b64decode(jwk["x"] + "=" * (-len(jwk["x"]) % 4))
                keys[jwk["kid"]] = Ed25519PublicKey.from_public_bytes(raw)
        return keys
    for key_id, pem in re.findall(
        r"# key id: (\S+)[^\n]*\n(-----BEGIN PUBLIC KEY-----.*?-----END PUBLIC KEY-----)", text, re.DOTALL
    ):
        public = load_pem_public_key(pem.encode("ascii"))
        if isinstance(public, Ed25519PublicKey):
            keys[key_id] = public
    return keys


def code_from(text: str) -> str:
    """Return the code in ``text``: the code itself, or the part after /verify/ of an address."""
    match = re.search(r"/verify/([^/?#\s]+)", text)
    return match.group(1) if match else text


def verify(text: str, keys: dict[str, Ed25519PublicKey]) -> dict[str, str] | None:  # noqa: PLR0911 - one refusal per check
    """Return {key_id, result_id, issued_on} when the code is genuine under ``keys``; None otherwise."""
    compact = re.sub(r"[\s-]+", "", code_from(text)).upper()
    if not compact or len(compact) > 400 or not compact.isascii():
        return None
    try:
        raw = base64.b32decode(compact + "=" * (-len(compact) % 8))
    except (binascii.Error, ValueError):
        return None
    if base64.b32encode(raw).decode("ascii").rstrip("=") != compact:
        return None  # not the canonical spelling (set padding bits in the last character)
    if len(raw) < 2 or raw[0] != FORMAT_VERSION or not 1 <= raw[1] <= 16:
        return None
    key_length = raw[1]
    signed_end = 2 + key_length + 16 + 2
    if len(raw) != signed_end + 64:
        return None
    try:
        key_id = raw[2 : 2 + key_length].decode("ascii")
    except UnicodeDecodeError:
        return None
    key = keys.get(key_id) if KEY_ID.match(key_id) else None
    if key is None:
        return None
    try:
        key.verify(raw[signed_end:], DOMAIN + raw[:signed_end])
    except InvalidSignature:
        return None
    result_id = uuid.UUID(bytes=raw[2 + key_length : 2 + key_length + 16])
    (days,) = struct.unpack(">H", raw[signed_end - 2 : signed_end])
    return {"key_id": key_id, "result_id": str(result_id), "issued_on": (EPOCH + dt.timedelta(days=days)).isoformat()}


def main(argv: list[str] | None = None) -> int:
    """Verify the code given on the command line; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", required=True, type=Path, help="The issuer's public keys (JWK set or PEM).")
    parser.add_argument("code", help="The code, or the address the QR code opens.")
    arguments = parser.parse_args(argv)
    found = verify(arguments.code, load_keys(arguments.keys.read_text(encoding="utf-8")))
    if found is None:
        print("not genuine: this code was not signed by any of these keys, or it was changed")
        return 1
    print(f"genuine: result {found['result_id']} issued on {found['issued_on']}, signed with key {found['key_id']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

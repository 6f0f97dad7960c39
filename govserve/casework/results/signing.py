"""Verification codes of issued results: Ed25519-signed, compact, readable offline.

A result's code is what its QR code and its ``/verify/<code>`` address carry.
It proves that *we* issued result X on day D; the public page then adds what
only the server knows (the result's type, holder, validity, revocation).

**Format 1** (binary, then base32 without padding, lower case; decoding
ignores case, spaces and hyphens)::

    offset  size  meaning
    0       1     format: 0x01
    1       1     n, the length of the key id (1..16)
    2       n     key id, ASCII [A-Za-z0-9_.-]
    2+n     16    result id (the IssuedResult's UUID, big-endian bytes)
    18+n    2     issue date: days since 1970-01-01, unsigned big-endian
    20+n    64    Ed25519 signature of DOMAIN || bytes[0 : 20+n]

    DOMAIN = b"govserve.result.v1\\x00"

With a 4-character key id the code is 88 bytes, 141 characters. The domain
label keeps a signature from ever standing for another message signed by the
same key.

**Keys.** ``settings.GOVSERVE_RESULT_SIGNING_KEYS`` is a list of
``"<key id>:<base64 of the 32-byte Ed25519 private key>"``: the first signs
new codes, the others still verify the codes they signed (rotation: put the
new key first). ``settings.GOVSERVE_RESULT_VERIFY_KEYS`` lists retired keys
by their public half only (``"<key id>:<base64 of the 32-byte public key>"``),
so a private key can be destroyed while its codes stay verifiable. Settings
are read at call time (parsed once per distinct value) and never echoed in
errors. ``govserve results keys`` prints the public keys (PEM or JWK) for
offline verifiers (docs/results.md).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
import struct
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

SIGNING_SETTING = "GOVSERVE_RESULT_SIGNING_KEYS"
VERIFY_SETTING = "GOVSERVE_RESULT_VERIFY_KEYS"
FORMAT_VERSION = 1
DOMAIN = b"govserve.result.v1\x00"
KEY_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,16}$")
SIGNATURE_LENGTH = 64
RAW_KEY_LENGTH = 32
MAX_CODE_CHARACTERS = 400
"""Longer input is not a code (a format-1 code is at most 167 characters): refused before any decoding."""

_EPOCH = dt.date(1970, 1, 1)
_SEPARATORS = re.compile(r"[\s-]+")

# The fixed, public development key of config/settings/local.py: fine on a
# laptop, refused by `govserve check --deploy` (casework_results.E002).
DEVELOPMENT_SEED = base64.b64decode("ZGV2ZWxvcG1lbnQtcmVzdWx0LXNpZ25pbmcta2V5LTE=")
DEVELOPMENT_KEY_ENTRY = "dev-results-1:ZGV2ZWxvcG1lbnQtcmVzdWx0LXNpZ25pbmcta2V5LTE="


@dataclass(frozen=True)
class VerifyKey:
    """One public key that verifies codes, with the private half when this process may sign with it."""

    id: str
    public: Ed25519PublicKey = field(repr=False, compare=False)
    public_raw: bytes = field(repr=False)
    private: Ed25519PrivateKey | None = field(default=None, repr=False, compare=False)
    private_raw: bytes | None = field(default=None, repr=False)

    @property
    def can_sign(self) -> bool:
        """Return whether this process holds the private key."""
        return self.private is not None

    def public_pem(self) -> str:
        """Return the public key as PEM (SubjectPublicKeyInfo)."""
        return self.public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode("ascii")

    def public_jwk(self) -> dict[str, str]:
        """Return the public key as a JWK (RFC 8037: kty OKP, crv Ed25519)."""
        x = base64.urlsafe_b64encode(self.public_raw).decode("ascii").rstrip("=")
        return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": self.id, "alg": "EdDSA", "use": "sig"}


@dataclass(frozen=True)
class SigningKeyRing:
    """The configured keys: ``active`` signs new codes, ``by_id`` verifies (active, older and retired keys)."""

    active: VerifyKey
    by_id: dict[str, VerifyKey]


@dataclass(frozen=True)
class CodePayload:
    """What a genuine code says: result ``result_id`` was issued on ``issued_on`` and signed by ``key_id``."""

    key_id: str
    result_id: uuid.UUID
    issued_on: dt.date


_lock = threading.Lock()
_cache: tuple[tuple[tuple[str, ...], tuple[str, ...]], SigningKeyRing] | None = None


def _entries(raw: object, setting: str) -> list[tuple[int, str, bytes]]:
    if raw is None:
        return []
    if isinstance(raw, str) or not isinstance(raw, list | tuple):
        msg = f"{setting} must be a list of 'id:base64key' entries"
        raise ImproperlyConfigured(msg)
    parsed: list[tuple[int, str, bytes]] = []
    for position, entry in enumerate(raw, start=1):
        if not isinstance(entry, str) or ":" not in entry:
            msg = f"{setting} entry {position} must look like 'id:base64key'"
            raise ImproperlyConfigured(msg)
        key_id, _, encoded = entry.partition(":")
        key_id = key_id.strip()
        if not KEY_ID_PATTERN.match(key_id):
            msg = f"{setting} entry {position}: the id must be 1-16 characters from A-Z a-z 0-9 _ . -"
            raise ImproperlyConfigured(msg)
        try:
            material = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            msg = f"{setting}: the key of {key_id!r} is not valid base64"
            raise ImproperlyConfigured(msg) from None
        if len(material) != RAW_KEY_LENGTH:
            msg = f"{setting}: the key of {key_id!r} must be {RAW_KEY_LENGTH} bytes, got {len(material)}"
            raise ImproperlyConfigured(msg)
        parsed.append((position, key_id, material))
    return parsed


def parse_signing_keys(signing: object, verify: object = None) -> SigningKeyRing:
    """Return the key ring of the raw settings ``signing`` (private keys) and ``verify`` (retired public keys).

    Raise ImproperlyConfigured (naming the setting and the entry, never a key)
    when no signing key is configured, an entry is malformed, an id repeats
    or a key is not 32 bytes.
    """
    private_entries = _entries(signing, SIGNING_SETTING)
    if not private_entries:
        msg = (
            f"{SIGNING_SETTING} is empty: configure at least one Ed25519 key as "
            "'id:<base64 of 32 random bytes>' (`govserve results keys generate ID`)"
        )
        raise ImproperlyConfigured(msg)
    by_id: dict[str, VerifyKey] = {}
    for _, key_id, seed in private_entries:
        if key_id in by_id:
            msg = f"{SIGNING_SETTING}: the id {key_id!r} appears more than once"
            raise ImproperlyConfigured(msg)
        private = Ed25519PrivateKey.from_private_bytes(seed)
        public = private.public_key()
        by_id[key_id] = VerifyKey(
            id=key_id,
            public=public,
            public_raw=public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw),
            private=private,
            private_raw=seed,
        )
    for _, key_id, raw_public in _entries(verify, VERIFY_SETTING):
        if key_id in by_id:
            msg = f"{VERIFY_SETTING}: the id {key_id!r} is also in {SIGNING_SETTING} or repeats"
            raise ImproperlyConfigured(msg)
        try:
            public = Ed25519PublicKey.from_public_bytes(raw_public)
        except ValueError:
            msg = f"{VERIFY_SETTING}: the key of {key_id!r} is not an Ed25519 public key"
            raise ImproperlyConfigured(msg) from None
        by_id[key_id] = VerifyKey(id=key_id, public=public, public_raw=raw_public)
    active = by_id[private_entries[0][1]]
    return SigningKeyRing(active=active, by_id=by_id)


def _cache_key(raw: object) -> tuple[str, ...] | None:
    if raw is None:
        return ()
    if isinstance(raw, list | tuple) and all(isinstance(entry, str) for entry in raw):
        return tuple(raw)
    return None


def key_ring() -> SigningKeyRing:
    """Return the key ring of the settings (parsed once per distinct value); raise ImproperlyConfigured."""
    global _cache  # noqa: PLW0603 - a one-slot cache keyed on the raw settings
    signing = getattr(settings, SIGNING_SETTING, None)
    verify = getattr(settings, VERIFY_SETTING, None)
    signing_key, verify_key = _cache_key(signing), _cache_key(verify)
    cached = _cache
    if (
        signing_key is not None
        and verify_key is not None
        and cached is not None
        and cached[0] == (signing_key, verify_key)
    ):
        return cached[1]
    ring = parse_signing_keys(signing, verify)
    if signing_key is not None and verify_key is not None:
        with _lock:
            _cache = ((signing_key, verify_key), ring)
    return ring


def generate_key_entry(key_id: str) -> str:
    """Return a new ``"id:base64"`` entry (a random Ed25519 private key) for GOVSERVE_RESULT_SIGNING_KEYS."""
    if not KEY_ID_PATTERN.match(key_id):
        msg = "the id must be 1-16 characters from A-Z a-z 0-9 _ . -"
        raise ValueError(msg)
    raw = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return f"{key_id}:{base64.b64encode(raw).decode('ascii')}"


# --- Codes ---------------------------------------------------------------------------------------


def _body(key_id: str, result_id: uuid.UUID, issued_on: dt.date) -> bytes:
    days = (issued_on - _EPOCH).days
    if not 0 <= days <= 0xFFFF:
        msg = f"an issue date must fall between 1970 and 2149, not {issued_on}"
        raise ValueError(msg)
    encoded_id = key_id.encode("ascii")
    return bytes([FORMAT_VERSION, len(encoded_id)]) + encoded_id + result_id.bytes + struct.pack(">H", days)


def code_text(raw: bytes) -> str:
    """Return the printable form of a binary code: base32, lower case, no padding."""
    return base64.b32encode(raw).decode("ascii").rstrip("=").lower()


def code_bytes(text: str) -> bytes | None:
    """Return the binary code behind ``text`` (case, spaces and hyphens ignored), or None when it is not base32.

    Only the canonical spelling is read: a text whose last character carries
    set padding bits is refused, so each code has exactly one form.
    """
    if not isinstance(text, str) or len(text) > MAX_CODE_CHARACTERS:
        return None
    compact = _SEPARATORS.sub("", text).upper()
    if not compact or not compact.isascii() or len(compact) % 8 in {1, 3, 6}:
        return None
    try:
        raw = base64.b32decode(compact + "=" * (-len(compact) % 8))
    except (binascii.Error, ValueError):
        return None
    # One spelling per code: the last character's unused bits must be zero (else two texts name one code).
    return raw if code_text(raw) == compact.lower() else None


def code_sign(*, result_id: uuid.UUID, issued_on: dt.date, key: VerifyKey | None = None) -> tuple[str, str]:
    """Return (code, key id): ``result_id`` issued on ``issued_on`` signed by ``key`` (the active key by default).

    Ed25519 signatures are deterministic: the same result and day give the same code.
    """
    signer = key or key_ring().active
    if signer.private is None:
        msg = f"key {signer.id!r} has only its public half here: it cannot sign"
        raise ValueError(msg)
    body = _body(signer.id, result_id, issued_on)
    return code_text(body + signer.private.sign(DOMAIN + body)), signer.id


def code_parse(raw: bytes) -> tuple[CodePayload, bytes, bytes] | None:
    """Return (payload, signed bytes, signature) of a binary code, or None when it is not format 1 or malformed."""
    if len(raw) < 2 or raw[0] != FORMAT_VERSION:
        return None
    key_length = raw[1]
    expected = 2 + key_length + 16 + 2 + SIGNATURE_LENGTH
    if not 1 <= key_length <= 16 or len(raw) != expected:
        return None
    key_bytes = raw[2 : 2 + key_length]
    try:
        key_id = key_bytes.decode("ascii")
    except UnicodeDecodeError:
        return None
    if not KEY_ID_PATTERN.match(key_id):
        return None
    offset = 2 + key_length
    result_id = uuid.UUID(bytes=raw[offset : offset + 16])
    (days,) = struct.unpack(">H", raw[offset + 16 : offset + 18])
    signed_end = offset + 18
    payload = CodePayload(key_id=key_id, result_id=result_id, issued_on=_EPOCH + dt.timedelta(days=days))
    return payload, raw[:signed_end], raw[signed_end:]


def code_verify(text: str, *, keys: Sequence[VerifyKey] | None = None) -> CodePayload | None:
    """Return what ``text`` says when its signature is genuine under a known key; None for anything else.

    Never raises for bad input: garbage, truncated, altered, forged, unknown
    key id, another format all give None. ``keys`` defaults to the ring.
    """
    raw = code_bytes(text)
    if raw is None:
        return None
    parsed = code_parse(raw)
    if parsed is None:
        return None
    payload, signed, signature = parsed
    known = {key.id: key for key in keys} if keys is not None else key_ring().by_id
    key = known.get(payload.key_id)
    if key is None:
        return None
    try:
        key.public.verify(signature, DOMAIN + signed)
    except InvalidSignature:
        return None
    return payload

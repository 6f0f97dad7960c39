"""Key-encryption keys (KEKs) and the blind-index key, read from settings at call time.

``settings.GOVSERVE_KEYS`` is a list of ``"<id>:<base64 of 32 bytes>"``; the
first entry is the *current* KEK (new data keys are wrapped by it, rotation
re-wraps to it), the others stay readable until retired. Ids are short
(``[A-Za-z0-9_.-]{1,32}``) because every data key row stores one.
``settings.GOVSERVE_BLIND_INDEX_KEY`` is a separate base64 key of at least 32
bytes for :func:`govserve.privacy.crypto.blind_index`.

Parsing is cached on the raw setting value, so a changed setting (tests,
``override_settings``) is picked up on the next call, and a malformed one
raises :class:`~django.core.exceptions.ImproperlyConfigured` naming the
variable, never echoing key material. Keys live only in process memory:
never in the database, never in logs (``repr`` hides them).
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

KEYS_SETTING = "GOVSERVE_KEYS"
BLIND_INDEX_SETTING = "GOVSERVE_BLIND_INDEX_KEY"
KEK_LENGTH = 32
BLIND_INDEX_KEY_MIN_LENGTH = 32
KEK_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")

# The fixed, public development keys of config/settings/local.py. They are
# fine on a laptop and fatal in production: `govserve check --deploy` refuses
# them (privacy.E003 / privacy.E004), whatever id they are configured under.
DEVELOPMENT_KEK_MATERIAL = frozenset({base64.b64decode("ZGV2ZWxvcG1lbnQta2V5LWVuY3J5cHRpb24ta2V5LTE=")})
DEVELOPMENT_BLIND_INDEX_KEY_MATERIAL = frozenset({base64.b64decode("ZGV2ZWxvcG1lbnQtYmxpbmQtaW5kZXgta2V5LTEyMzQ=")})


@dataclass(frozen=True)
class KeyEncryptionKey:
    """One configured KEK: its id and its AES-256-GCM cipher (the key bytes never print)."""

    id: str
    material: bytes = field(repr=False)
    cipher: AESGCM = field(repr=False, compare=False)


@dataclass(frozen=True)
class KeyRing:
    """The configured KEKs: ``current`` wraps new data keys; ``by_id`` opens any configured one."""

    current: KeyEncryptionKey
    by_id: dict[str, KeyEncryptionKey]

    @property
    def ids(self) -> list[str]:
        """Return the configured ids, current first (the settings order)."""
        return list(self.by_id)


_lock = threading.Lock()
_ring_cache: tuple[tuple[str, ...], KeyRing] | None = None
_blind_cache: tuple[str, bytes] | None = None


def _decode_base64(value: str, *, setting: str, what: str) -> bytes:
    try:
        return base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        msg = f"{setting}: {what} is not valid base64"
        raise ImproperlyConfigured(msg) from None


def parse_key_ring(entries: object) -> KeyRing:
    """Return the key ring for the raw ``GOVSERVE_KEYS`` value ``entries``.

    Raise ImproperlyConfigured (naming GOVSERVE_KEYS and the offending entry's
    position or id, never its key) when the list is empty, an entry is not
    ``id:base64``, an id is malformed or repeated, or a key is not 32 bytes.
    """
    if isinstance(entries, str) or not isinstance(entries, list | tuple):
        msg = f"{KEYS_SETTING} must be a list of 'id:base64key' entries"
        raise ImproperlyConfigured(msg)
    if not entries:
        msg = (
            f"{KEYS_SETTING} is empty: configure at least one key-encryption key as "
            "'id:<base64 of 32 random bytes>' (see docs/operations.md)"
        )
        raise ImproperlyConfigured(msg)
    by_id: dict[str, KeyEncryptionKey] = {}
    for position, entry in enumerate(entries, start=1):
        if not isinstance(entry, str) or ":" not in entry:
            msg = f"{KEYS_SETTING} entry {position} must look like 'id:base64key'"
            raise ImproperlyConfigured(msg)
        kek_id, _, encoded = entry.partition(":")
        kek_id = kek_id.strip()
        if not KEK_ID_PATTERN.match(kek_id):
            msg = f"{KEYS_SETTING} entry {position}: the id must be 1-32 characters from A-Z a-z 0-9 _ . -"
            raise ImproperlyConfigured(msg)
        if kek_id in by_id:
            msg = f"{KEYS_SETTING}: the id {kek_id!r} appears more than once"
            raise ImproperlyConfigured(msg)
        material = _decode_base64(encoded, setting=KEYS_SETTING, what=f"the key of {kek_id!r}")
        if len(material) != KEK_LENGTH:
            msg = f"{KEYS_SETTING}: the key of {kek_id!r} must be {KEK_LENGTH} bytes, got {len(material)}"
            raise ImproperlyConfigured(msg)
        if any(existing.material == material for existing in by_id.values()):
            msg = f"{KEYS_SETTING}: the key of {kek_id!r} repeats the key of another id"
            raise ImproperlyConfigured(msg)
        by_id[kek_id] = KeyEncryptionKey(id=kek_id, material=material, cipher=AESGCM(material))
    current = next(iter(by_id.values()))
    return KeyRing(current=current, by_id=by_id)


def key_ring() -> KeyRing:
    """Return the key ring of ``settings.GOVSERVE_KEYS`` (parsed once per distinct value)."""
    global _ring_cache  # noqa: PLW0603 - a one-slot cache keyed on the raw setting
    raw = getattr(settings, KEYS_SETTING, None)
    if raw is None:
        msg = f"{KEYS_SETTING} is not set"
        raise ImproperlyConfigured(msg)
    cache_key = tuple(raw) if isinstance(raw, list | tuple) and all(isinstance(x, str) for x in raw) else None
    cached = _ring_cache
    if cache_key is not None and cached is not None and cached[0] == cache_key:
        return cached[1]
    ring = parse_key_ring(raw)
    if cache_key is not None:
        with _lock:
            _ring_cache = (cache_key, ring)
    return ring


def parse_blind_index_key(value: object) -> bytes:
    """Return the blind-index key bytes for the raw setting ``value``; raise ImproperlyConfigured if unusable."""
    if not isinstance(value, str) or not value.strip():
        msg = f"{BLIND_INDEX_SETTING} is empty: configure a base64 key of at least {BLIND_INDEX_KEY_MIN_LENGTH} bytes"
        raise ImproperlyConfigured(msg)
    material = _decode_base64(value, setting=BLIND_INDEX_SETTING, what="the key")
    if len(material) < BLIND_INDEX_KEY_MIN_LENGTH:
        msg = f"{BLIND_INDEX_SETTING} must be at least {BLIND_INDEX_KEY_MIN_LENGTH} bytes, got {len(material)}"
        raise ImproperlyConfigured(msg)
    return material


def blind_index_key() -> bytes:
    """Return the blind-index key from ``settings.GOVSERVE_BLIND_INDEX_KEY`` (parsed once per distinct value)."""
    global _blind_cache  # noqa: PLW0603 - a one-slot cache keyed on the raw setting
    raw = getattr(settings, BLIND_INDEX_SETTING, None)
    cached = _blind_cache
    if isinstance(raw, str) and cached is not None and cached[0] == raw:
        return cached[1]
    material = parse_blind_index_key(raw)
    with _lock:
        _blind_cache = (str(raw), material)
    return material


def generate_key_entry(kek_id: str) -> str:
    """Return a new ``"id:base64"`` entry with 32 random bytes, for an operator to put in GOVSERVE_KEYS."""
    if not KEK_ID_PATTERN.match(kek_id):
        msg = "the id must be 1-32 characters from A-Z a-z 0-9 _ . -"
        raise ValueError(msg)
    return f"{kek_id}:{base64.b64encode(AESGCM.generate_key(bit_length=256)).decode('ascii')}"

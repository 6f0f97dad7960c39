"""The encryption kernel: field-level envelope encryption with AES-256-GCM.

Every app stores personal values through this module and nowhere else::

    from govserve.privacy.crypto import seal, unseal, unseal_text, blind_index, data_key_destroy

    sealed = seal(owner="application:<uuid>", field="answers.full_name", plaintext="Ada Lovelace")
    unseal_text(owner="application:<uuid>", field="answers.full_name", sealed=sealed)  # "Ada Lovelace"

Envelope: each *owner* has one random 256-bit data key (``privacy_datakey``
row, created on first :func:`seal`), stored wrapped by the current
key-encryption key (KEK) of ``settings.GOVSERVE_KEYS``. A sealed value is::

    version (1 byte, 0x01) || data key id (16 bytes, UUID) || nonce (12 bytes) || ciphertext || tag (16 bytes)

45 bytes of overhead. The associated data is the 17-byte header followed by
the canonical bytes of ``(owner, field)`` (a domain label, then each as a
4-byte big-endian length and its UTF-8 bytes), so a value copied to another
owner, another field, or altered in any byte fails with
:class:`~govserve.privacy.errors.DecryptionError`. Nonces are random (96
bits); with one data key per owner the number of values per key stays many
orders of magnitude under the 2^32 bound for random GCM nonces.

Unwrapped data keys are cached per process in a bounded LRU with a short TTL
(``GOVSERVE_DATA_KEY_CACHE_SIZE``, default 1024 entries;
``GOVSERVE_DATA_KEY_CACHE_SECONDS``, default 30), so the answers of one
application do not unwrap the key again and again. A key created inside a
transaction enters the cache only once that transaction commits, so a rolled
back creation can never leave a key in memory that the database does not
hold. Nothing here logs keys or plaintext. Settings are read at call time.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import struct
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import IntegrityError, connection, transaction

from govserve.audit.actors import Actor
from govserve.audit.services import audit_record
from govserve.core import clock
from govserve.privacy.errors import (
    DataKeyDestroyedError,
    DataKeyMissingError,
    DecryptionError,
    UnknownKeyError,
)
from govserve.privacy.keys import KeyEncryptionKey, blind_index_key, key_ring
from govserve.privacy.models import DataKey

__all__ = [
    "FORMAT_VERSION",
    "SEAL_OVERHEAD",
    "blind_index",
    "data_key_cache_clear",
    "data_key_destroy",
    "data_keys_prefetch",
    "seal",
    "unseal",
    "unseal_text",
    "unwrap_data_key",
    "wrap_data_key",
]

FORMAT_VERSION = 1
_VERSION_BYTE = bytes([FORMAT_VERSION])
_KEY_ID_LENGTH = 16
_NONCE_LENGTH = 12
_TAG_LENGTH = 16
_HEADER_LENGTH = 1 + _KEY_ID_LENGTH
SEAL_OVERHEAD = _HEADER_LENGTH + _NONCE_LENGTH + _TAG_LENGTH
DATA_KEY_LENGTH = 32

_SEAL_DOMAIN = b"govserve.privacy.seal.v1\x00"
_WRAP_DOMAIN = b"govserve.privacy.datakey.v1\x00"
_BLIND_INDEX_DOMAIN = b"govserve.privacy.blind-index.v1\x00"

# "<kind>:<id>": the kind names the entity ("application", "citizen",
# "message"), the id is a UUID or another opaque identifier, never a
# personal value (owners appear in audit entries and error messages).
OWNER_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,31}:[A-Za-z0-9_.-]{1,64}$")
# Field names are code, not data: printable ASCII without spaces.
FIELD_PATTERN = re.compile(r"^[\x21-\x7e]{1,200}$")
PURPOSE_PATTERN = re.compile(r"^[a-z][a-z0-9_.:-]{0,99}$")

DEFAULT_CACHE_SIZE = 1024
DEFAULT_CACHE_SECONDS = 30.0


# --- Canonical bytes ------------------------------------------------------------


def _length_prefixed(text: str) -> bytes:
    encoded = text.encode("utf-8")
    return struct.pack(">I", len(encoded)) + encoded


def _check_owner(owner: object) -> str:
    if not isinstance(owner, str) or not OWNER_PATTERN.match(owner):
        msg = "owner must look like '<kind>:<id>' (kind: lower-case word, id: 1-64 of A-Z a-z 0-9 _ . -)"
        raise ValueError(msg)
    return owner


def _check_field(field_name: object) -> str:
    if not isinstance(field_name, str) or not FIELD_PATTERN.match(field_name):
        msg = "field must be 1-200 printable ASCII characters without spaces"
        raise ValueError(msg)
    return field_name


def _seal_aad(header: bytes, owner: str, field_name: str) -> bytes:
    return _SEAL_DOMAIN + header + _length_prefixed(owner) + _length_prefixed(field_name)


def _wrap_aad(owner: str, data_key_id: uuid.UUID, kek_id: str) -> bytes:
    return _WRAP_DOMAIN + _length_prefixed(owner) + data_key_id.bytes + _length_prefixed(kek_id)


# --- Wrapping ------------------------------------------------------------------


def wrap_data_key(*, key: bytes, owner: str, data_key_id: uuid.UUID, kek: KeyEncryptionKey) -> bytes:
    """Return ``key`` wrapped by ``kek``: nonce || ciphertext || tag, bound to the owner, row id and KEK id."""
    nonce = os.urandom(_NONCE_LENGTH)
    return nonce + kek.cipher.encrypt(nonce, key, _wrap_aad(owner, data_key_id, kek.id))


def unwrap_data_key(*, wrapped: bytes, owner: str, data_key_id: uuid.UUID, kek_id: str) -> bytes:
    """Return the data key inside ``wrapped``.

    Raise UnknownKeyError when ``kek_id`` is not configured, DecryptionError
    when the wrapped bytes were altered or belong to another owner or row.
    """
    kek = key_ring().by_id.get(kek_id)
    if kek is None:
        msg = (
            f"the data key of {owner} is wrapped by key-encryption key {kek_id!r}, which is not in "
            "GOVSERVE_KEYS: configure it again (it is still needed) or restore it from the key store"
        )
        raise UnknownKeyError(msg, owner=owner, kek_id=kek_id)
    try:
        key = kek.cipher.decrypt(
            wrapped[:_NONCE_LENGTH], wrapped[_NONCE_LENGTH:], _wrap_aad(owner, data_key_id, kek_id)
        )
    except InvalidTag:
        msg = f"the data key of {owner} does not open with key-encryption key {kek_id!r}: altered or misplaced"
        raise DecryptionError(msg, owner=owner, kek_id=kek_id) from None
    if len(key) != DATA_KEY_LENGTH:
        msg = f"the data key of {owner} has the wrong length"
        raise DecryptionError(msg, owner=owner)
    return key


# --- The per-process data key cache -----------------------------------------------


@dataclass(frozen=True)
class _OpenKey:
    data_key_id: uuid.UUID
    cipher: AESGCM = field(repr=False)


class _DataKeyCache:
    """A bounded LRU of unwrapped data keys with a time-to-live, safe across threads."""

    def __init__(self) -> None:
        self._entries: OrderedDict[str, tuple[float, _OpenKey]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _limits() -> tuple[int, float]:
        size = int(getattr(settings, "GOVSERVE_DATA_KEY_CACHE_SIZE", DEFAULT_CACHE_SIZE))
        seconds = float(getattr(settings, "GOVSERVE_DATA_KEY_CACHE_SECONDS", DEFAULT_CACHE_SECONDS))
        return size, seconds

    def get(self, owner: str) -> _OpenKey | None:
        with self._lock:
            item = self._entries.get(owner)
            if item is None:
                return None
            expires_at, open_key = item
            if expires_at <= time.monotonic():
                del self._entries[owner]
                return None
            self._entries.move_to_end(owner)
            return open_key

    def put(self, owner: str, open_key: _OpenKey) -> None:
        size, seconds = self._limits()
        if size <= 0 or seconds <= 0:
            return
        with self._lock:
            self._entries[owner] = (time.monotonic() + seconds, open_key)
            self._entries.move_to_end(owner)
            while len(self._entries) > size:
                self._entries.popitem(last=False)

    def evict(self, owner: str) -> None:
        with self._lock:
            self._entries.pop(owner, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


_cache = _DataKeyCache()
# Owners whose data key this thread created in a transaction that has not
# committed yet: their key must not enter the shared cache before the commit.
_uncommitted = threading.local()


def _uncommitted_open_keys() -> dict[str, tuple[_OpenKey, Callable[[], None]]]:
    """This thread's keys created in the open transaction, by owner, with the callback that caches them at commit."""
    opened: dict[str, tuple[_OpenKey, Callable[[], None]]] | None = getattr(_uncommitted, "open_keys", None)
    if opened is None:
        opened = {}
        _uncommitted.open_keys = opened
    return opened


def _uncommitted_key(owner: str) -> _OpenKey | None:
    """Return the key this thread created for ``owner`` in the open transaction, if its creation still stands.

    The creation registered its ``on_commit`` callback; Django drops the
    callbacks of a savepoint that rolls back and runs (then forgets) them at
    the commit, so the callback still waiting is the proof the key row is
    still in this transaction: the key is used without reading and
    unwrapping it again. Otherwise the entry is forgotten.
    """
    opened = _uncommitted_open_keys()
    entry = opened.get(owner)
    if entry is None:
        return None
    open_key, promote = entry
    if connection.in_atomic_block and promote in _waiting_callbacks():
        return open_key
    del opened[owner]
    return None


def _waiting_callbacks() -> set[Callable[[], object]]:
    """Return the ``on_commit`` callbacks of this connection's open transaction (entries: savepoints, callback, …)."""
    return {entry[1] for entry in connection.run_on_commit}


def _uncommitted_owners() -> set[str]:
    owners: set[str] | None = getattr(_uncommitted, "owners", None)
    if owners is None:
        owners = set()
        _uncommitted.owners = owners
    elif owners and not connection.in_atomic_block:
        # Outside a transaction nothing of this thread is uncommitted: forget
        # the owners of rolled-back creations so the set stays small.
        owners.clear()
    return owners


def data_key_cache_clear() -> None:
    """Forget every unwrapped data key held by this process (tests, benchmarks, after a KEK incident)."""
    _cache.clear()
    _uncommitted_open_keys().clear()


class _StoredKey(NamedTuple):
    """A data key row as read for opening (raw SQL: the cold path runs once per owner per process)."""

    owner: str
    data_key_id: uuid.UUID
    wrapped_key: bytes | None
    kek_id: str
    destroyed: bool


def _fetch_stored_keys(owners: list[str]) -> dict[str, _StoredKey]:
    quote = connection.ops.quote_name
    placeholders = ", ".join(["%s"] * len(owners))
    sql = (
        f"SELECT owner, {quote('id')}, wrapped_key, kek_id, destroyed_at "  # noqa: S608 - fixed names, bound values
        f"FROM {quote(DataKey._meta.db_table)} WHERE owner IN ({placeholders})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, owners)
        rows = cursor.fetchall()
    return {
        owner: _StoredKey(
            owner=owner,
            data_key_id=data_key_id if isinstance(data_key_id, uuid.UUID) else uuid.UUID(str(data_key_id)),
            wrapped_key=None if wrapped is None else bytes(wrapped),
            kek_id=kek_id,
            destroyed=destroyed_at is not None,
        )
        for owner, data_key_id, wrapped, kek_id, destroyed_at in rows
    }


def _fetch_stored_key(owner: str) -> _StoredKey | None:
    return _fetch_stored_keys([owner]).get(owner)


def _open_stored(stored: _StoredKey) -> _OpenKey:
    if stored.destroyed or stored.wrapped_key is None:
        msg = f"the data key of {stored.owner} was destroyed: its values cannot be opened any more"
        raise DataKeyDestroyedError(msg, owner=stored.owner)
    key = unwrap_data_key(
        wrapped=stored.wrapped_key, owner=stored.owner, data_key_id=stored.data_key_id, kek_id=stored.kek_id
    )
    open_key = _OpenKey(data_key_id=stored.data_key_id, cipher=AESGCM(key))
    if stored.owner not in _uncommitted_owners():
        _cache.put(stored.owner, open_key)
    return open_key


def _create_data_key(owner: str) -> _OpenKey:
    kek = key_ring().current
    key = AESGCM.generate_key(bit_length=256)
    data_key_id = uuid.uuid4()
    wrapped = wrap_data_key(key=key, owner=owner, data_key_id=data_key_id, kek=kek)
    try:
        # A savepoint: a concurrent creator for the same owner makes this
        # insert fail on the unique owner, and the caller's transaction
        # must survive that to use the winner's key.
        with transaction.atomic():
            DataKey.objects.create(id=data_key_id, owner=owner, wrapped_key=wrapped, kek_id=kek.id)
    except IntegrityError:
        stored = _fetch_stored_key(owner)
        if stored is None:
            raise
        return _open_stored(stored)
    open_key = _OpenKey(data_key_id=data_key_id, cipher=AESGCM(key))
    pending = _uncommitted_owners()
    pending.add(owner)
    opened = _uncommitted_open_keys()

    def promote() -> None:
        pending.discard(owner)
        opened.pop(owner, None)
        _cache.put(owner, open_key)

    # Forget the keys of creations rolled back since (their callbacks are gone): the map stays small.
    waiting = _waiting_callbacks()
    for stale in [name for name, (_key, callback) in opened.items() if callback not in waiting]:
        del opened[stale]
    transaction.on_commit(promote)
    opened[owner] = (open_key, promote)
    return open_key


def _data_key_for_seal(owner: str) -> _OpenKey:
    cached = _cache.get(owner) or _uncommitted_key(owner)
    if cached is not None:
        return cached
    stored = _fetch_stored_key(owner)
    if stored is None:
        return _create_data_key(owner)
    return _open_stored(stored)


def _data_key_for_unseal(owner: str) -> _OpenKey:
    cached = _cache.get(owner) or _uncommitted_key(owner)
    if cached is not None:
        return cached
    stored = _fetch_stored_key(owner)
    if stored is None:
        msg = f"no data key exists for {owner}: the value was sealed for another owner or its key row was deleted"
        raise DataKeyMissingError(msg, owner=owner)
    return _open_stored(stored)


def data_keys_prefetch(*, owners: Iterable[str]) -> int:
    """Load and unwrap the data keys of ``owners`` in one query, so a list of many owners is not N queries.

    Return how many keys were opened into the cache. Owners without a key
    or with a destroyed key are skipped here (unseal reports them). Raise as
    unwrapping does (UnknownKeyError, DecryptionError) for a key that
    cannot be opened. Keys are cached as by any read (bounded, short TTL):
    prefetch at most GOVSERVE_DATA_KEY_CACHE_SIZE owners at a time.
    """
    wanted = sorted({_check_owner(owner) for owner in owners if _cache.get(owner) is None})
    opened = 0
    for start in range(0, len(wanted), 500):
        for stored in _fetch_stored_keys(wanted[start : start + 500]).values():
            if not stored.destroyed:
                _open_stored(stored)
                opened += 1
    return opened


# --- The API ----------------------------------------------------------------------


def seal(*, owner: str, field: str, plaintext: str | bytes) -> bytes:
    """Encrypt ``plaintext`` for ``owner``'s ``field`` and return the sealed bytes (store them in a BinaryField).

    A ``str`` is encoded as UTF-8. Create the owner's data key on first use
    (wrapped by the current KEK); call inside the transaction that stores the
    result, so the key row commits or rolls back with it. Raise
    DataKeyDestroyedError for an owner whose key was destroyed,
    ImproperlyConfigured for unusable GOVSERVE_KEYS, ValueError/TypeError for
    a malformed owner, field or plaintext. Not audited (no read of personal data).
    """
    owner = _check_owner(owner)
    field_name = _check_field(field)
    if isinstance(plaintext, str):
        data = plaintext.encode("utf-8")
    elif isinstance(plaintext, bytes):
        data = plaintext
    else:
        msg = f"plaintext must be str or bytes, not {type(plaintext).__name__}"
        raise TypeError(msg)
    open_key = _data_key_for_seal(owner)
    header = _VERSION_BYTE + open_key.data_key_id.bytes
    nonce = os.urandom(_NONCE_LENGTH)
    return header + nonce + open_key.cipher.encrypt(nonce, data, _seal_aad(header, owner, field_name))


def seal_fields(*, owner: str, plaintexts: dict[str, str | bytes]) -> dict[str, bytes]:
    """Return each of ``plaintexts`` (by field) sealed for ``owner``, as :func:`seal` would, opening the key once.

    For a row with several sealed fields of one owner: an owner whose key was
    created in the current transaction (not cached until it commits) is not
    read and unwrapped again for every field. Raise as :func:`seal`.
    """
    owner = _check_owner(owner)
    checked = {_check_field(field_name): plaintext for field_name, plaintext in plaintexts.items()}
    for plaintext in checked.values():
        if not isinstance(plaintext, str | bytes):
            msg = f"plaintext must be str or bytes, not {type(plaintext).__name__}"
            raise TypeError(msg)
    open_key = _data_key_for_seal(owner)
    header = _VERSION_BYTE + open_key.data_key_id.bytes
    sealed: dict[str, bytes] = {}
    for field_name, plaintext in checked.items():
        data = plaintext.encode("utf-8") if isinstance(plaintext, str) else plaintext
        nonce = os.urandom(_NONCE_LENGTH)
        sealed[field_name] = header + nonce + open_key.cipher.encrypt(nonce, data, _seal_aad(header, owner, field_name))
    return sealed


def unseal(*, owner: str, field: str, sealed: bytes | memoryview | bytearray) -> bytes:
    """Return the plaintext bytes of ``sealed``, which must have been sealed for exactly this owner and field.

    Accept the memoryview PostgreSQL returns for a BinaryField. Raise
    DecryptionError when the value is truncated, of an unknown format,
    altered, or sealed for another owner or field; its subclasses
    DataKeyDestroyedError (crypto-shredded), DataKeyMissingError and
    UnknownKeyError (KEK not configured) say why more precisely.
    """
    owner = _check_owner(owner)
    field_name = _check_field(field)
    if not isinstance(sealed, bytes | memoryview | bytearray):
        msg = f"sealed must be bytes, not {type(sealed).__name__}"
        raise TypeError(msg)
    blob = bytes(sealed)
    if len(blob) < SEAL_OVERHEAD:
        msg = f"the sealed value of {field_name} for {owner} is truncated"
        raise DecryptionError(msg, owner=owner, field=field_name)
    if blob[0] != FORMAT_VERSION:
        msg = f"the sealed value of {field_name} for {owner} has an unknown format version {blob[0]}"
        raise DecryptionError(msg, owner=owner, field=field_name)
    header = blob[:_HEADER_LENGTH]
    data_key_id = uuid.UUID(bytes=header[1:])
    open_key = _data_key_for_unseal(owner)
    if open_key.data_key_id != data_key_id:
        msg = f"the sealed value of {field_name} was not sealed under the data key of {owner}"
        raise DecryptionError(msg, owner=owner, field=field_name)
    nonce = blob[_HEADER_LENGTH : _HEADER_LENGTH + _NONCE_LENGTH]
    try:
        return open_key.cipher.decrypt(
            nonce, blob[_HEADER_LENGTH + _NONCE_LENGTH :], _seal_aad(header, owner, field_name)
        )
    except InvalidTag:
        msg = f"the sealed value of {field_name} for {owner} does not open: altered, or sealed for another field"
        raise DecryptionError(msg, owner=owner, field=field_name) from None


def unseal_text(*, owner: str, field: str, sealed: bytes | memoryview | bytearray) -> str:
    """Return the plaintext of ``sealed`` as text (UTF-8); raise as :func:`unseal`, and DecryptionError if not text."""
    data = unseal(owner=owner, field=field, sealed=sealed)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        msg = f"the sealed value of {field} for {owner} is bytes, not UTF-8 text"
        raise DecryptionError(msg, owner=owner, field=field) from None


def blind_index(value: str, *, purpose: str) -> str:
    """Return a deterministic, keyed index of ``value`` for look-ups: 64 hex characters.

    HMAC-SHA256 under a per-purpose subkey derived from
    ``settings.GOVSERVE_BLIND_INDEX_KEY``, so the same value indexed for two
    purposes gives unrelated results. The caller normalises ``value`` first
    (an email address stripped and lower-cased), because equal indexes need
    equal bytes. Raise TypeError/ValueError for a non-text value or a
    malformed purpose, ImproperlyConfigured for an unusable key.
    """
    if not isinstance(value, str):
        msg = f"value must be str, not {type(value).__name__}"
        raise TypeError(msg)
    if not isinstance(purpose, str) or not PURPOSE_PATTERN.match(purpose):
        msg = "purpose must be a lower-case name such as 'citizen.email' (a-z 0-9 _ . : -, at most 100)"
        raise ValueError(msg)
    subkey = hmac.new(blind_index_key(), _BLIND_INDEX_DOMAIN + purpose.encode("ascii"), hashlib.sha256).digest()
    return hmac.new(subkey, value.encode("utf-8"), hashlib.sha256).hexdigest()


def data_key_destroy(*, owner: str, actor: Actor | None = None) -> None:
    """Destroy ``owner``'s data key (crypto-shredding): every value sealed for it becomes unreadable for good.

    The wrapped key is deleted and a tombstone kept, so a later :func:`seal`
    or :func:`unseal` for this owner raises DataKeyDestroyedError (an owner
    that never had a key gets a tombstone too). Idempotent: destroying again
    changes nothing and writes no second audit entry. Audited as
    ``privacy.data_key.destroyed`` (actor defaults to the system). Runs in
    one transaction. Other processes may keep the unwrapped key in their
    cache for at most GOVSERVE_DATA_KEY_CACHE_SECONDS.
    """
    owner = _check_owner(owner)
    with transaction.atomic():
        row = DataKey.objects.select_for_update().filter(owner=owner).first()
        had_key = row is not None
        if row is None:
            try:
                with transaction.atomic():
                    row = DataKey.objects.create(owner=owner, wrapped_key=None, kek_id="", destroyed_at=clock.now())
            except IntegrityError:
                row = DataKey.objects.select_for_update().get(owner=owner)
                had_key = True
            else:
                _record_destroyed(owner=owner, row=row, actor=actor, had_key=False)
                _evict_now_and_on_commit(owner)
                return
        if row.destroyed_at is None:
            row.wrapped_key = None
            row.kek_id = ""
            row.destroyed_at = clock.now()
            row.save(update_fields=["wrapped_key", "kek_id", "destroyed_at", "updated_at"])
            _record_destroyed(owner=owner, row=row, actor=actor, had_key=had_key)
        _evict_now_and_on_commit(owner)


def _record_destroyed(*, owner: str, row: DataKey, actor: Actor | None, had_key: bool) -> None:
    kind, _, identifier = owner.partition(":")
    audit_record(
        actor=actor or Actor.system("privacy"),
        action="privacy.data_key.destroyed",
        subject_type=kind,
        subject_id=identifier,
        details={"data_key_id": str(row.id), "had_key": had_key},
    )


def _evict_now_and_on_commit(owner: str) -> None:
    _cache.evict(owner)
    _uncommitted_open_keys().pop(owner, None)
    # Another thread may re-cache the still-committed key before this
    # transaction commits: evict again once the destruction is durable.
    transaction.on_commit(lambda: _cache.evict(owner))

"""seal / unseal / blind_index / data_key_destroy: the encryption kernel's contract."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from typing import Any

import pytest
from django.db import transaction
from hypothesis import given
from hypothesis import strategies as st

from govserve.audit.models import AuditEntry
from govserve.privacy import crypto
from govserve.privacy.crypto import (
    SEAL_OVERHEAD,
    _cache,
    blind_index,
    data_key_cache_clear,
    data_key_destroy,
    seal,
    seal_fields,
    unseal,
    unseal_text,
)
from govserve.privacy.errors import (
    DataKeyDestroyedError,
    DataKeyMissingError,
    DecryptionError,
    UnknownKeyError,
)
from govserve.privacy.models import DataKey
from govserve.privacy.tests.kek import NEW_KEK, OLD_KEK, OTHER_KEK

pytestmark = pytest.mark.django_db


def new_owner(kind: str = "application") -> str:
    return f"{kind}:{uuid.uuid4()}"


# --- Round trips --------------------------------------------------------------------


@pytest.mark.parametrize(
    "plaintext",
    [
        "Ada Lovelace",
        "",
        "Siân Llŷr-Ó'Brien — 日本語 العربية 🏳️‍🌈",
        "line one\nline two\ttabbed\x00nul",
    ],
)
def test_text_round_trips(plaintext: str) -> None:
    owner = new_owner()

    sealed = seal(owner=owner, field="answers.full_name", plaintext=plaintext)

    assert isinstance(sealed, bytes)
    assert len(sealed) == len(plaintext.encode("utf-8")) + SEAL_OVERHEAD
    assert unseal_text(owner=owner, field="answers.full_name", sealed=sealed) == plaintext


@pytest.mark.parametrize("plaintext", [b"", b"\x00\xff\x10binary", bytes(range(256))])
def test_bytes_round_trip(plaintext: bytes) -> None:
    owner = new_owner("document")

    sealed = seal(owner=owner, field="content", plaintext=plaintext)

    assert unseal(owner=owner, field="content", sealed=sealed) == plaintext


def test_large_value_round_trips() -> None:
    owner = new_owner("document")
    plaintext = bytes(range(256)) * (8 * 1024 * 4)  # 8 MiB

    sealed = seal(owner=owner, field="content", plaintext=plaintext)

    assert len(sealed) == len(plaintext) + SEAL_OVERHEAD
    assert unseal(owner=owner, field="content", sealed=sealed) == plaintext


@given(plaintext=st.text())
def test_any_text_round_trips(plaintext: str) -> None:
    owner = "application:hypothesis-round-trip"

    sealed = seal(owner=owner, field="answers.free_text", plaintext=plaintext)

    assert unseal_text(owner=owner, field="answers.free_text", sealed=sealed) == plaintext


def test_unseal_accepts_memoryview_and_bytearray_as_databases_return_them() -> None:
    owner = new_owner()
    sealed = seal(owner=owner, field="email", plaintext="ada@example.org")

    assert unseal_text(owner=owner, field="email", sealed=memoryview(sealed)) == "ada@example.org"
    assert unseal_text(owner=owner, field="email", sealed=bytearray(sealed)) == "ada@example.org"


def test_seal_fields_seals_each_field_under_the_owners_key_opened_once(
    django_assert_num_queries: Any,
) -> None:
    # given an owner whose key is created in this transaction (so not cached until the commit)
    owner = new_owner()
    with transaction.atomic():
        first = seal(owner=owner, field="email.recipient", plaintext="ada@example.org")

        # when three fields are sealed together: the key this transaction created is used, not read again
        with django_assert_num_queries(0):
            sealed = seal_fields(
                owner=owner,
                plaintexts={"email.recipient": "ada@example.org", "email.subject": "Hello", "email.body": b"\x00body"},
            )

    # then each opens as its own field, under the one data key of the owner
    assert unseal_text(owner=owner, field="email.recipient", sealed=sealed["email.recipient"]) == "ada@example.org"
    assert unseal_text(owner=owner, field="email.subject", sealed=sealed["email.subject"]) == "Hello"
    assert unseal(owner=owner, field="email.body", sealed=sealed["email.body"]) == b"\x00body"
    assert sealed["email.recipient"][1:17] == first[1:17]  # the data key id in the header
    assert DataKey.objects.filter(owner=owner).count() == 1
    # and a value sealed for one field does not open as another
    with pytest.raises(DecryptionError):
        unseal(owner=owner, field="email.body", sealed=sealed["email.subject"])


def test_a_key_created_in_the_open_transaction_is_used_without_reading_it_again(
    django_assert_num_queries: Any,
) -> None:
    owner = new_owner()
    with transaction.atomic():
        first = seal(owner=owner, field="email", plaintext="ada@example.org")
        # when the same transaction seals and opens more values of the owner, in nested savepoints too
        with transaction.atomic(), django_assert_num_queries(0):
            second = seal(owner=owner, field="name", plaintext="Ada")
            assert unseal_text(owner=owner, field="email", sealed=first) == "ada@example.org"
        # then no other transaction's cache has it before the commit
        assert owner not in _cache._entries
    assert unseal_text(owner=owner, field="name", sealed=second) == "Ada"
    assert DataKey.objects.filter(owner=owner).count() == 1


def _sealed_then_rolled_back(owner: str) -> bytes:
    sealed = b""
    try:
        with transaction.atomic():
            sealed = seal(owner=owner, field="email", plaintext="ada@example.org")
            raise RuntimeError
    except RuntimeError:
        return sealed


def test_a_key_whose_creation_rolled_back_is_not_used_again() -> None:
    owner = new_owner()
    with transaction.atomic():
        # given a key created in a savepoint that then rolls back (with its row)
        lost = _sealed_then_rolled_back(owner)
        assert not DataKey.objects.filter(owner=owner).exists()
        # when the owner is sealed for again in the same transaction
        kept = seal(owner=owner, field="email", plaintext="ada@example.org")
    # then a new key was created and stored, and what it sealed opens; the lost key's value does not
    row = DataKey.objects.get(owner=owner)
    assert kept[1:17] == row.id.bytes != lost[1:17]
    assert unseal_text(owner=owner, field="email", sealed=kept) == "ada@example.org"
    with pytest.raises(DecryptionError):
        unseal(owner=owner, field="email", sealed=lost)


def test_sealing_twice_gives_different_bytes_under_one_data_key() -> None:
    owner = new_owner()

    first = seal(owner=owner, field="email", plaintext="ada@example.org")
    second = seal(owner=owner, field="email", plaintext="ada@example.org")

    assert first != second
    row = DataKey.objects.get(owner=owner)
    assert first[0] == 1
    assert first[1:17] == row.id.bytes == second[1:17]
    assert first[17:29] != second[17:29]  # fresh random nonces
    assert DataKey.objects.filter(owner=owner).count() == 1


def test_first_seal_creates_a_wrapped_data_key_under_the_current_kek(settings: object) -> None:
    settings.GOVSERVE_KEYS = [NEW_KEK, OLD_KEK]  # type: ignore[attr-defined]
    owner = new_owner("citizen")

    seal(owner=owner, field="email", plaintext="ada@example.org")

    row = DataKey.objects.get(owner=owner)
    assert row.kek_id == "new"
    assert row.destroyed_at is None
    assert row.wrapped_key is not None
    assert len(bytes(row.wrapped_key)) == 12 + 32 + 16


def test_values_of_one_owner_survive_a_cold_cache() -> None:
    owner = new_owner()
    sealed = seal(owner=owner, field="answers.nino", plaintext="QQ123456C")

    data_key_cache_clear()

    assert unseal_text(owner=owner, field="answers.nino", sealed=sealed) == "QQ123456C"


# --- Refusals -----------------------------------------------------------------------


def test_a_value_moved_to_another_owner_is_refused() -> None:
    owner, other = new_owner(), new_owner()
    seal(owner=other, field="answers.full_name", plaintext="Grace Hopper")  # the other owner has a key too
    sealed = seal(owner=owner, field="answers.full_name", plaintext="Ada Lovelace")

    with pytest.raises(DecryptionError) as refused:
        unseal(owner=other, field="answers.full_name", sealed=sealed)

    assert refused.value.code == "decryption_failed"
    assert "Ada" not in str(refused.value)
    assert unseal_text(owner=owner, field="answers.full_name", sealed=sealed) == "Ada Lovelace"


def test_a_value_moved_to_an_owner_without_a_key_is_refused_without_creating_one() -> None:
    owner, other = new_owner(), new_owner()
    sealed = seal(owner=owner, field="email", plaintext="ada@example.org")

    with pytest.raises(DataKeyMissingError):
        unseal(owner=other, field="email", sealed=sealed)

    assert not DataKey.objects.filter(owner=other).exists()


def test_a_value_moved_to_another_field_is_refused() -> None:
    owner = new_owner()
    sealed = seal(owner=owner, field="answers.first_name", plaintext="Ada")

    with pytest.raises(DecryptionError) as refused:
        unseal(owner=owner, field="answers.last_name", sealed=sealed)

    assert refused.value.code == "decryption_failed"


def test_a_value_with_a_swapped_key_id_header_is_refused() -> None:
    # Owner B's header glued onto owner A's ciphertext: the header is associated data.
    owner_a, owner_b = new_owner(), new_owner()
    sealed_a = seal(owner=owner_a, field="email", plaintext="ada@example.org")
    sealed_b = seal(owner=owner_b, field="email", plaintext="grace@example.org")

    spliced = sealed_b[:17] + sealed_a[17:]

    with pytest.raises(DecryptionError):
        unseal(owner=owner_b, field="email", sealed=spliced)
    with pytest.raises(DecryptionError):
        unseal(owner=owner_a, field="email", sealed=spliced)


@pytest.mark.parametrize("position", [0, 1, 16, 17, 28, 29, -17, -1])
def test_any_altered_byte_is_refused(position: int) -> None:
    owner = new_owner()
    sealed = bytearray(seal(owner=owner, field="email", plaintext="ada@example.org"))

    sealed[position] ^= 0x01

    with pytest.raises(DecryptionError):
        unseal(owner=owner, field="email", sealed=bytes(sealed))


@pytest.mark.parametrize("length", [0, 1, 17, 29, SEAL_OVERHEAD - 1])
def test_truncated_values_are_refused(length: int) -> None:
    owner = new_owner()
    sealed = seal(owner=owner, field="email", plaintext="")

    with pytest.raises(DecryptionError, match="truncated"):
        unseal(owner=owner, field="email", sealed=sealed[:length])


def test_an_unknown_format_version_is_refused() -> None:
    owner = new_owner()
    sealed = seal(owner=owner, field="email", plaintext="ada@example.org")

    with pytest.raises(DecryptionError, match="unknown format version 2"):
        unseal(owner=owner, field="email", sealed=b"\x02" + sealed[1:])


def test_unseal_text_refuses_bytes_that_are_not_utf8() -> None:
    owner = new_owner()
    sealed = seal(owner=owner, field="photo", plaintext=b"\xff\xfe\xfd")

    with pytest.raises(DecryptionError, match="not UTF-8 text"):
        unseal_text(owner=owner, field="photo", sealed=sealed)


@pytest.mark.parametrize(
    "owner",
    ["", "application", ":123", "Application:1", "application:", "application:a b", "application:é", 42, None],
)
def test_malformed_owners_are_refused(owner: object) -> None:
    with pytest.raises(ValueError, match="owner must look like"):
        seal(owner=owner, field="email", plaintext="x")  # type: ignore[arg-type]

    assert DataKey.objects.count() == 0


@pytest.mark.parametrize("field_name", ["", "with space", "naïve", "x" * 201, None])
def test_malformed_fields_are_refused(field_name: object) -> None:
    with pytest.raises(ValueError, match="field must be"):
        seal(owner=new_owner(), field=field_name, plaintext="x")  # type: ignore[arg-type]

    assert DataKey.objects.count() == 0


@pytest.mark.parametrize("plaintext", [None, 42, ["a"], memoryview(b"x")])
def test_plaintext_must_be_text_or_bytes(plaintext: object) -> None:
    with pytest.raises(TypeError, match="plaintext must be str or bytes"):
        seal(owner=new_owner(), field="email", plaintext=plaintext)  # type: ignore[arg-type]

    assert DataKey.objects.count() == 0


def test_sealed_must_be_bytes() -> None:
    with pytest.raises(TypeError, match="sealed must be bytes"):
        unseal(owner=new_owner(), field="email", sealed="not bytes")  # type: ignore[arg-type]


# --- Key-encryption keys ------------------------------------------------------------------


def test_readers_accept_a_value_whose_key_is_under_an_older_configured_kek(settings: object) -> None:
    settings.GOVSERVE_KEYS = [OLD_KEK]  # type: ignore[attr-defined]
    owner = new_owner()
    sealed = seal(owner=owner, field="email", plaintext="ada@example.org")
    data_key_cache_clear()

    settings.GOVSERVE_KEYS = [NEW_KEK, OLD_KEK]  # type: ignore[attr-defined]

    assert unseal_text(owner=owner, field="email", sealed=sealed) == "ada@example.org"
    assert DataKey.objects.get(owner=owner).kek_id == "old"


def test_a_data_key_under_an_unconfigured_kek_is_refused_with_a_clear_error(settings: object) -> None:
    settings.GOVSERVE_KEYS = [OLD_KEK]  # type: ignore[attr-defined]
    owner = new_owner()
    sealed = seal(owner=owner, field="email", plaintext="ada@example.org")
    data_key_cache_clear()
    settings.GOVSERVE_KEYS = [NEW_KEK]  # type: ignore[attr-defined]

    with pytest.raises(UnknownKeyError) as refused:
        unseal(owner=owner, field="email", sealed=sealed)

    assert refused.value.code == "key_encryption_key_unknown"
    assert "key-encryption key 'old'" in str(refused.value)
    assert "GOVSERVE_KEYS" in str(refused.value)
    with pytest.raises(UnknownKeyError):
        seal(owner=owner, field="email", plaintext="again")


def test_a_data_key_under_a_kek_with_the_same_id_but_another_key_is_refused(settings: object) -> None:
    settings.GOVSERVE_KEYS = [OLD_KEK]  # type: ignore[attr-defined]
    owner = new_owner()
    sealed = seal(owner=owner, field="email", plaintext="ada@example.org")
    data_key_cache_clear()
    settings.GOVSERVE_KEYS = [OTHER_KEK.replace("other:", "old:")]  # type: ignore[attr-defined]

    with pytest.raises(DecryptionError, match="does not open with key-encryption key 'old'"):
        unseal(owner=owner, field="email", sealed=sealed)


def test_a_wrapped_key_copied_to_another_owner_does_not_open() -> None:
    owner, other = new_owner(), new_owner()
    sealed = seal(owner=owner, field="email", plaintext="ada@example.org")
    seal(owner=other, field="email", plaintext="grace@example.org")
    source = DataKey.objects.get(owner=owner)
    DataKey.objects.filter(owner=other).update(wrapped_key=source.wrapped_key, kek_id=source.kek_id)
    data_key_cache_clear()

    with pytest.raises(DecryptionError):
        unseal(owner=other, field="email", sealed=sealed)


# --- Transactions and the cache ---------------------------------------------------------------


def test_a_rolled_back_first_seal_leaves_no_key_behind_in_memory_or_database() -> None:
    owner = new_owner()

    def seal_then_fail() -> None:
        with transaction.atomic():
            seal(owner=owner, field="email", plaintext="ada@example.org")
            raise RuntimeError

    with pytest.raises(RuntimeError):
        seal_then_fail()

    assert not DataKey.objects.filter(owner=owner).exists()
    assert crypto._cache.get(owner) is None
    sealed = seal(owner=owner, field="email", plaintext="ada@example.org")
    data_key_cache_clear()
    assert unseal_text(owner=owner, field="email", sealed=sealed) == "ada@example.org"


def test_a_created_key_enters_the_cache_only_on_commit(django_capture_on_commit_callbacks: object) -> None:
    owner = new_owner()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:  # type: ignore[operator]
        seal(owner=owner, field="email", plaintext="ada@example.org")
        assert crypto._cache.get(owner) is None

    assert len(callbacks) == 1
    cached = crypto._cache.get(owner)
    assert cached is not None
    assert cached.data_key_id == DataKey.objects.get(owner=owner).id


def test_the_cache_is_bounded(settings: object, django_capture_on_commit_callbacks: object) -> None:
    settings.GOVSERVE_DATA_KEY_CACHE_SIZE = 3  # type: ignore[attr-defined]
    owners = [new_owner() for _ in range(5)]
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        for owner in owners:
            seal(owner=owner, field="email", plaintext="x")
    data_key_cache_clear()

    for owner in owners:
        crypto._data_key_for_seal(owner)

    assert len(crypto._cache) == 3
    assert [crypto._cache.get(owner) is not None for owner in owners] == [False, False, True, True, True]


def test_cached_keys_expire(
    settings: object, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: object
) -> None:
    settings.GOVSERVE_DATA_KEY_CACHE_SECONDS = 30  # type: ignore[attr-defined]
    owner = new_owner()
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        seal(owner=owner, field="email", plaintext="x")
    data_key_cache_clear()
    crypto._data_key_for_seal(owner)
    assert crypto._cache.get(owner) is not None
    start = time.monotonic()

    monkeypatch.setattr(time, "monotonic", lambda: start + 31)

    assert crypto._cache.get(owner) is None


# --- Crypto-shredding -----------------------------------------------------------------------


def test_destroying_a_data_key_makes_its_values_unreadable_and_is_audited() -> None:
    owner = new_owner()
    sealed = seal(owner=owner, field="email", plaintext="ada@example.org")
    row_id = DataKey.objects.get(owner=owner).id

    data_key_destroy(owner=owner)

    with pytest.raises(DataKeyDestroyedError) as refused:
        unseal(owner=owner, field="email", sealed=sealed)
    assert refused.value.code == "data_key_destroyed"
    assert refused.value.status == 410
    row = DataKey.objects.get(owner=owner)
    assert (row.wrapped_key, row.kek_id) == (None, "")
    assert row.destroyed_at is not None
    entry = AuditEntry.objects.get(action="privacy.data_key.destroyed")
    assert (entry.actor_kind, entry.actor_id) == ("system", "privacy")
    assert (entry.subject_type, entry.subject_id) == ("application", owner.split(":", 1)[1])
    assert entry.details == {"data_key_id": str(row_id), "had_key": True}


def test_destroying_evicts_a_cached_key(django_capture_on_commit_callbacks: object) -> None:
    owner = new_owner()
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        sealed = seal(owner=owner, field="email", plaintext="ada@example.org")
    assert crypto._cache.get(owner) is not None

    data_key_destroy(owner=owner)

    assert crypto._cache.get(owner) is None
    with pytest.raises(DataKeyDestroyedError):
        unseal(owner=owner, field="email", sealed=sealed)


def test_a_destroyed_owner_cannot_seal_again() -> None:
    owner = new_owner()
    seal(owner=owner, field="email", plaintext="ada@example.org")
    data_key_destroy(owner=owner)

    with pytest.raises(DataKeyDestroyedError):
        seal(owner=owner, field="email", plaintext="resurrected")

    assert DataKey.objects.filter(owner=owner).count() == 1


def test_destroying_an_owner_without_a_key_leaves_a_tombstone() -> None:
    owner = new_owner("citizen")

    data_key_destroy(owner=owner)

    with pytest.raises(DataKeyDestroyedError):
        seal(owner=owner, field="email", plaintext="ada@example.org")
    entry = AuditEntry.objects.get(action="privacy.data_key.destroyed")
    assert entry.details["had_key"] is False


def test_destroying_twice_changes_nothing_the_second_time() -> None:
    owner = new_owner()
    seal(owner=owner, field="email", plaintext="ada@example.org")
    data_key_destroy(owner=owner)
    destroyed_at = DataKey.objects.get(owner=owner).destroyed_at

    data_key_destroy(owner=owner)

    assert DataKey.objects.get(owner=owner).destroyed_at == destroyed_at
    assert AuditEntry.objects.filter(action="privacy.data_key.destroyed").count() == 1


# --- Blind index ------------------------------------------------------------------------------


def test_blind_index_is_keyed_purpose_separated_hmac_sha256(settings: object) -> None:
    settings.GOVSERVE_BLIND_INDEX_KEY = "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI="  # type: ignore[attr-defined]
    key = b"B" * 32
    subkey = hmac.new(key, b"govserve.privacy.blind-index.v1\x00citizen.email", hashlib.sha256).digest()
    expected = hmac.new(subkey, b"ada@example.org", hashlib.sha256).hexdigest()

    index = blind_index("ada@example.org", purpose="citizen.email")

    assert index == expected
    assert len(index) == 64
    assert blind_index("ada@example.org", purpose="citizen.email") == index
    assert blind_index("ada@example.org", purpose="citizen.phone") != index
    assert blind_index("Ada@example.org", purpose="citizen.email") != index


def test_blind_index_depends_on_the_key(settings: object) -> None:
    settings.GOVSERVE_BLIND_INDEX_KEY = "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI="  # type: ignore[attr-defined]
    first = blind_index("ada@example.org", purpose="citizen.email")

    settings.GOVSERVE_BLIND_INDEX_KEY = "Q0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0M="  # type: ignore[attr-defined]

    assert blind_index("ada@example.org", purpose="citizen.email") != first


@pytest.mark.parametrize("purpose", ["", "Citizen.email", "citizen email", "x" * 101, None])
def test_blind_index_refuses_malformed_purposes(purpose: object) -> None:
    with pytest.raises(ValueError, match="purpose must be"):
        blind_index("ada@example.org", purpose=purpose)  # type: ignore[arg-type]


def test_blind_index_refuses_bytes() -> None:
    with pytest.raises(TypeError, match="value must be str"):
        blind_index(b"ada@example.org", purpose="citizen.email")  # type: ignore[arg-type]


# --- Prefetch -----------------------------------------------------------------------------------


def test_prefetch_opens_many_keys_in_one_query(
    django_capture_on_commit_callbacks: object, django_assert_num_queries: object
) -> None:
    owners = [new_owner() for _ in range(4)]
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        sealed = [
            seal(owner=owner, field="email", plaintext=f"person{i}@example.org") for i, owner in enumerate(owners)
        ]
    data_key_destroy(owner=owners[3])
    data_key_cache_clear()

    with django_assert_num_queries(1):  # type: ignore[operator]
        opened = crypto.data_keys_prefetch(owners=[*owners, new_owner()])

    assert opened == 3
    with django_assert_num_queries(0):  # type: ignore[operator]
        texts = [unseal_text(owner=o, field="email", sealed=s) for o, s in zip(owners[:3], sealed[:3], strict=True)]
    assert texts == ["person0@example.org", "person1@example.org", "person2@example.org"]


def test_prefetch_refuses_a_malformed_owner() -> None:
    with pytest.raises(ValueError, match="owner must look like"):
        crypto.data_keys_prefetch(owners=["not an owner"])

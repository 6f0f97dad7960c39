"""The canonical bytes and the chain hash: the specification an external verifier implements."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govserve.audit.chain import (
    GENESIS_HASH,
    CanonicalFormError,
    CanonicalJSONEncoder,
    canonical_bytes,
    canonical_entry,
    chain_hash,
    details_check,
    format_timestamp,
    parse_boolean,
)


def _entry(**overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "entry_id": 7,
        "occurred_at": dt.datetime(2026, 3, 1, 9, 30, 0, tzinfo=dt.UTC),
        "actor_kind": "user",
        "actor_id": "5b0f",
        "actor_is_supplier": True,
        "action": "casework.decision.recorded",
        "subject_type": "application",
        "subject_id": "A-1",
        "outcome": "success",
        "request_id": "r1",
        "details": {"z": 1, "a": ["x", None, True], "é": "ü\n"},
        "sealed_at": dt.datetime(2026, 3, 1, 9, 30, 5, 120, tzinfo=dt.UTC),
    }
    values.update(overrides)
    return canonical_entry(**values)  # type: ignore[arg-type]


def test_canonical_bytes_are_sorted_compact_utf8_json_with_fixed_timestamps() -> None:
    # given an entry
    entry = _entry()
    # when it is put in canonical form
    canonical = canonical_bytes(entry)
    # then the bytes are exactly the documented form
    assert (
        canonical
        == (
            '{"action":"casework.decision.recorded","actor_id":"5b0f","actor_is_supplier":true,"actor_kind":"user",'
            '"details":{"a":["x",null,true],"z":1,"é":"ü\\n"},"format":1,"id":7,'
            '"occurred_at":"2026-03-01T09:30:00.000000Z","outcome":"success","request_id":"r1",'
            '"sealed_at":"2026-03-01T09:30:05.000120Z","subject_id":"A-1","subject_type":"application"}'
        ).encode()
    )


def test_chain_hash_is_sha256_of_previous_hash_then_canonical_bytes() -> None:
    canonical = canonical_bytes(_entry())
    assert chain_hash(GENESIS_HASH, canonical) == hashlib.sha256(b"0" * 64 + canonical).hexdigest()
    assert chain_hash("a" * 64, canonical) != chain_hash(GENESIS_HASH, canonical)


def test_timestamps_are_utc_with_six_fraction_digits_whatever_the_zone() -> None:
    plus_two = dt.timezone(dt.timedelta(hours=2))
    assert format_timestamp(dt.datetime(2026, 3, 1, 11, 0, tzinfo=plus_two)) == "2026-03-01T09:00:00.000000Z"
    assert format_timestamp(dt.datetime(2026, 3, 1, 9, 0, 0, 5)) == "2026-03-01T09:00:00.000005Z"  # noqa: DTZ001
    # stored SQLite text (naive UTC, fraction omitted when zero) reads the same
    assert _entry(occurred_at="2026-03-01 09:30:00")["occurred_at"] == "2026-03-01T09:30:00.000000Z"


def test_details_refuse_floats_non_string_keys_and_non_objects() -> None:
    assert details_check({"ids": ["a", 1, None, False], "nested": {"k": "v"}}) == {
        "ids": ["a", 1, None, False],
        "nested": {"k": "v"},
    }
    with pytest.raises(CanonicalFormError, match=r"details\.amount: floats are not allowed"):
        details_check({"amount": 1.5})
    with pytest.raises(CanonicalFormError, match=r"details\.nested\[1\]: floats"):
        details_check({"nested": [1, 2.0]})
    with pytest.raises(CanonicalFormError, match="keys must be strings"):
        details_check({1: "a"})
    with pytest.raises(CanonicalFormError, match="must be a dict"):
        details_check(["a"])
    with pytest.raises(CanonicalFormError, match="set is not a JSON value"):
        details_check({"a": {1}})


def test_stored_values_of_the_wrong_type_cannot_be_canonical() -> None:
    with pytest.raises(CanonicalFormError, match="not a boolean"):
        _entry(actor_is_supplier=2)
    with pytest.raises(CanonicalFormError, match="actor_id must be a string"):
        _entry(actor_id=5)
    with pytest.raises(CanonicalFormError, match="details are not JSON"):
        _entry(details="{not json")
    with pytest.raises(CanonicalFormError, match="details must be a JSON object"):
        _entry(details="[1]")
    with pytest.raises(CanonicalFormError, match="not an ISO 8601 timestamp"):
        _entry(sealed_at="yesterday")
    with pytest.raises(CanonicalFormError, match="id must be an integer"):
        _entry(entry_id="7")
    assert parse_boolean("1") is True
    assert parse_boolean(0) is False


def test_the_model_encoder_stores_details_canonically() -> None:
    assert json.dumps({"b": 1, "a": "é"}, cls=CanonicalJSONEncoder) == '{"a":"é","b":1}'


@given(
    text=st.text(),
    details=st.dictionaries(st.text(), st.one_of(st.none(), st.booleans(), st.integers(), st.text()), max_size=4),
)
def test_canonical_bytes_round_trip_through_json(text: str, details: dict[str, object]) -> None:
    # Any string survives: the bytes parse back to the same values (an external verifier's JSON parser agrees).
    try:
        canonical = canonical_bytes(_entry(actor_id=text, subject_id=text, details=details))
    except CanonicalFormError:
        assert any(0xD800 <= ord(c) <= 0xDFFF for c in text + "".join(details) + "".join(map(str, details.values())))
        return
    parsed = json.loads(canonical)
    assert parsed["actor_id"] == text
    assert parsed["details"] == details
    assert list(parsed) == sorted(parsed)

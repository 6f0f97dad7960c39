"""The canonical bytes of an audit entry and the hash that chains entries together.

This module is the specification an external verifier implements (see
``docs/audit.md`` and ``docs/audit_verify_standalone.py``, which must agree
with it byte for byte). It is pure: no database, no settings.

Canonical bytes of an entry
    The UTF-8 encoding of a JSON object with exactly these keys, sorted by
    code point, no insignificant whitespace (separators ``,`` and ``:``),
    non-ASCII characters written as themselves (not ``\\u`` escapes), the
    escapes of Python's ``json`` module otherwise (``\\"``, ``\\\\``, ``\\b``,
    ``\\f``, ``\\n``, ``\\r``, ``\\t``, ``\\u00XX`` for other control characters)::

        action             string  the dotted event name
        actor_id           string
        actor_is_supplier  true | false
        actor_kind         string  user | citizen | api_client | system
        details            object  sorted keys, same rules, recursively
        format             1       the version of this canonical form
        id                 integer the entry id (its position in the chain)
        occurred_at        string  UTC, "YYYY-MM-DDTHH:MM:SS.ffffffZ" (always 6 fraction digits)
        outcome            string
        request_id         string
        sealed_at          string  same format as occurred_at
        subject_id         string
        subject_type       string

    Integers are written in decimal without exponent. Floats are refused when
    an entry is recorded (their text form differs between languages).

Hash of an entry
    ``entry_hash = lowercase hex SHA-256( ASCII(previous_hash) || canonical bytes )``
    where ``previous_hash`` is the 64-character ``entry_hash`` of the entry
    before it in id order, or :data:`GENESIS_HASH` (64 zeros) for the first
    entry (id 1).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from typing import Any, Final

CHAIN_FORMAT: Final = 1
GENESIS_HASH: Final = "0" * 64
FIRST_ID: Final = 1

# The fields of an entry that the canonical bytes cover (besides ``format``).
CANONICAL_FIELDS: Final = (
    "action",
    "actor_id",
    "actor_is_supplier",
    "actor_kind",
    "details",
    "id",
    "occurred_at",
    "outcome",
    "request_id",
    "sealed_at",
    "subject_id",
    "subject_type",
)
_STRING_FIELDS: Final = ("action", "actor_id", "actor_kind", "outcome", "request_id", "subject_id", "subject_type")


class CanonicalFormError(ValueError):
    """A value cannot be put in canonical form (wrong type, float, naive datetime from outside, ...)."""


_DUMPS: Final = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, sort_keys=True, separators=(",", ":"), check_circular=True
).encode


class CanonicalJSONEncoder(json.JSONEncoder):
    """A JSON encoder that always writes the canonical form (used by ``AuditEntry.details``).

    Storing details canonically lets the verifier use the stored text as is
    on SQLite (where a JSON field is text); ``json.dumps(value, cls=...)``
    passes its own keyword arguments, which this encoder overrides.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.update(ensure_ascii=False, allow_nan=False, sort_keys=True, separators=(",", ":"), indent=None)
        super().__init__(**kwargs)


def details_check(details: object) -> dict[str, Any]:
    """Return ``details`` if it can be recorded; raise CanonicalFormError otherwise.

    Details are a JSON object of ids and codes: string keys; values that are
    strings, integers, booleans, null, or lists and objects of those. Floats
    are refused because their text form is not canonical across languages
    (record pence, counts or strings instead).
    """
    if not isinstance(details, dict):
        msg = f"audit details must be a dict, not {type(details).__name__}"
        raise CanonicalFormError(msg)
    _check_json_value(details, path="details")
    return details


def _check_json_value(value: object, *, path: str) -> None:
    if value is None or isinstance(value, bool | int | str):
        return
    if isinstance(value, float):
        msg = f"{path}: floats are not allowed in audit details (use integers or strings)"
        raise CanonicalFormError(msg)
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_json_value(item, path=f"{path}[{index}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                msg = f"{path}: keys must be strings, not {type(key).__name__}"
                raise CanonicalFormError(msg)
            _check_json_value(item, path=f"{path}.{key}")
        return
    msg = f"{path}: {type(value).__name__} is not a JSON value"
    raise CanonicalFormError(msg)


def canonical_json(value: object) -> str:
    """Return ``value`` as canonical JSON text (sorted keys, no whitespace, UTF-8 characters as themselves)."""
    try:
        return _DUMPS(value)
    except (TypeError, ValueError) as error:
        raise CanonicalFormError(str(error)) from error


def format_timestamp(value: dt.datetime) -> str:
    """Return ``value`` in the canonical timestamp form, ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC.

    A naive datetime is taken as UTC (SQLite stores UTC without an offset).
    """
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    # isoformat always writes four year digits and, with this timespec, six fraction digits.
    return value.isoformat(timespec="microseconds") + "Z"


def parse_timestamp(value: object) -> dt.datetime:
    """Return an aware UTC datetime from a datetime or an ISO 8601 string (naive means UTC)."""
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError as error:
            raise CanonicalFormError(f"not an ISO 8601 timestamp: {value!r}") from error
    else:
        msg = f"not a timestamp: {type(value).__name__}"
        raise CanonicalFormError(msg)
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def parse_boolean(value: object) -> bool:
    """Return a stored boolean strictly: only true/false, 1/0 (SQLite) are booleans."""
    if isinstance(value, bool):
        return value
    if value in (0, 1, "0", "1"):
        return value in (1, "1")
    msg = f"not a boolean: {value!r}"
    raise CanonicalFormError(msg)


def canonical_entry(
    *,
    entry_id: int,
    occurred_at: dt.datetime | str,
    actor_kind: str,
    actor_id: str,
    actor_is_supplier: object,
    action: str,
    subject_type: str,
    subject_id: str,
    outcome: str,
    request_id: str,
    details: object,
    sealed_at: dt.datetime | str,
) -> dict[str, Any]:
    """Return the canonical field values of an entry from values as stored (raise CanonicalFormError).

    ``details`` may be the stored JSON text or the decoded object; timestamps
    may be datetimes or ISO 8601 strings.
    """
    if isinstance(details, str | bytes):
        try:
            details = json.loads(details)
        except ValueError as error:
            raise CanonicalFormError(f"details are not JSON: {error}") from error
    if not isinstance(details, dict):
        msg = "details must be a JSON object"
        raise CanonicalFormError(msg)
    if isinstance(entry_id, bool) or not isinstance(entry_id, int):
        msg = f"id must be an integer, not {entry_id!r}"
        raise CanonicalFormError(msg)
    values: dict[str, Any] = {
        "action": action,
        "actor_id": actor_id,
        "actor_is_supplier": parse_boolean(actor_is_supplier),
        "actor_kind": actor_kind,
        "details": details,
        "id": entry_id,
        "occurred_at": format_timestamp(parse_timestamp(occurred_at)),
        "outcome": outcome,
        "request_id": request_id,
        "sealed_at": format_timestamp(parse_timestamp(sealed_at)),
        "subject_id": subject_id,
        "subject_type": subject_type,
    }
    for name in _STRING_FIELDS:
        if not isinstance(values[name], str):
            msg = f"{name} must be a string, not {type(values[name]).__name__}"
            raise CanonicalFormError(msg)
    return values


def canonical_bytes(entry: Mapping[str, Any]) -> bytes:
    """Return the canonical bytes of ``entry`` (a mapping holding at least :data:`CANONICAL_FIELDS`).

    Values must already be in canonical form (see :func:`canonical_entry`).
    """
    document = {name: entry[name] for name in CANONICAL_FIELDS}
    document["format"] = CHAIN_FORMAT
    try:
        return canonical_json(document).encode("utf-8")
    except UnicodeEncodeError as error:  # a lone surrogate cannot be UTF-8
        raise CanonicalFormError(str(error)) from error


def chain_hash(previous_hash: str, canonical: bytes) -> str:
    """Return ``entry_hash`` for an entry with these canonical bytes following ``previous_hash``."""
    return hashlib.sha256(previous_hash.encode("ascii") + canonical).hexdigest()

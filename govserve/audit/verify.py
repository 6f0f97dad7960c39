"""Verify the audit chain: stream every entry with a raw cursor and report what does not hold.

Checks, all against the stored rows and the chain head, never the triggers:

- every id from 1 to the head's ``last_sealed_id`` is present (``missing``:
  a deleted entry; rolled-back ids are chained hole markers, never gaps);
- each entry's ``entry_hash`` is SHA-256 of its ``previous_hash`` and its
  canonical bytes (``altered``: a changed field, a changed hash, a removed seal);
- each ``previous_hash`` is the ``entry_hash`` of the entry before it
  (``broken_link``: entries swapped, re-ordered or re-hashed);
- nothing below id 1 and nothing sealed after the head (``inserted``);
- the head's hash is the last entry's hash (``head_mismatch``);
- optional anchors (heads exported earlier): the entry with that id still
  has that hash (``anchor_mismatch``): this catches a rewrite of the whole
  chain, which nothing inside the database can;
- entries after the head older than ``max_unsealed_age`` (``unsealed_too_long``:
  the sealer is not running, or an id is stuck in flight).

Speed: the database builds each row's hash input (``previous_hash`` followed
by the canonical bytes) in SQL, so Python only hashes and compares; on
PostgreSQL that work runs in the server process, beside this one. A row whose
SQL-built text does not match its hash (or is NULL) is re-read and
canonicalised in Python by :mod:`govserve.audit.chain` before it is reported,
so an unusual value (nested details, a control character) costs time, never
a false report; and a match proves the bytes equal the sealed bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from govserve.audit import guards
from govserve.audit.chain import (
    FIRST_ID,
    GENESIS_HASH,
    CanonicalFormError,
    canonical_bytes,
    canonical_entry,
    chain_hash,
    format_timestamp,
)
from govserve.core import clock

DEFAULT_MAX_UNSEALED_AGE: Final = dt.timedelta(minutes=5)
FETCH_SIZE: Final = 10_000
MAX_REPORTED_PROBLEMS: Final = 10_000


@dataclass(frozen=True)
class Problem:
    """One finding: ``kind`` (stable code), the entry id it concerns (if any), a sentence for the operator."""

    kind: str
    entry_id: int | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        """Return the problem as a JSON-ready dict."""
        return {"kind": self.kind, "entry_id": self.entry_id, "message": self.message}


@dataclass(frozen=True)
class ChainHead:
    """The sealed end of the chain: every id up to ``id`` is chained; ``hash`` is its entry hash."""

    id: int
    hash: str
    sealed_at: dt.datetime | None

    def as_dict(self) -> dict[str, Any]:
        """Return the head in the exported form (the anchor format of ``govserve audit head``)."""
        return {
            "format": 1,
            "id": self.id,
            "hash": self.hash,
            "sealed_at": format_timestamp(self.sealed_at) if self.sealed_at else None,
        }


@dataclass
class VerifyReport:
    """The outcome of :func:`verify_chain`. ``intact`` is true when no problem was found."""

    head: ChainHead
    checked: int = 0
    unsealed: int = 0
    problem_count: int = 0
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    slow_path_rows: int = 0
    seconds: float = 0.0

    @property
    def intact(self) -> bool:
        """Return whether the chain verified without any problem."""
        return self.problem_count == 0

    def add(self, kind: str, entry_id: int | None, message: str) -> None:
        """Record a problem (the list keeps the first MAX_REPORTED_PROBLEMS; the count keeps them all)."""
        self.problem_count += 1
        if len(self.problems) < MAX_REPORTED_PROBLEMS:
            self.problems.append(Problem(kind=kind, entry_id=entry_id, message=message))

    def as_dict(self) -> dict[str, Any]:
        """Return the report as a JSON-ready dict."""
        return {
            "intact": self.intact,
            "head": self.head.as_dict(),
            "checked": self.checked,
            "unsealed": self.unsealed,
            "problem_count": self.problem_count,
            "problems": [problem.as_dict() for problem in self.problems],
            "warnings": self.warnings,
            "seconds": round(self.seconds, 3),
        }


def chain_head_read(connection: BaseDatabaseWrapper) -> ChainHead:
    """Return the chain head as stored (id 0 and the genesis hash before anything was sealed)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT last_sealed_id, last_hash, last_sealed_at FROM audit_auditchainhead WHERE id = 1")
        row = cursor.fetchone()
    if row is None:
        return ChainHead(id=0, hash=GENESIS_HASH, sealed_at=None)
    sealed_at = row[2]
    if isinstance(sealed_at, dt.datetime) and sealed_at.tzinfo is None:
        sealed_at = sealed_at.replace(tzinfo=dt.UTC)
    return ChainHead(id=int(row[0]), hash=str(row[1]), sealed_at=sealed_at)


# --- SQL that builds the hash input of each row --------------------------------------------------

_SQLITE_TIMESTAMP = "(replace({0}, ' ', 'T') || CASE length({0}) WHEN 19 THEN '.000000Z' WHEN 26 THEN 'Z' END)"
_POSTGRESQL_TIMESTAMP = "to_char({0} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
_POSTGRESQL_DETAILS = (
    "CASE WHEN jsonb_typeof(details) = 'object' THEN coalesce((SELECT '{' || string_agg(to_json(k)::text"
    " || ':' || v::text, ',' ORDER BY k COLLATE \"C\") || '}' FROM jsonb_each(details) AS d(k, v)), '{}') END"
)


def _hash_input_sql(vendor: str) -> str:
    if vendor == "postgresql":
        quote, details, timestamp = "to_json({0})::text", _POSTGRESQL_DETAILS, _POSTGRESQL_TIMESTAMP
        supplier = "CASE WHEN actor_is_supplier THEN 'true' ELSE 'false' END"
    else:
        quote, details, timestamp = "json_quote({0})", "details", _SQLITE_TIMESTAMP
        supplier = "CASE actor_is_supplier WHEN 1 THEN 'true' WHEN 0 THEN 'false' END"
    parts = [
        "previous_hash",
        """'{"action":'""",
        quote.format("action"),
        """',"actor_id":'""",
        quote.format("actor_id"),
        """',"actor_is_supplier":'""",
        supplier,
        """',"actor_kind":'""",
        quote.format("actor_kind"),
        """',"details":'""",
        details,
        """',"format":1,"id":'""",
        "id",
        """',"occurred_at":"'""",
        timestamp.format("occurred_at"),
        """'","outcome":'""",
        quote.format("outcome"),
        """',"request_id":'""",
        quote.format("request_id"),
        """',"sealed_at":"'""",
        timestamp.format("sealed_at"),
        """'","subject_id":'""",
        quote.format("subject_id"),
        """',"subject_type":'""",
        quote.format("subject_type"),
        "'}'",
    ]
    return " || ".join(parts)


def stream_rows(
    connection: BaseDatabaseWrapper, sql: str, params: list[Any], *, name: str = "govserve_audit_verify"
) -> Iterator[list[tuple[Any, ...]]]:
    """Yield batches of rows: a server-side (named) cursor on PostgreSQL, fetchmany elsewhere.

    On PostgreSQL the caller must be inside a transaction (see :class:`read_snapshot`).
    """
    if connection.vendor == "postgresql":
        raw = connection.connection
        with raw.cursor(name=name) as cursor:
            cursor.itersize = FETCH_SIZE
            cursor.execute(sql, params)
            while batch := cursor.fetchmany(FETCH_SIZE):
                yield batch
        return
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(FETCH_SIZE):
            yield batch


STORED_NAMES: Final = (
    "id",
    "occurred_at",
    "actor_kind",
    "actor_id",
    "actor_is_supplier",
    "action",
    "subject_type",
    "subject_id",
    "outcome",
    "request_id",
    "details",
    "previous_hash",
    "entry_hash",
    "sealed_at",
)


def stored_columns_sql(vendor: str) -> str:
    """Return the SELECT list of :data:`STORED_NAMES` with strict types (no lossy SQLite conversion)."""
    if vendor == "sqlite":
        return (
            "id, CAST(occurred_at AS TEXT), actor_kind, actor_id, CAST(actor_is_supplier AS TEXT), action,"
            " subject_type, subject_id, outcome, request_id, details, previous_hash, entry_hash,"
            " CAST(sealed_at AS TEXT)"
        )
    return ", ".join(STORED_NAMES)


def _raw_row_values(connection: BaseDatabaseWrapper, entry_id: int) -> dict[str, Any] | None:
    """Return the stored values of one entry for Python canonicalisation."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {stored_columns_sql(connection.vendor)} FROM audit_auditentry WHERE id = %s",  # noqa: S608
            [entry_id],
        )
        row = cursor.fetchone()
    return None if row is None else dict(zip(STORED_NAMES, row, strict=True))


def stored_canonical(stored: Mapping[str, Any]) -> dict[str, Any]:
    """Return the canonical values of a stored row (as read by :func:`_raw_row_values`); raise CanonicalFormError."""
    if stored["sealed_at"] is None:
        msg = "it has no seal (sealed_at is empty)"
        raise CanonicalFormError(msg)
    return canonical_entry(
        entry_id=stored["id"],
        occurred_at=stored["occurred_at"],
        actor_kind=stored["actor_kind"],
        actor_id=stored["actor_id"],
        actor_is_supplier=stored["actor_is_supplier"],
        action=stored["action"],
        subject_type=stored["subject_type"],
        subject_id=stored["subject_id"],
        outcome=stored["outcome"],
        request_id=stored["request_id"],
        details=stored["details"],
        sealed_at=stored["sealed_at"],
    )


def _slow_path_altered(connection: BaseDatabaseWrapper, entry_id: int) -> str | None:
    """Re-check one entry in Python; return why it is altered, or None when it is intact after all."""
    stored = _raw_row_values(connection, entry_id)
    if stored is None:  # pragma: no cover - the row was streamed a moment ago in the same snapshot
        return "it disappeared during verification"
    try:
        values = stored_canonical(stored)
    except CanonicalFormError as error:
        return f"it cannot be read canonically: {error}"
    if chain_hash(str(stored["previous_hash"]), canonical_bytes(values)) != stored["entry_hash"]:
        return "its content or its hash was changed after it was sealed"
    return None


@dataclass
class _Cursor:
    """The walk state: the next id expected and the stored hash of the entry before it."""

    expected_id: int = FIRST_ID
    previous_hash: str = GENESIS_HASH
    after_gap: bool = False


def verify_chain(
    *,
    using: str = DEFAULT_DB_ALIAS,
    max_unsealed_age: dt.timedelta = DEFAULT_MAX_UNSEALED_AGE,
    anchors: Mapping[int, str] | None = None,
    now: dt.datetime | None = None,
) -> VerifyReport:
    """Verify the whole chain on database ``using`` and return the report (read-only; records nothing).

    Runs in one read snapshot (REPEATABLE READ on PostgreSQL, a deferred read
    transaction on SQLite) unless the caller is already inside a transaction.
    ``anchors`` maps entry ids to hashes exported earlier (``govserve audit head``).
    """
    started = time.perf_counter()
    connection = connections[using]
    moment = now or clock.now()
    with read_snapshot(connection):
        report = VerifyReport(head=chain_head_read(connection))
        missing_guards = guards.missing(connection)
        if missing_guards:
            report.warnings.append(
                "append-only guard triggers are missing (" + ", ".join(missing_guards) + "): see docs/audit.md"
            )
        _walk_sealed(connection, report, dict(anchors or {}))
        _check_after_head(connection, report, max_unsealed_age=max_unsealed_age, now=moment)
    report.seconds = time.perf_counter() - started
    return report


class read_snapshot:  # noqa: N801 - a context manager, named like one
    """One consistent read snapshot for the whole verification, without taking SQLite's write lock."""

    def __init__(self, connection: BaseDatabaseWrapper) -> None:
        self.connection = connection
        self.atomic: transaction.Atomic | None = None
        self.began = False

    def __enter__(self) -> None:
        connection = self.connection
        connection.ensure_connection()
        if connection.in_atomic_block:
            return
        if connection.vendor == "postgresql":
            self.atomic = transaction.atomic(using=connection.alias)
            self.atomic.__enter__()
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        elif connection.vendor == "sqlite":
            # Django would BEGIN IMMEDIATE (the write lock); a deferred read transaction keeps writers going.
            connection.connection.execute("BEGIN DEFERRED")
            self.began = True

    def __exit__(self, *exc_info: object) -> None:
        if self.atomic is not None:
            self.atomic.__exit__(*exc_info)  # type: ignore[arg-type]
        elif self.began:
            self.connection.connection.execute("COMMIT")


def _walk_sealed(connection: BaseDatabaseWrapper, report: VerifyReport, anchors: dict[int, str]) -> None:
    head = report.head
    sql = f"SELECT id, previous_hash, entry_hash, {_hash_input_sql(connection.vendor)} FROM audit_auditentry"  # noqa: S608
    sql += " WHERE id <= %s ORDER BY id"
    sha256 = hashlib.sha256
    walk = _Cursor()
    checked = 0
    for batch in stream_rows(connection, sql, [head.id]):
        checked += len(batch)
        for entry_id, previous_hash, entry_hash, hash_input in batch:
            # The fast path: one comparison per check for an intact entry.
            if (
                entry_id == walk.expected_id
                and previous_hash == walk.previous_hash
                and hash_input is not None
                and sha256(hash_input.encode()).hexdigest() == entry_hash
            ):
                walk.expected_id = entry_id + 1
                walk.previous_hash = entry_hash
                walk.after_gap = False
            else:
                _check_entry(
                    connection,
                    report,
                    walk,
                    entry_id=entry_id,
                    previous_hash=previous_hash,
                    entry_hash=entry_hash,
                    hash_input=hash_input,
                )
            if anchors and entry_id in anchors:
                anchored = anchors.pop(entry_id)
                if anchored != entry_hash:
                    report.add(
                        "anchor_mismatch",
                        entry_id,
                        f"entry {entry_id} has hash {entry_hash}, but the anchor exported earlier says {anchored}:"
                        " the chain was rewritten from this entry on (or earlier)",
                    )
    report.checked = checked
    if walk.expected_id <= head.id:
        first, last = walk.expected_id, head.id
        report.add(
            "missing",
            first,
            f"entries {first}..{last} are missing: the chain head says {last} entries are sealed"
            if first < last
            else f"entry {first} is missing: the chain head says it is sealed",
        )
    elif walk.previous_hash != head.hash:
        report.add(
            "head_mismatch",
            head.id,
            f"the chain head records hash {head.hash} for entry {head.id}, but the entry holds {walk.previous_hash}",
        )
    for anchored_id, anchored in sorted(anchors.items()):
        if anchored_id > head.id:
            report.add(
                "anchor_mismatch",
                anchored_id,
                f"an anchor exported earlier covers entry {anchored_id} (hash {anchored}), but the chain head is"
                f" now {head.id}: sealed entries were removed or the head was rolled back",
            )


def _check_entry(
    connection: BaseDatabaseWrapper,
    report: VerifyReport,
    walk: _Cursor,
    *,
    entry_id: int,
    previous_hash: str,
    entry_hash: str,
    hash_input: str | None,
) -> None:
    """The slow path: say precisely what is wrong with an entry the fast path did not accept."""
    if entry_id < walk.expected_id:
        # Only possible before the first id: ids are unique and streamed in order.
        report.add("inserted", entry_id, f"entry {entry_id} lies before the start of the chain (id {FIRST_ID})")
        return
    if entry_id > walk.expected_id:
        first, last = walk.expected_id, entry_id - 1
        report.add(
            "missing",
            first,
            f"entry {first} is missing (deleted)"
            if first == last
            else f"entries {first}..{last} are missing (deleted)",
        )
        walk.after_gap = True
    intact_hash = hash_input is not None and hashlib.sha256(hash_input.encode()).hexdigest() == entry_hash
    if not intact_hash:
        report.slow_path_rows += 1
        why = _slow_path_altered(connection, entry_id)
        if why is not None:
            report.add("altered", entry_id, f"entry {entry_id} was altered: {why}")
    if previous_hash != walk.previous_hash and not walk.after_gap:
        report.add(
            "broken_link",
            entry_id,
            f"entry {entry_id} does not follow entry {entry_id - 1}: its previous_hash is {previous_hash},"
            f" the entry before it holds {walk.previous_hash} (entries swapped, re-ordered or re-hashed)",
        )
    walk.expected_id = entry_id + 1
    walk.previous_hash = entry_hash
    walk.after_gap = False


def _check_after_head(
    connection: BaseDatabaseWrapper, report: VerifyReport, *, max_unsealed_age: dt.timedelta, now: dt.datetime
) -> None:
    """Entries after the head must be unsealed, and not for too long."""
    oldest_allowed = now - max_unsealed_age
    stale: list[int] = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, occurred_at, sealed_at IS NOT NULL OR entry_hash <> '' OR previous_hash <> ''"
            " FROM audit_auditentry WHERE id > %s ORDER BY id",
            [report.head.id],
        )
        for entry_id, occurred_at, claims_seal in cursor.fetchall():
            report.unsealed += 1
            if claims_seal:
                report.add(
                    "inserted",
                    entry_id,
                    f"entry {entry_id} claims a seal but lies after the chain head ({report.head.id}):"
                    " inserted or forged, or the head was rolled back",
                )
            if not isinstance(occurred_at, dt.datetime):
                continue  # unreadable: the sealer refuses it, and verify reports it once it is in range
            occurred = occurred_at if occurred_at.tzinfo else occurred_at.replace(tzinfo=dt.UTC)
            if occurred < oldest_allowed:
                stale.append(entry_id)
    for entry_id in stale:
        report.add(
            "unsealed_too_long",
            entry_id,
            f"entry {entry_id} has been waiting for its seal longer than {max_unsealed_age}"
            " (is the sealer running? is an earlier id stuck in an open transaction?)",
        )

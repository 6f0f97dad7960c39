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

Speed. The database assembles each row's hash input (``previous_hash`` then
the canonical bytes) in SQL — details are stored as exact canonical text, see
``govserve.audit.fields`` — so Python only hashes and compares. A row whose
assembled bytes do not hash to its ``entry_hash`` (or cannot be assembled, a
NULL) is re-read and canonicalised by :mod:`govserve.audit.chain` before
anything is reported: an unusual value (a control character) costs time,
never a false report, and since every SQL step is injective a hash match
proves the stored values are the sealed ones. Large chains are split into id
ranges verified by worker processes at once (one read snapshot shared through
``pg_export_snapshot`` on PostgreSQL; sealed rows never change on SQLite),
whose edges the parent then joins.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import multiprocessing
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, Final

from django.conf import settings
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
# Below this many sealed entries one process is quicker than starting workers.
PARALLEL_MIN_ENTRIES: Final = 100_000
MAX_WORKERS: Final = 8


@dataclass(frozen=True)
class Problem:
    """One finding: ``kind`` (stable code), the entry id it concerns (if any), a sentence for the operator.

    A ``missing`` problem covers the ids ``entry_id`` to ``last_id``.
    """

    kind: str
    entry_id: int | None
    message: str
    last_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return the problem as a JSON-ready dict."""
        result: dict[str, Any] = {"kind": self.kind, "entry_id": self.entry_id, "message": self.message}
        if self.last_id is not None:
            result["last_id"] = self.last_id
        return result


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
    workers: int = 1
    seconds: float = 0.0

    @property
    def intact(self) -> bool:
        """Return whether the chain verified without any problem."""
        return self.problem_count == 0

    def add(self, problem: Problem) -> None:
        """Record a problem (the list keeps the first MAX_REPORTED_PROBLEMS; the count keeps them all)."""
        self.problem_count += 1
        if len(self.problems) < MAX_REPORTED_PROBLEMS:
            self.problems.append(problem)

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
            "workers": self.workers,
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


# --- SQL that assembles the hash input of each row ------------------------------------------------
#
# Columns: id, previous_hash, entry_hash, hash input (previous_hash then the
# canonical bytes). Details are stored as exact canonical text (fields.py), so
# they are concatenated as stored; a row that was not stored canonically (or is
# tampered with) simply mismatches and is re-checked in Python.

_SQLITE_TIMESTAMP = "(replace({0}, ' ', 'T') || CASE length({0}) WHEN 19 THEN '.000000Z' WHEN 26 THEN 'Z' END)"
_POSTGRESQL_TIMESTAMP = "to_char({0} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
# JSON string quoting by escaping \ and " (injective; a control character makes a
# mismatch and goes to the slow path). Cheaper in PostgreSQL than to_json().
_POSTGRESQL_QUOTE = """('"' || replace(replace({0}, '\\', '\\\\'), '"', '\\"') || '"')"""


def hash_input_sql(vendor: str) -> str:
    """Return the SELECT of the hash input of every entry (see the column comment above)."""
    if vendor == "postgresql":
        quote, timestamp, details = _POSTGRESQL_QUOTE, _POSTGRESQL_TIMESTAMP, "details::text"
        supplier = "CASE WHEN actor_is_supplier THEN 'true' ELSE 'false' END"
    else:
        quote, timestamp, details = "json_quote({0})", _SQLITE_TIMESTAMP, "details"
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
    return f"SELECT id, previous_hash, entry_hash, {' || '.join(parts)} FROM audit_auditentry"  # noqa: S608


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


def stored_canonical(stored: Mapping[str, Any]) -> dict[str, Any]:
    """Return the canonical values of a row read with :func:`stored_columns_sql`; raise CanonicalFormError."""
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


def stream_rows(
    connection: BaseDatabaseWrapper, sql: str, params: list[Any], *, name: str = "govserve_audit_verify"
) -> Iterator[list[tuple[Any, ...]]]:
    """Yield batches of rows: a server-side (named) cursor on PostgreSQL, fetchmany elsewhere.

    On PostgreSQL the caller must be inside a transaction (see :class:`read_snapshot`).
    """
    if connection.vendor == "postgresql":
        with connection.connection.cursor(name=name) as cursor:
            cursor.itersize = FETCH_SIZE
            cursor.execute(sql, params)
            while batch := cursor.fetchmany(FETCH_SIZE):
                yield batch
        return
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(FETCH_SIZE):
            yield batch


def _raw_row_values(connection: BaseDatabaseWrapper, entry_id: int) -> dict[str, Any] | None:
    """Return the stored values of one entry for Python canonicalisation."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {stored_columns_sql(connection.vendor)} FROM audit_auditentry WHERE id = %s",  # noqa: S608
            [entry_id],
        )
        row = cursor.fetchone()
    return None if row is None else dict(zip(STORED_NAMES, row, strict=True))


def _altered_reason(stored: Mapping[str, Any] | None) -> str | None:
    """Re-check one entry in Python; return why it is altered, or None when it is intact after all."""
    if stored is None:  # pragma: no cover - the row was streamed a moment ago in the same snapshot
        return "it disappeared during verification"
    try:
        values = stored_canonical(stored)
    except CanonicalFormError as error:
        return f"it cannot be read canonically: {error}"
    if chain_hash(str(stored["previous_hash"]), canonical_bytes(values)) != stored["entry_hash"]:
        return "its content or its hash was changed after it was sealed"
    return None


# --- The walk over a range of ids ----------------------------------------------------------------


class _Walker:
    """Check consecutive rows of one id range; ``previous_hash=None`` leaves the first link to the caller."""

    def __init__(
        self,
        *,
        start_id: int,
        previous_hash: str | None,
        reread: Callable[[int], Mapping[str, Any] | None],
        anchors: dict[int, str],
    ) -> None:
        self.expected_id = start_id
        self.previous_hash = previous_hash
        self.reread = reread
        self.anchors = anchors
        self.problems: list[Problem] = []
        self.checked = 0
        self.slow = 0
        self.first: tuple[int, str] | None = None
        self.last: tuple[int, str] | None = None
        self._link_unknown = previous_hash is None

    def feed(self, batch: list[tuple[Any, ...]]) -> None:
        if not batch:
            return
        sha256, anchors = hashlib.sha256, self.anchors
        if self.first is None:
            self.first = (batch[0][0], batch[0][1])
        self.checked += len(batch)
        expected_id, previous = self.expected_id, self.previous_hash
        for entry_id, previous_hash, entry_hash, hash_input in batch:
            # One hash and two comparisons for an intact entry (a NULL input is never intact).
            intact = hash_input is not None and sha256(hash_input.encode()).hexdigest() == entry_hash
            if intact and entry_id == expected_id and previous_hash == previous:
                expected_id, previous = entry_id + 1, entry_hash
            else:
                self.expected_id, self.previous_hash = expected_id, previous
                self._check(entry_id, previous_hash, entry_hash, intact=intact)
                expected_id, previous = self.expected_id, self.previous_hash
            if anchors and entry_id in anchors:
                anchored = anchors.pop(entry_id)
                if anchored != entry_hash:
                    self.problems.append(
                        Problem(
                            "anchor_mismatch",
                            entry_id,
                            f"entry {entry_id} has hash {entry_hash}, but the anchor exported earlier says"
                            f" {anchored}: the chain was rewritten from this entry on (or earlier)",
                        )
                    )
        self.expected_id, self.previous_hash = expected_id, previous
        self.last = (batch[-1][0], batch[-1][2])

    def _check(self, entry_id: int, previous_hash: str, entry_hash: str, *, intact: bool) -> None:
        """The slow path: say precisely what is wrong with an entry the fast path did not accept."""
        if entry_id < self.expected_id:
            # Only possible before the first id: ids are unique and streamed in order.
            self.problems.append(
                Problem("inserted", entry_id, f"entry {entry_id} lies before the start of the chain (id {FIRST_ID})")
            )
            return
        after_gap = self._link_unknown
        if entry_id > self.expected_id:
            self.problems.append(Problem("missing", self.expected_id, "", last_id=entry_id - 1))
            after_gap = True
        if not intact:
            self.slow += 1
            why = _altered_reason(self.reread(entry_id))
            if why is not None:
                self.problems.append(Problem("altered", entry_id, f"entry {entry_id} was altered: {why}"))
        if previous_hash != self.previous_hash and not after_gap:
            self.problems.append(_broken_link(entry_id, previous_hash, str(self.previous_hash)))
        self.expected_id, self.previous_hash = entry_id + 1, entry_hash
        self._link_unknown = False

    def finish(self, upper: int) -> None:
        """Report the ids after the last row up to ``upper`` (the range's end) as missing."""
        if self.expected_id <= upper:
            self.problems.append(Problem("missing", self.expected_id, "", last_id=upper))


def _broken_link(entry_id: int, previous_hash: str, before: str) -> Problem:
    return Problem(
        "broken_link",
        entry_id,
        f"entry {entry_id} does not follow entry {entry_id - 1}: its previous_hash is {previous_hash},"
        f" the entry before it holds {before} (entries swapped, re-ordered or re-hashed)",
    )


# --- Ranges verified by worker processes -----------------------------------------------------------


@dataclass(frozen=True)
class _RangeTask:
    vendor: str
    connect: dict[str, Any]
    snapshot: str | None
    lower: int  # exclusive
    upper: int  # inclusive
    first_range: bool
    anchors: dict[int, str]


@dataclass
class _RangeResult:
    problems: list[Problem]
    checked: int
    slow: int
    first: tuple[int, str] | None
    last: tuple[int, str] | None
    anchors_left: dict[int, str]


def _range_sql(vendor: str, *, first_range: bool) -> str:
    placeholder = "%s" if vendor == "postgresql" else "?"
    lower = "" if first_range else f"id > {placeholder} AND "
    return f"{hash_input_sql(vendor)} WHERE {lower}id <= {placeholder} ORDER BY id"


def _verify_range(task: _RangeTask) -> _RangeResult:
    """Verify one id range in a worker process, on its own raw connection (never the parent's)."""
    params = [task.upper] if task.first_range else [task.lower, task.upper]
    start = FIRST_ID if task.first_range else task.lower + 1
    previous = GENESIS_HASH if task.first_range else None
    if task.vendor == "postgresql":
        import psycopg  # noqa: PLC0415 - only workers of a PostgreSQL verification need it

        with psycopg.connect(**task.connect) as raw:
            raw.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            raw.read_only = True
            if task.snapshot:
                raw.execute(psycopg.sql.SQL("SET TRANSACTION SNAPSHOT {}").format(psycopg.sql.Literal(task.snapshot)))

            def reread(entry_id: int) -> Mapping[str, Any] | None:
                row = raw.execute(
                    f"SELECT {stored_columns_sql('postgresql')} FROM audit_auditentry WHERE id = %s",  # noqa: S608
                    [entry_id],
                ).fetchone()
                return None if row is None else dict(zip(STORED_NAMES, row, strict=True))

            walker = _Walker(start_id=start, previous_hash=previous, reread=reread, anchors=dict(task.anchors))
            with raw.cursor(name="govserve_audit_verify_range") as cursor:
                cursor.itersize = FETCH_SIZE
                cursor.execute(_range_sql("postgresql", first_range=task.first_range), params)
                while batch := cursor.fetchmany(FETCH_SIZE):
                    walker.feed(batch)
    else:
        raw_sqlite = sqlite3.connect(task.connect["database"], timeout=30)
        try:
            raw_sqlite.execute("PRAGMA query_only = ON")

            def reread(entry_id: int) -> Mapping[str, Any] | None:
                row = raw_sqlite.execute(
                    f"SELECT {stored_columns_sql('sqlite')} FROM audit_auditentry WHERE id = ?",  # noqa: S608
                    [entry_id],
                ).fetchone()
                return None if row is None else dict(zip(STORED_NAMES, row, strict=True))

            walker = _Walker(start_id=start, previous_hash=previous, reread=reread, anchors=dict(task.anchors))
            rows = raw_sqlite.execute(_range_sql("sqlite", first_range=task.first_range), params)
            while batch := rows.fetchmany(FETCH_SIZE):
                walker.feed(batch)
        finally:
            raw_sqlite.close()
    walker.finish(task.upper)
    return _RangeResult(
        problems=walker.problems,
        checked=walker.checked,
        slow=walker.slow,
        first=walker.first,
        last=walker.last,
        anchors_left=walker.anchors,
    )


def _range_worker(task: _RangeTask, results: Connection) -> None:
    """Worker process body: send back the range's result, or the exception it raised."""
    try:
        results.send(_verify_range(task))
    except BaseException as error:
        results.send(error)
    finally:
        results.close()


def _run_in_workers(tasks: list[_RangeTask]) -> list[_RangeResult]:
    """Verify each range in its own forked process; return the results in order (raise a worker's error).

    Forked directly (no pool thread in this process): the workers inherit the
    loaded code, open their own connections and never touch the parent's
    (they end with ``os._exit``, so nothing closes the inherited one).
    """
    context = multiprocessing.get_context("fork")
    started = []
    for task in tasks:
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(target=_range_worker, args=(task, sender), daemon=True)
        process.start()
        sender.close()
        started.append((process, receiver))
    results: list[_RangeResult] = []
    failure: BaseException | None = None
    for process, receiver in started:
        try:
            outcome = receiver.recv()
        except EOFError:
            outcome = RuntimeError(f"audit verification worker {process.pid} died (exit code {process.exitcode})")
        process.join()
        receiver.close()
        if isinstance(outcome, BaseException):
            failure = failure or outcome
        else:
            results.append(outcome)
    if failure is not None:
        raise failure
    return results


def _worker_connect(connection: BaseDatabaseWrapper) -> dict[str, Any] | None:
    """Return how a worker process connects to this database, or None when it cannot (in-memory SQLite)."""
    settings_dict = connection.settings_dict
    if connection.vendor == "sqlite":
        name = str(settings_dict["NAME"])
        if name == ":memory:" or "mode=memory" in name or connection.is_in_memory_db():  # type: ignore[attr-defined]
            return None
        return {"database": name}
    if connection.vendor == "postgresql":
        params: dict[str, Any] = {"dbname": settings_dict["NAME"]}
        for key, option in (("HOST", "host"), ("PORT", "port"), ("USER", "user"), ("PASSWORD", "password")):
            if settings_dict.get(key):
                params[option] = settings_dict[key]
        for option in ("sslmode", "sslrootcert", "sslcert", "sslkey", "options", "application_name"):
            if option in settings_dict.get("OPTIONS", {}):
                params[option] = settings_dict["OPTIONS"][option]
        return params
    return None


def _worker_count(
    connection: BaseDatabaseWrapper, head_id: int, requested: int | None, *, in_caller_transaction: bool
) -> int:
    if in_caller_transaction or _worker_connect(connection) is None:
        return 1  # workers could not see the caller's uncommitted rows, or the database at all
    if requested is not None:
        return max(1, min(requested, MAX_WORKERS))
    configured = int(getattr(settings, "GOVSERVE_AUDIT_VERIFY_WORKERS", 0))
    count = configured or min(os.cpu_count() or 1, 4)
    return count if head_id >= PARALLEL_MIN_ENTRIES else 1


def _ranges(head_id: int, workers: int) -> list[tuple[int, int]]:
    """Split ids 1..head_id into ``workers`` contiguous (exclusive lower, inclusive upper) ranges."""
    size = -(-head_id // workers)
    bounds = [min(head_id, size * number) for number in range(workers + 1)]
    return [(low, high) for low, high in itertools.pairwise(bounds) if high > low] or [(0, head_id)]


_RANK: Final = {"altered": 1, "broken_link": 2, "anchor_mismatch": 3}


def _walk_parallel(
    connection: BaseDatabaseWrapper,
    report: VerifyReport,
    anchors: dict[int, str],
    *,
    workers: int,
    snapshot: str | None,
) -> tuple[list[Problem], dict[int, str], tuple[int, str] | None]:
    connect = _worker_connect(connection)
    assert connect is not None  # noqa: S101 - _worker_count checked it
    tasks = [
        _RangeTask(
            vendor=connection.vendor,
            connect=connect,
            snapshot=snapshot,
            lower=lower,
            upper=upper,
            first_range=index == 0,
            anchors={key: value for key, value in anchors.items() if (index == 0 or key > lower) and key <= upper},
        )
        for index, (lower, upper) in enumerate(_ranges(report.head.id, workers))
    ]
    results = _run_in_workers(tasks)
    problems: list[Problem] = []
    left = {key: value for key, value in anchors.items() if key > report.head.id}
    last: tuple[int, str] | None = None
    for task, result in zip(tasks, results, strict=True):
        report.checked += result.checked
        report.slow_path_rows += result.slow
        left.update(result.anchors_left)
        if not task.first_range and result.first is not None and last is not None:
            first_id, first_previous = result.first
            if first_id == last[0] + 1 and first_previous != last[1]:
                problems.append(_broken_link(first_id, first_previous, last[1]))
        problems.extend(result.problems)
        last = result.last or last
    # The order one process reports in: by entry, and for one entry: altered, broken link, anchor.
    problems.sort(key=lambda problem: (problem.entry_id or 0, _RANK.get(problem.kind, 0)))
    return problems, left, last


# --- The whole verification ----------------------------------------------------------------------


def verify_chain(
    *,
    using: str = DEFAULT_DB_ALIAS,
    max_unsealed_age: dt.timedelta = DEFAULT_MAX_UNSEALED_AGE,
    anchors: Mapping[int, str] | None = None,
    now: dt.datetime | None = None,
    workers: int | None = None,
) -> VerifyReport:
    """Verify the whole chain on database ``using`` and return the report (read-only; records nothing).

    Runs in one read snapshot (REPEATABLE READ on PostgreSQL, a deferred read
    transaction on SQLite) unless the caller is already inside a transaction.
    ``anchors`` maps entry ids to hashes exported earlier (``govserve audit head``).
    ``workers``: processes for the sealed range (default: ``GOVSERVE_AUDIT_VERIFY_WORKERS``
    or the CPU count up to 4, for chains of at least PARALLEL_MIN_ENTRIES; always 1
    inside a transaction or on an in-memory database).
    """
    started = time.perf_counter()
    connection = connections[using]
    moment = now or clock.now()
    in_caller_transaction = connection.in_atomic_block
    with read_snapshot(connection) as snapshot:
        report = VerifyReport(head=chain_head_read(connection))
        missing_guards = guards.missing(connection)
        if missing_guards:
            report.warnings.append(
                "append-only guard triggers are missing (" + ", ".join(missing_guards) + "): see docs/audit.md"
            )
        report.workers = _worker_count(connection, report.head.id, workers, in_caller_transaction=in_caller_transaction)
        if report.workers > 1:
            problems, anchors_left, last = _walk_parallel(
                connection, report, dict(anchors or {}), workers=report.workers, snapshot=snapshot.exported()
            )
        else:
            problems, anchors_left, last = _walk_sequential(connection, report, dict(anchors or {}))
        for problem in _joined(problems, head_id=report.head.id):
            report.add(problem)
        _check_head(report, last, anchors_left)
        _check_after_head(connection, report, max_unsealed_age=max_unsealed_age, now=moment)
    report.seconds = time.perf_counter() - started
    return report


def _walk_sequential(
    connection: BaseDatabaseWrapper, report: VerifyReport, anchors: dict[int, str]
) -> tuple[list[Problem], dict[int, str], tuple[int, str] | None]:
    walker = _Walker(
        start_id=FIRST_ID,
        previous_hash=GENESIS_HASH,
        reread=lambda entry_id: _raw_row_values(connection, entry_id),
        anchors=anchors,
    )
    sql = f"{hash_input_sql(connection.vendor)} WHERE id <= %s ORDER BY id"
    for batch in stream_rows(connection, sql, [report.head.id]):
        walker.feed(batch)
    walker.finish(report.head.id)
    report.checked = walker.checked
    report.slow_path_rows = walker.slow
    return walker.problems, walker.anchors, walker.last


def _joined(problems: list[Problem], *, head_id: int) -> list[Problem]:
    """Join adjacent ``missing`` ranges (split by worker ranges) and word them."""
    joined: list[Problem] = []
    for problem in problems:
        previous = joined[-1] if joined else None
        if (
            problem.kind == "missing"
            and previous is not None
            and previous.kind == "missing"
            and previous.last_id is not None
            and problem.entry_id == previous.last_id + 1
        ):
            joined[-1] = Problem("missing", previous.entry_id, "", last_id=problem.last_id)
        else:
            joined.append(problem)
    return [_worded(problem, head_id=head_id) if problem.kind == "missing" else problem for problem in joined]


def _worded(problem: Problem, *, head_id: int) -> Problem:
    first, last = problem.entry_id, problem.last_id
    span = f"entry {first} is" if first == last else f"entries {first}..{last} are"
    if last == head_id:
        message = f"{span} missing: the chain head says {head_id} entries are sealed"
    else:
        message = f"{span} missing (deleted)"
    return Problem("missing", first, message, last_id=last)


def _check_head(report: VerifyReport, last: tuple[int, str] | None, anchors_left: dict[int, str]) -> None:
    head = report.head
    if last is not None and last[0] == head.id and last[1] != head.hash:
        report.add(
            Problem(
                "head_mismatch",
                head.id,
                f"the chain head records hash {head.hash} for entry {head.id}, but the entry holds {last[1]}",
            )
        )
    for anchored_id, anchored in sorted(anchors_left.items()):
        if anchored_id > head.id:
            report.add(
                Problem(
                    "anchor_mismatch",
                    anchored_id,
                    f"an anchor exported earlier covers entry {anchored_id} (hash {anchored}), but the chain head is"
                    f" now {head.id}: sealed entries were removed or the head was rolled back",
                )
            )


class read_snapshot:  # noqa: N801 - a context manager, named like one
    """One consistent read snapshot for the whole verification, without taking SQLite's write lock."""

    def __init__(self, connection: BaseDatabaseWrapper) -> None:
        self.connection = connection
        self.atomic: transaction.Atomic | None = None
        self.began = False

    def __enter__(self) -> read_snapshot:
        connection = self.connection
        connection.ensure_connection()
        if connection.in_atomic_block:
            return self
        if connection.vendor == "postgresql":
            self.atomic = transaction.atomic(using=connection.alias)
            self.atomic.__enter__()
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        elif connection.vendor == "sqlite":
            # Django would BEGIN IMMEDIATE (the write lock); a deferred read transaction keeps writers going.
            connection.connection.execute("BEGIN DEFERRED")
            self.began = True
        return self

    def exported(self) -> str | None:
        """Return a snapshot id other sessions can adopt (PostgreSQL, own transaction only)."""
        if self.atomic is None or self.connection.vendor != "postgresql":
            return None
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot()")
            return str(cursor.fetchone()[0])

    def __exit__(self, *exc_info: object) -> None:
        if self.atomic is not None:
            self.atomic.__exit__(*exc_info)  # type: ignore[arg-type]
        elif self.began:
            self.connection.connection.execute("COMMIT")


def _check_after_head(
    connection: BaseDatabaseWrapper, report: VerifyReport, *, max_unsealed_age: dt.timedelta, now: dt.datetime
) -> None:
    """Entries after the head must be unsealed, and not for too long (streamed: a stalled sealer leaves many)."""
    oldest_allowed = now - max_unsealed_age
    sql = (
        "SELECT id, occurred_at, sealed_at IS NOT NULL OR entry_hash <> '' OR previous_hash <> ''"
        " FROM audit_auditentry WHERE id > %s ORDER BY id"
    )
    stale: list[int] = []
    for batch in stream_rows(connection, sql, [report.head.id], name="govserve_audit_after_head"):
        for entry_id, occurred_at, claims_seal in batch:
            report.unsealed += 1
            if claims_seal:
                report.add(
                    Problem(
                        "inserted",
                        entry_id,
                        f"entry {entry_id} claims a seal but lies after the chain head ({report.head.id}):"
                        " inserted or forged, or the head was rolled back",
                    )
                )
            if not isinstance(occurred_at, dt.datetime):
                continue  # unreadable: the sealer refuses it, and verify reports it once it is in range
            occurred = occurred_at if occurred_at.tzinfo else occurred_at.replace(tzinfo=dt.UTC)
            if occurred < oldest_allowed and len(stale) < MAX_REPORTED_PROBLEMS:
                stale.append(entry_id)
            elif occurred < oldest_allowed:
                report.problem_count += 1  # counted, not listed
    for entry_id in stale:
        report.add(
            Problem(
                "unsealed_too_long",
                entry_id,
                f"entry {entry_id} has been waiting for its seal longer than {max_unsealed_age}"
                " (is the sealer running? is an earlier id stuck in an open transaction?)",
            )
        )

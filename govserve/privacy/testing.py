"""A raw scan for personal values, for tests of every app that stores them.

The point of field-level encryption is that no personal value reaches the
database, its files or the file store in clear. These helpers check exactly
that, below the ORM: every row of every table through raw SQL (all columns),
on SQLite the main database file and its ``-wal`` and ``-journal`` files byte
by byte (free pages included, which is where ``secure_delete`` matters), and
any directory tree (``MEDIA_ROOT``)::

    from govserve.privacy.testing import assert_no_plaintext

    application_submit(...)          # the storage path under test
    report = assert_no_plaintext(["Ada Lovelace", "ada@example.org"], directories=[settings_media_root])
    assert report.files              # on a file database, the files were really read

Each value is looked for as UTF-8, UTF-16 (both byte orders), JSON-escaped
(``\\u00e9``), and base64 at the three alignments, so a value stored through a
JSON column or a base64 wrapper is still found. Values shorter than
:data:`MIN_VALUE_BYTES` are refused: random ciphertext would match them by
chance. The scan only sees what is committed or written by the connection
it uses: a file scan needs committed data (``transaction=True`` tests or a
subprocess), a table scan in an ordinary test sees the test's own transaction.
PostgreSQL's files are not reachable through a connection, so there only the
tables are scanned (``report.files`` is empty).
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connections

MIN_VALUE_BYTES = 8
_CHUNK = 4 * 1024 * 1024


@dataclass(frozen=True)
class Needle:
    """One searched form of one value."""

    value_index: int
    encoding: str
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class Finding:
    """Where one value was found, in which form (the value itself is not repeated here)."""

    value_index: int
    encoding: str
    where: str


@dataclass(frozen=True)
class ScanReport:
    """What was scanned and what was found."""

    findings: tuple[Finding, ...]
    tables: tuple[str, ...]
    rows: int
    cells: int
    files: tuple[str, ...]
    file_bytes: int

    @property
    def clean(self) -> bool:
        """Return True when no value was found anywhere."""
        return not self.findings


def _base64_forms(raw: bytes) -> Iterator[bytes]:
    for offset in range(3):
        segment = raw[offset:]
        usable = len(segment) // 3 * 3
        encoded = base64.b64encode(segment[:usable])
        if len(encoded) >= MIN_VALUE_BYTES:
            yield encoded


def needles_for(values: Sequence[str | bytes]) -> list[Needle]:
    """Return every searched form of ``values``; raise ValueError for a value too short to search."""
    needles: list[Needle] = []
    for index, value in enumerate(values):
        raw = value.encode("utf-8") if isinstance(value, str) else bytes(value)
        if len(raw) < MIN_VALUE_BYTES:
            msg = f"value {index} is shorter than {MIN_VALUE_BYTES} bytes: too short to tell from random bytes"
            raise ValueError(msg)
        forms: dict[str, bytes] = {"utf-8": raw}
        if isinstance(value, str):
            forms["utf-16-le"] = value.encode("utf-16-le")
            forms["utf-16-be"] = value.encode("utf-16-be")
            escaped = json.dumps(value)[1:-1].encode("ascii")
            if escaped != raw:
                forms["json-escaped"] = escaped
        for position, encoded in enumerate(_base64_forms(raw)):
            forms[f"base64@{position}"] = encoded
        seen: set[bytes] = set()
        for encoding, data in forms.items():
            if data not in seen:
                seen.add(data)
                needles.append(Needle(value_index=index, encoding=encoding, data=data))
    return needles


def _cell_bytes(cell: object) -> list[bytes]:
    if cell is None:
        return []
    if isinstance(cell, bytes | bytearray | memoryview):
        return [bytes(cell)]
    if isinstance(cell, str):
        return [cell.encode("utf-8")]
    if isinstance(cell, dict | list):
        # psycopg may hand JSON columns back decoded: search both spellings.
        return [
            json.dumps(cell, ensure_ascii=False, default=str).encode("utf-8"),
            json.dumps(cell, default=str).encode("ascii"),
        ]
    return [str(cell).encode("utf-8")]


def _scan_tables(
    needles: list[Needle], *, using: str, exclude_tables: Iterable[str]
) -> tuple[list[Finding], list[str], int, int]:
    connection = connections[using]
    excluded = set(exclude_tables)
    findings: list[Finding] = []
    rows = cells = 0
    with connection.cursor() as cursor:
        tables = sorted(t for t in connection.introspection.table_names(cursor) if t not in excluded)
        for table in tables:
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - introspected names
            columns = [column[0] for column in cursor.description]
            row_number = 0
            while batch := cursor.fetchmany(500):
                for row in batch:
                    row_number += 1
                    rows += 1
                    for column, cell in zip(columns, row, strict=True):
                        cells += 1
                        for haystack in _cell_bytes(cell):
                            for needle in needles:
                                if needle.data in haystack:
                                    where = f"table {table} column {column} row {row_number}"
                                    findings.append(Finding(needle.value_index, needle.encoding, where))
    return findings, tables, rows, cells


def _scan_file(path: Path, needles: list[Needle]) -> tuple[list[Finding], int]:
    findings: list[Finding] = []
    overlap = max(len(needle.data) for needle in needles) - 1
    scanned = 0
    tail = b""
    offset = 0  # file offset of the first byte of ``tail``
    reported: set[tuple[int, str, int]] = set()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            scanned += len(chunk)
            window = tail + chunk
            for needle in needles:
                start = window.find(needle.data)
                while start != -1:
                    key = (needle.value_index, needle.encoding, offset + start)
                    if key not in reported:
                        reported.add(key)
                        findings.append(
                            Finding(needle.value_index, needle.encoding, f"file {path} offset {offset + start}")
                        )
                    start = window.find(needle.data, start + 1)
            tail = window[-overlap:] if overlap > 0 else b""
            offset += len(window) - len(tail)
    return findings, scanned


def sqlite_database_files(*, using: str = "default") -> list[Path]:
    """Return the SQLite files of ``using`` that exist (main, ``-wal``, ``-journal``); none for in-memory or others."""
    connection = connections[using]
    if connection.vendor != "sqlite":
        return []
    name = str(connection.settings_dict["NAME"])
    if name == ":memory:" or "mode=memory" in name or not name:
        return []
    main = Path(name.removeprefix("file:").split("?", 1)[0])
    return [path for path in (main, Path(f"{main}-wal"), Path(f"{main}-journal")) if path.is_file()]


def plaintext_scan(
    values: Sequence[str | bytes],
    *,
    using: str = "default",
    directories: Iterable[str | os.PathLike[str]] = (),
    database_files: bool = True,
    exclude_tables: Iterable[str] = (),
) -> ScanReport:
    """Scan every table of ``using`` (raw SQL), its SQLite files and ``directories`` for ``values``.

    Return a :class:`ScanReport` listing each place a value was found, in
    which form. Raise ValueError for values under MIN_VALUE_BYTES or none.
    """
    if not values:
        msg = "give at least one value to scan for"
        raise ValueError(msg)
    needles = needles_for(values)
    findings, tables, rows, cells = _scan_tables(needles, using=using, exclude_tables=exclude_tables)
    paths: list[Path] = sqlite_database_files(using=using) if database_files else []
    for directory in directories:
        root = Path(directory)
        if not root.is_dir():
            msg = f"{root} is not a directory"
            raise ValueError(msg)
        paths.extend(sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()))
    file_bytes = 0
    for path in paths:
        found, scanned = _scan_file(path, needles)
        findings.extend(found)
        file_bytes += scanned
    return ScanReport(
        findings=tuple(findings),
        tables=tuple(tables),
        rows=rows,
        cells=cells,
        files=tuple(str(path) for path in paths),
        file_bytes=file_bytes,
    )


def assert_no_plaintext(
    values: Sequence[str | bytes],
    *,
    using: str = "default",
    directories: Iterable[str | os.PathLike[str]] = (),
    database_files: bool = True,
    exclude_tables: Iterable[str] = (),
) -> ScanReport:
    """Scan as :func:`plaintext_scan` does and raise AssertionError listing every finding; return the report."""
    report = plaintext_scan(
        values, using=using, directories=directories, database_files=database_files, exclude_tables=exclude_tables
    )
    if report.findings:
        lines = [f"value {f.value_index} ({f.encoding}) in {f.where}" for f in report.findings]
        msg = "personal values found in clear:\n  " + "\n  ".join(lines)
        raise AssertionError(msg)
    return report

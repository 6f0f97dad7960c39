"""Helpers of the retention and erasure tests: raw row counts and the files of the upload directory."""

from __future__ import annotations

from pathlib import Path

from django.db import connection


def row_counts() -> dict[str, int]:
    """Return the number of rows of every table (raw SQL, below the ORM)."""
    counts = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            counts[table] = cursor.fetchone()[0]
    return counts


def stored_files(root: Path) -> list[str]:
    """Return the files under the upload directory."""
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())

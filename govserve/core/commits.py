"""How durable a commit is: every commit waits for the disk, except a draft's page saves on SQLite.

SQLite runs in WAL mode with ``synchronous=FULL`` (config/settings/base.py):
each commit waits for an fsync of the write-ahead log, so an acknowledged
commit survives a power cut. :func:`deferred_sync` lets one transaction
commit at ``synchronous=NORMAL`` instead: its pages are appended to the WAL
without waiting for the disk, and the next FULL commit of any connection (an
fsync of the whole log file) or the next checkpoint makes it durable with
everything before it. A power cut or an operating-system crash in between
loses that transaction and the NORMAL ones after it, never an earlier commit,
and never corrupts the database (SQLite's WAL guarantee); a process crash
loses nothing (the pages are in the operating system's cache). Decision
0010 (docs/decisions/0010-sqlite-deferred-sync-for-draft-saves.md) says
which writes may use it: a citizen's draft page saves, never a submission,
a payment, an audit-only operation or a message acknowledged to another system.

On PostgreSQL, inside an outer transaction (whose commit decides), or when
the connection is not at ``synchronous=FULL`` (an operator's choice), it does
nothing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections

_FULL = 2
_NORMAL = 1


@contextmanager
def deferred_sync(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Let the transaction opened inside commit without waiting for the disk (SQLite only); see the module docstring.

    Enter it before ``transaction.atomic()`` (SQLite refuses to change the
    setting inside a transaction). The connection is back at ``FULL`` on exit,
    whatever happened; a connection that cannot be set back is closed, so it
    is never used again at ``NORMAL``.
    """
    wrapper = connections[using]
    if wrapper.vendor != "sqlite" or wrapper.in_atomic_block:
        yield
        return
    wrapper.ensure_connection()
    raw = wrapper.connection
    # The raw connection: two PRAGMAs of a few microseconds, not statements of the request.
    if raw is None or raw.execute("PRAGMA synchronous").fetchone()[0] != _FULL:
        yield
        return
    raw.execute(f"PRAGMA synchronous={_NORMAL}")
    try:
        yield
    finally:
        try:
            raw.execute(f"PRAGMA synchronous={_FULL}")
        except sqlite3.Error:
            wrapper.close()

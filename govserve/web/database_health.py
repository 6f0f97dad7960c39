"""The kept PostgreSQL connection's health check, without a round trip when the connection is quiet.

With ``DATABASE_CONN_HEALTH_CHECKS`` on, Django checks a kept connection
before its first use in each request by sending ``SELECT 1`` and waiting for
the answer (``DatabaseWrapper.is_usable``): one statement of the four a
journey page GET sends, and 7% of a worker's busy samples in the
benchmark's profile on PostgreSQL (the round trip, PostgreSQL's own work
and the waiting).

The check is there for a server that went away between two requests (a
restart, a failover, an idle-session timeout): PostgreSQL then tells the
client before closing (an ``ErrorResponse`` "terminating connection"), or
the socket is closed, and either makes the socket readable while nothing was
asked. So at the start of a request, before Django's check, each kept
PostgreSQL connection that libpq reports as open and idle, not known broken,
and whose socket has nothing to read (a poll that does not wait) is taken as
checked; any other connection (something arrived, an error occurred, a
transaction was left open) gets Django's ``SELECT 1`` as before. A server
that vanished without a word (its host powered off) is seen by neither test
until the next statement times out, as before.
"""

from __future__ import annotations

import select
from collections.abc import Sequence
from typing import Any

from django.core.signals import request_started
from django.db import connections


def _quiet(raw: Any) -> bool:
    """Return whether psycopg connection ``raw`` is open, idle and has nothing waiting to be read."""
    import psycopg  # noqa: PLC0415 - only with PostgreSQL configured
    from psycopg import pq  # noqa: PLC0415

    if raw.broken or raw.closed:
        return False
    pgconn = raw.pgconn
    if pgconn.status != pq.ConnStatus.OK or pgconn.transaction_status != pq.TransactionStatus.IDLE:
        return False
    try:
        readable, _, _ = select.select([pgconn.socket], [], [], 0)
    except (OSError, ValueError, psycopg.Error):  # no socket, or a closed descriptor: Django's check decides
        return False
    return not readable


def presume_quiet_connections_usable(**_: Any) -> None:
    """Mark each kept, quiet PostgreSQL connection as checked for this request (see the module docstring)."""
    # health_check_enabled / health_check_done: Django's own attributes, not in its type stubs.
    wrappers: Sequence[Any] = connections.all(initialized_only=True)
    for connection in wrappers:
        if (
            connection.vendor == "postgresql"
            and connection.connection is not None
            and connection.health_check_enabled
            and not connection.health_check_done
            and not connection.errors_occurred
            and _quiet(connection.connection)
        ):
            connection.health_check_done = True


def connect() -> None:
    """Run :func:`presume_quiet_connections_usable` on every request, after Django's ``close_old_connections``."""
    # django.db connected close_old_connections when it was imported, before any app's ready(): this runs
    # after it, and so after its reset of the check. (Django's test client disconnects close_old_connections
    # during its requests and connects it again after ours; from then on Django's round trip is kept.)
    request_started.connect(presume_quiet_connections_usable, dispatch_uid="govserve-quiet-connections")

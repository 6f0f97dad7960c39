"""``govserve flush``: Django's "delete all data", allowed past the audit log's append-only triggers.

Wiping the whole database (development, and Django's transactional tests
between tests) is the one sanctioned way to remove audit rows; it removes the
chain head with them. Everything else that deletes an audit row is refused by
the triggers of ``govserve.audit.guards``.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands.flush import Command as DjangoFlushCommand
from django.db import DEFAULT_DB_ALIAS, connections

from govserve.audit.guards import flush_permitted


class Command(DjangoFlushCommand):
    def handle(self, **options: Any) -> None:
        connection = connections[options.get("database") or DEFAULT_DB_ALIAS]
        with flush_permitted(connection):
            super().handle(**options)

"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.utils import DatabaseError


def pending_migrations() -> list[str]:
    """Return the names of migrations not yet applied to the default database."""
    connection = connections[DEFAULT_DB_ALIAS]
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]


def readiness() -> tuple[bool, dict[str, str]]:
    """Return whether this process can serve: database reachable and fully migrated."""
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
        pending = pending_migrations()
    except DatabaseError as error:
        return False, {"database": f"unreachable: {type(error).__name__}"}
    if pending:
        return False, {"database": "reachable", "migrations": f"{len(pending)} pending"}
    return True, {"database": "reachable", "migrations": "applied"}

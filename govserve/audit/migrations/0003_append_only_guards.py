"""Append-only guard triggers on the audit tables (PostgreSQL and SQLite; see govserve.audit.guards)."""

from typing import Any

from django.db import migrations


def install(apps: Any, schema_editor: Any) -> None:
    from govserve.audit import guards

    guards.install(schema_editor.connection)


def uninstall(apps: Any, schema_editor: Any) -> None:
    from govserve.audit import guards

    guards.uninstall(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_chain_head_canonical_details")]

    operations = [migrations.RunPython(install, uninstall, elidable=False)]

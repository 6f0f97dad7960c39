"""A database trigger that makes the ledger append-only, whatever the caller.

The services only ever insert ledger rows; this trigger also stops
``QuerySet.update()``, raw SQL and other programs from changing one. DELETE is
guarded by PROTECT foreign keys rather than a trigger (as for the catalogue's
versions), because Django's test-database flush on SQLite deletes rows one by
one.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

TABLE = "payments_paymenttransaction"
MESSAGE = "govserve: the payments ledger is append-only"


def create_trigger(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        statements = [
            f"""CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE ON {TABLE}
            FOR EACH ROW BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END;""",
        ]
    elif vendor == "postgresql":
        statements = [
            f"""CREATE FUNCTION {TABLE}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
            END $$;""",
            f"""CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE ON {TABLE}
            FOR EACH ROW EXECUTE FUNCTION {TABLE}_append_only();""",
        ]
    else:  # pragma: no cover - govserve supports SQLite and PostgreSQL only
        msg = f"no ledger trigger for database vendor {vendor!r}"
        raise NotImplementedError(msg)
    for statement in statements:
        schema_editor.execute(statement)


def drop_trigger(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only")
    elif vendor == "postgresql":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}")
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {TABLE}_append_only()")


class Migration(migrations.Migration):
    dependencies = [("payments", "0001_initial")]

    operations = [migrations.RunPython(create_trigger, drop_trigger, elidable=False)]

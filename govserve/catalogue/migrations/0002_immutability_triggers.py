"""Database triggers that make published versions immutable, whatever the caller.

The service layer refuses changes with a typed error and the models refuse in
``save()``; these triggers also stop ``QuerySet.update()``, raw SQL and
other programs. They guard UPDATE (content of a published or retired row, or
moving it back to draft) and the pins of published service versions. DELETE
is guarded by the models and by PROTECT foreign keys rather than a trigger,
because Django's test-database flush on SQLite deletes rows one by one.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

SERVICE_VERSION_CONTENT = (
    "id",
    "service_id",
    "number",
    "source_name",
    "source_text",
    "content_hash",
    "parsed",
    "published_at",
    "published_by_id",
    "publish_reason",
)
CATALOGUE_VERSION_CONTENT = ("id", "catalogue_id", "number", "source_name", "source_text", "content_hash", "parsed")
MESSAGE_VERSION = "govserve: a published version is immutable"
MESSAGE_PIN = "govserve: the catalogues of a published version are immutable"


def _sqlite(table: str, columns: tuple[str, ...]) -> list[str]:
    changed = " OR ".join(f"NEW.{column} IS NOT OLD.{column}" for column in columns)
    return [
        f"""CREATE TRIGGER {table}_immutable BEFORE UPDATE ON {table}
        FOR EACH ROW WHEN OLD.state <> 'draft' AND ({changed} OR NEW.state = 'draft')
        BEGIN SELECT RAISE(ABORT, '{MESSAGE_VERSION}'); END;""",
    ]


def _postgres(table: str, columns: tuple[str, ...]) -> list[str]:
    changed = " OR ".join(f"NEW.{column} IS DISTINCT FROM OLD.{column}" for column in columns)
    return [
        f"""CREATE FUNCTION {table}_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF OLD.state <> 'draft' AND ({changed} OR NEW.state = 'draft') THEN
                RAISE EXCEPTION '{MESSAGE_VERSION}' USING ERRCODE = 'integrity_constraint_violation';
            END IF;
            RETURN NEW;
        END $$;""",
        f"""CREATE TRIGGER {table}_immutable BEFORE UPDATE ON {table}
        FOR EACH ROW EXECUTE FUNCTION {table}_immutable();""",
    ]


PIN_TABLE = "catalogue_pinnedcatalogue"
PIN_NOT_DRAFT = "(SELECT state FROM catalogue_serviceversion WHERE id = {row}.service_version_id) <> 'draft'"


def _sqlite_pins() -> list[str]:
    return [
        f"""CREATE TRIGGER {PIN_TABLE}_insert BEFORE INSERT ON {PIN_TABLE}
        FOR EACH ROW WHEN {PIN_NOT_DRAFT.format(row="NEW")}
        BEGIN SELECT RAISE(ABORT, '{MESSAGE_PIN}'); END;""",
        f"""CREATE TRIGGER {PIN_TABLE}_update BEFORE UPDATE ON {PIN_TABLE}
        FOR EACH ROW WHEN {PIN_NOT_DRAFT.format(row="OLD")} OR {PIN_NOT_DRAFT.format(row="NEW")}
        BEGIN SELECT RAISE(ABORT, '{MESSAGE_PIN}'); END;""",
    ]


def _postgres_pins() -> list[str]:
    return [
        f"""CREATE FUNCTION {PIN_TABLE}_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF {PIN_NOT_DRAFT.format(row="NEW")}
               OR (TG_OP = 'UPDATE' AND {PIN_NOT_DRAFT.format(row="OLD")}) THEN
                RAISE EXCEPTION '{MESSAGE_PIN}' USING ERRCODE = 'integrity_constraint_violation';
            END IF;
            RETURN NEW;
        END $$;""",
        f"""CREATE TRIGGER {PIN_TABLE}_immutable BEFORE INSERT OR UPDATE ON {PIN_TABLE}
        FOR EACH ROW EXECUTE FUNCTION {PIN_TABLE}_immutable();""",
    ]


def create_triggers(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        statements = [
            *_sqlite("catalogue_serviceversion", SERVICE_VERSION_CONTENT),
            *_sqlite("catalogue_catalogueversion", CATALOGUE_VERSION_CONTENT),
            *_sqlite_pins(),
        ]
    elif vendor == "postgresql":
        statements = [
            *_postgres("catalogue_serviceversion", SERVICE_VERSION_CONTENT),
            *_postgres("catalogue_catalogueversion", CATALOGUE_VERSION_CONTENT),
            *_postgres_pins(),
        ]
    else:  # pragma: no cover - govserve supports SQLite and PostgreSQL only
        msg = f"no immutability triggers for database vendor {vendor!r}"
        raise NotImplementedError(msg)
    for statement in statements:
        schema_editor.execute(statement)


def drop_triggers(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    vendor = schema_editor.connection.vendor
    tables = ("catalogue_serviceversion", "catalogue_catalogueversion")
    if vendor == "sqlite":
        names = [f"{table}_immutable" for table in tables] + [f"{PIN_TABLE}_insert", f"{PIN_TABLE}_update"]
        for name in names:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
    elif vendor == "postgresql":
        for table in (*tables, PIN_TABLE):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_immutable ON {table}")
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {table}_immutable()")


class Migration(migrations.Migration):
    dependencies = [("catalogue", "0001_initial")]

    operations = [migrations.RunPython(create_triggers, drop_triggers, elidable=False)]

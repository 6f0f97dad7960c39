"""Result templates stored in the service version, and guarded by the immutability trigger like the rest.

``ServiceVersion.templates`` holds ``{relative path: text}`` of the templates
the definition names. The UPDATE trigger of migration 0002 lists the content
columns it guards, so it is dropped and created again with ``templates``
among them. On SQLite, adding a NOT NULL column rebuilds the table, which
drops the table's triggers and leaves the pins' triggers naming a table that
is briefly absent: every trigger of 0002 is dropped first and created again
after. The SQL is a frozen copy of 0002's (migrations must not change when
the code moves on).
"""

from collections.abc import Callable

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

VERSION_TABLE = "catalogue_serviceversion"
CATALOGUE_TABLE = "catalogue_catalogueversion"
PIN_TABLE = "catalogue_pinnedcatalogue"
BASE_CONTENT = (
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
WITH_TEMPLATES = (*BASE_CONTENT, "templates")
CATALOGUE_VERSION_CONTENT = ("id", "catalogue_id", "number", "source_name", "source_text", "content_hash", "parsed")
MESSAGE_VERSION = "govserve: a published version is immutable"
MESSAGE_PIN = "govserve: the catalogues of a published version are immutable"
PIN_NOT_DRAFT = "(SELECT state FROM catalogue_serviceversion WHERE id = {row}.service_version_id) <> 'draft'"


def _sqlite_version(table: str, columns: tuple[str, ...]) -> str:
    changed = " OR ".join(f"NEW.{column} IS NOT OLD.{column}" for column in columns)
    return f"""CREATE TRIGGER {table}_immutable BEFORE UPDATE ON {table}
        FOR EACH ROW WHEN OLD.state <> 'draft' AND ({changed} OR NEW.state = 'draft')
        BEGIN SELECT RAISE(ABORT, '{MESSAGE_VERSION}'); END;"""


def _sqlite_pins() -> list[str]:
    return [
        f"""CREATE TRIGGER {PIN_TABLE}_insert BEFORE INSERT ON {PIN_TABLE}
        FOR EACH ROW WHEN {PIN_NOT_DRAFT.format(row="NEW")}
        BEGIN SELECT RAISE(ABORT, '{MESSAGE_PIN}'); END;""",
        f"""CREATE TRIGGER {PIN_TABLE}_update BEFORE UPDATE ON {PIN_TABLE}
        FOR EACH ROW WHEN {PIN_NOT_DRAFT.format(row="OLD")} OR {PIN_NOT_DRAFT.format(row="NEW")}
        BEGIN SELECT RAISE(ABORT, '{MESSAGE_PIN}'); END;""",
    ]


def _sqlite_names() -> list[str]:
    return [f"{VERSION_TABLE}_immutable", f"{CATALOGUE_TABLE}_immutable", f"{PIN_TABLE}_insert", f"{PIN_TABLE}_update"]


def _postgres_version(columns: tuple[str, ...]) -> list[str]:
    changed = " OR ".join(f"NEW.{column} IS DISTINCT FROM OLD.{column}" for column in columns)
    return [
        f"""CREATE OR REPLACE FUNCTION {VERSION_TABLE}_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF OLD.state <> 'draft' AND ({changed} OR NEW.state = 'draft') THEN
                RAISE EXCEPTION '{MESSAGE_VERSION}' USING ERRCODE = 'integrity_constraint_violation';
            END IF;
            RETURN NEW;
        END $$;""",
    ]


def _before(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    """Drop what the column change would break (SQLite: every trigger of 0002)."""
    if schema_editor.connection.vendor == "sqlite":
        for name in _sqlite_names():
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")


def _after(columns: tuple[str, ...]) -> Callable[[StateApps, BaseDatabaseSchemaEditor], None]:
    def create(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        vendor = schema_editor.connection.vendor
        if vendor == "sqlite":
            statements = [
                _sqlite_version(VERSION_TABLE, columns),
                _sqlite_version(CATALOGUE_TABLE, CATALOGUE_VERSION_CONTENT),
                *_sqlite_pins(),
            ]
        elif vendor == "postgresql":
            # The trigger calls the function by name: replacing the function is enough.
            statements = _postgres_version(columns)
        else:  # pragma: no cover - govserve supports SQLite and PostgreSQL only
            msg = f"no immutability triggers for database vendor {vendor!r}"
            raise NotImplementedError(msg)
        for statement in statements:
            schema_editor.execute(statement)

    return create


class Migration(migrations.Migration):
    dependencies = [("catalogue", "0002_immutability_triggers")]

    operations = [
        # Forwards: drop, add the column, create with templates. Backwards: drop, remove, create without.
        migrations.RunPython(_before, _after(BASE_CONTENT), elidable=False),
        migrations.AddField(
            model_name="serviceversion",
            name="templates",
            field=models.JSONField(
                blank=True, default=dict, help_text="The result templates it names: {relative path: text}."
            ),
        ),
        migrations.RunPython(_after(WITH_TEMPLATES), _before, elidable=False),
    ]

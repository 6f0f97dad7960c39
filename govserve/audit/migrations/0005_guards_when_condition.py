"""Re-install the guards: the PostgreSQL update trigger now tests its condition in a WHEN clause."""

from typing import Any

from django.db import migrations


def guards_install(apps: Any, schema_editor: Any) -> None:
    from govserve.audit import guards

    guards.install(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_details_exact_canonical_text")]

    operations = [migrations.RunPython(guards_install, migrations.RunPython.noop, elidable=False)]

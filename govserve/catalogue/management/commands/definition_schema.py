"""``govserve definition_schema``: write (or verify) the JSON Schema of definition files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from govserve.catalogue.definitions.jsonschema import SCHEMA_FILE, render_json_schema


class Command(BaseCommand):
    """Regenerate docs/service-definition.schema.json from the definition models."""

    help = "Write the JSON Schema of service definition files (default: docs/service-definition.schema.json)."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        """Add ``--output`` and ``--check``."""
        parser.add_argument("--output", type=Path, default=SCHEMA_FILE, help="Where to write the schema.")
        parser.add_argument(
            "--check", action="store_true", help="Write nothing; exit 1 when the file is not up to date."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Write the schema, or compare it with the file."""
        output: Path = options["output"]
        text = render_json_schema()
        if options["check"]:
            current = output.read_text(encoding="utf-8") if output.exists() else None
            if current != text:
                raise CommandError(f"{output} is out of date: run `govserve definition_schema`", returncode=1)
            self.stdout.write(f"{output} is up to date")
            return
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        self.stdout.write(f"Wrote {output}")

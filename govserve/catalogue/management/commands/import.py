# ruff: noqa: N999 - the verb is `govserve import`, so the module must be named import
"""``govserve import FILE [--reason TEXT]``: publish the service version in a bundle.

The bundle comes from ``govserve export``. Its catalogues are published where
they differ from this installation's, then the service version, with the same
content hash as in the bundle. Exit status: 0 imported, 1 refused (not a
bundle, edited by hand, invalid, unchanged, retired service...), 2 usage error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from govserve.catalogue.bundle import MAX_BUNDLE_BYTES
from govserve.catalogue.errors import BundleInvalidError
from govserve.catalogue.management.cli import EXIT_USAGE, CatalogueCommand
from govserve.catalogue.services import definition_import


class Command(CatalogueCommand):
    help = "Import a bundle written by govserve export: publish its service version (and catalogues)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", metavar="FILE", help="The bundle file.")
        parser.add_argument("--reason", default=None, help="Why (default: 'Imported from bundle: <its reason>').")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"not a file: {path}", returncode=EXIT_USAGE)
        if path.stat().st_size > MAX_BUNDLE_BYTES:
            raise BundleInvalidError(f"{path.name} is larger than a bundle may be ({MAX_BUNDLE_BYTES:,} bytes).")
        version = definition_import(data=path.read_bytes(), actor=None, reason=options["reason"])
        self.stdout.write(
            f"Imported {version.service_id} as version {version.number} (content {version.content_hash[:12]})"
        )

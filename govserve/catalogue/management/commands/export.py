"""``govserve export SERVICE [--version N] [-o FILE]``: write a published version as a bundle.

The bundle (JSON, see govserve.catalogue.bundle) holds the definition as
written and the catalogues it pinned; ``govserve import`` reads it back.
Without ``-o`` it goes to standard output. Exit status: 0 written, 1 refused
(unknown service or version), 2 usage error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser

from govserve.catalogue.management.cli import CatalogueCommand, version_number
from govserve.catalogue.selectors import definition_export


class Command(CatalogueCommand):
    help = "Export a published service version, with the catalogues it uses, as one bundle file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("service", metavar="SERVICE", help="The service id.")
        parser.add_argument("--version", type=version_number, default=None, help="The version (default: the latest).")
        parser.add_argument("-o", "--output", default=None, metavar="FILE", help="Write here (default: stdout).")

    def handle(self, *args: Any, **options: Any) -> None:
        bundle = definition_export(options["service"], options["version"])
        data = bundle.to_bytes()
        if options["output"] is None:
            self.stdout.ending = ""
            self.stdout.write(data.decode("utf-8"))
            return
        Path(options["output"]).write_bytes(data)
        self.stderr.write(f"Exported {bundle.service} version {bundle.version} to {options['output']}")

"""``govserve diff SERVICE A B [--format text|json]``: what changed between two published versions.

Changes to the service, determinants, pages and fields, registrations
(documents, fees, results), the flow, notifications and catalogues, one per
line (see govserve.catalogue.diff). Exit status: 0 (whether or not anything
changed), 1 refused (unknown service or version), 2 usage error.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandParser

from govserve.catalogue.diff import render_changes
from govserve.catalogue.management.cli import CatalogueCommand, version_number
from govserve.catalogue.selectors import definition_diff


class Command(CatalogueCommand):
    help = "Show the changes between two published versions of a service."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("service", metavar="SERVICE", help="The service id.")
        parser.add_argument("a", metavar="A", type=version_number, help="The older version number.")
        parser.add_argument("b", metavar="B", type=version_number, help="The newer version number.")
        parser.add_argument("--format", choices=["text", "json"], default="text", help="Output format.")

    def handle(self, *args: Any, **options: Any) -> None:
        changes = definition_diff(options["service"], options["a"], options["b"])
        if options["format"] == "json":
            self.stdout.write(json.dumps([change.as_dict() for change in changes], indent=2, ensure_ascii=False))
        else:
            self.stdout.write(render_changes(changes))

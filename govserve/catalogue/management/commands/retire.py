"""``govserve retire SERVICE [--reason TEXT]``: close a service to new applications.

Applications under way continue on the version they pinned. Exit status: 0
retired, 1 refused (unknown or already retired), 2 usage error.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from govserve.catalogue.management.cli import CatalogueCommand
from govserve.catalogue.services import service_retire


class Command(CatalogueCommand):
    help = "Retire a service: no new applications; applications under way continue."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("service", metavar="SERVICE", help="The service id.")
        parser.add_argument("--reason", default="", help="Why the service is retired (recorded).")

    def handle(self, *args: Any, **options: Any) -> None:
        reason = options["reason"] or "Retired with govserve retire"
        service = service_retire(service_id=options["service"], actor=None, reason=reason)
        self.stdout.write(f"Retired {service.id}: closed to new applications")

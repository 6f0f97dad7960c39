"""``govserve govstack load-test-data|link-operator``: the GovStack API's set-up for operators.

``load-test-data [--file PATH]`` loads the GovStack conformance data set
through the normal services (govserve/api/govstack/conformance.py) and
prints what it published and made; running it again makes nothing new.
``link-operator CLIENT --role INSTITUTION/ROLE ...`` gives an API client the
operator account it reads and completes GovStack tasks as
(govserve/api/govstack/operators.py). Both are audited as ``system:cli``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from govserve.api.govstack.conformance import DATA_FILE, conformance_data_load
from govserve.api.govstack.operators import operator_link
from govserve.api.services import api_client_get
from govserve.audit.actors import Actor
from govserve.core.errors import ApplicationError


def _role(text: str) -> tuple[str, str]:
    institution, _slash, role = text.partition("/")
    if not institution or not role:
        msg = f"write a role as INSTITUTION/ROLE, e.g. civil-registry/registrar (not {text!r})"
        raise CommandError(msg)
    return institution, role


class Command(BaseCommand):
    help = "GovStack API set-up: load-test-data [--file PATH] | link-operator CLIENT --role INSTITUTION/ROLE ..."

    def add_arguments(self, parser: CommandParser) -> None:
        verbs = parser.add_subparsers(dest="verb", required=True)
        load = verbs.add_parser("load-test-data", help="Load registration-bb-test-data.json through the services.")
        load.add_argument("--file", default=str(DATA_FILE), help="The data set (default: the bundled one).")
        link = verbs.add_parser("link-operator", help="Give a client the operator account it works on tasks as.")
        link.add_argument("client", help="The API client's name.")
        link.add_argument(
            "--role", action="append", required=True, help="INSTITUTION/ROLE the client works as (repeatable)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        actor = Actor.system("cli")
        try:
            if options["verb"] == "load-test-data":
                report = conformance_data_load(path=Path(options["file"]), actor=actor)
                for line in report.lines:
                    self.stdout.write(line)
                self.stdout.write(
                    f"Loaded: {report.services_published} service version(s) published, "
                    f"{report.applications_made} application(s) submitted"
                    + (", client registered" if report.client_created else "")
                    + " (nothing new: already loaded)" * (report.services_published + report.applications_made == 0)
                )
                return
            client = api_client_get(options["client"])
            user, granted = operator_link(client=client, roles=[_role(text) for text in options["role"]], actor=actor)
        except ApplicationError as error:
            raise CommandError(error.message) from error
        held = ", ".join(granted) if granted else "nothing new (it held every role given)"
        self.stdout.write(f"Client {client.name} works on tasks as {user.username}; granted: {held}")

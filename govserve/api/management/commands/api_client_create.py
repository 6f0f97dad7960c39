"""``govserve api_client_create NAME``: register an API client (partner system, bot); audited as ``system:cli``."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from govserve.api.services import api_client_create
from govserve.audit.actors import Actor
from govserve.core.errors import ApplicationError


class Command(BaseCommand):
    help = "Register an API client: NAME [--description TEXT] [--rate-limit CALLS_A_MINUTE]."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--description", default="")
        parser.add_argument("--rate-limit", type=int, default=600, help="Calls a minute (default 600).")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            client = api_client_create(
                name=options["name"],
                description=options["description"],
                rate_limit_per_minute=options["rate_limit"],
                actor=Actor.system("cli"),
            )
        except ApplicationError as error:
            raise CommandError(error.message) from error
        self.stdout.write(f"Created API client {client.name} ({client.rate_limit_per_minute} calls a minute)")

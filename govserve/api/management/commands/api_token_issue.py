"""``govserve api_token_issue CLIENT --scope S ...``: issue a token and print it once; audited as ``system:cli``."""

from __future__ import annotations

import datetime as dt
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from govserve.api.models import SCOPES
from govserve.api.services import api_client_get, api_token_issue
from govserve.audit.actors import Actor
from govserve.core.errors import ApplicationError


class Command(BaseCommand):
    help = f"Issue a token to CLIENT with --scope (repeat; any of {', '.join(SCOPES)}); printed once."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("client")
        parser.add_argument("--scope", action="append", default=[], dest="scopes")
        parser.add_argument("--days", type=int, default=90, help="Lifetime in days (default 90, at most 366).")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            issued = api_token_issue(
                client=api_client_get(options["client"]),
                scopes=options["scopes"],
                lifetime=dt.timedelta(days=options["days"]),
                actor=Actor.system("cli"),
            )
        except ApplicationError as error:
            raise CommandError(error.message) from error
        self.stdout.write(issued.text)
        self.stdout.write(
            f"Token {issued.token.prefix} for {options['client']}: {' '.join(issued.token.scopes)}, "
            f"expires {issued.token.expires_at:%Y-%m-%d %H:%M} UTC. It is shown once: store it now."
        )

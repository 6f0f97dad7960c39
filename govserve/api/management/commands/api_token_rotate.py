"""``govserve api_token_rotate PREFIX``: replace a token by a new one with its scopes; print the new one once."""

from __future__ import annotations

import datetime as dt
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from govserve.api.services import api_token_rotate
from govserve.audit.actors import Actor
from govserve.core.errors import ApplicationError


class Command(BaseCommand):
    help = "Issue a new token with the scopes of PREFIX's token and revoke that one; the new token is printed once."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("prefix")
        parser.add_argument("--days", type=int, default=90, help="Lifetime of the new token in days (default 90).")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            issued = api_token_rotate(
                prefix=options["prefix"], lifetime=dt.timedelta(days=options["days"]), actor=Actor.system("cli")
            )
        except ApplicationError as error:
            raise CommandError(error.message) from error
        self.stdout.write(issued.text)
        self.stdout.write(
            f"Token {issued.token.prefix} replaces {options['prefix']} (now revoked); "
            f"expires {issued.token.expires_at:%Y-%m-%d %H:%M} UTC. It is shown once: store it now."
        )

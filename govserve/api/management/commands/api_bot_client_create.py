"""``govserve api_bot_client_create NAME --role INSTITUTION:ROLE``: a bot client and its service account.

The bot acts on tasks as the staff account ``bot-NAME`` (no password, never
signs in on the web), which holds the roles given; change them later with
``govserve staff assign-role|remove-role bot-NAME ...``. Issue its token with
``govserve api_token_issue NAME --scope tasks:read --scope tasks:decide``.
Audited as ``system:cli``.
"""

from __future__ import annotations

from argparse import ArgumentParser, ArgumentTypeError
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from govserve.api.services import api_bot_client_create
from govserve.audit.actors import Actor
from govserve.core.errors import ApplicationError


def _role(text: str) -> tuple[str, str]:
    institution, found, role = text.partition(":")
    if not found or not institution or not role:
        msg = f"expected INSTITUTION:ROLE, like city-council:street-lighting-engineer, not {text!r}"
        raise ArgumentTypeError(msg)
    return institution, role


class Command(BaseCommand):
    help = "Register a bot client NAME acting as a new service account bot-NAME holding --role INSTITUTION:ROLE."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--role", type=_role, action="append", default=[], dest="roles", help="Repeat.")
        parser.add_argument("--description", default="")
        parser.add_argument("--rate-limit", type=int, default=600, help="Calls a minute (default 600).")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            client = api_bot_client_create(
                name=options["name"],
                roles=options["roles"],
                description=options["description"],
                rate_limit_per_minute=options["rate_limit"],
                actor=Actor.system("cli"),
            )
        except ApplicationError as error:
            raise CommandError(error.message) from error
        assert client.user is not None  # noqa: S101 - a bot client has its account
        roles = ", ".join(f"{code}:{role}" for code, role in options["roles"])
        self.stdout.write(
            f"Created bot client {client.name}, acting as the service account {client.user.username} ({roles}). "
            f"Issue its token: govserve api_token_issue {client.name} --scope tasks:read --scope tasks:decide"
        )

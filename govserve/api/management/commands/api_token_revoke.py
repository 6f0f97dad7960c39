"""``govserve api_token_revoke PREFIX``: revoke a token at once (idempotent); audited as ``system:cli``."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from govserve.api.services import api_token_revoke
from govserve.audit.actors import Actor
from govserve.core.errors import ApplicationError


class Command(BaseCommand):
    help = "Revoke the token with PREFIX (the part after gs_, shown by api_client_list)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("prefix")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            token = api_token_revoke(prefix=options["prefix"], actor=Actor.system("cli"))
        except ApplicationError as error:
            raise CommandError(error.message) from error
        self.stdout.write(f"Revoked token {token.prefix}")

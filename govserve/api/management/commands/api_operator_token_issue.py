"""``govserve api_operator_token_issue --user EMAIL``: a token acting as an MFA-enrolled staff member, printed once.

The token carries that staff member's permissions (institution and roles,
read at every call) and only the task scopes; it is refused for an account
without a confirmed authenticator app. Audited as ``system:cli``.
"""

from __future__ import annotations

import datetime as dt
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from govserve.api.models import TASK_SCOPES
from govserve.api.services import api_operator_token_issue, operator_find
from govserve.audit.actors import Actor
from govserve.core.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Issue an operator token to the staff member --user EMAIL (or username), acting as them; "
        f"--scope (repeat; any of {', '.join(TASK_SCOPES)}; all by default). Printed once."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--user", required=True, help="The staff member's email address (or username).")
        parser.add_argument("--scope", action="append", default=[], dest="scopes")
        parser.add_argument("--days", type=int, default=90, help="Lifetime in days (default 90, at most 366).")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user = operator_find(options["user"])
            issued = api_operator_token_issue(
                user=user,
                scopes=options["scopes"] or TASK_SCOPES,
                lifetime=dt.timedelta(days=options["days"]),
                actor=Actor.system("cli"),
            )
        except ApplicationError as error:
            raise CommandError(error.message) from error
        self.stdout.write(issued.text)
        self.stdout.write(
            f"Operator token {issued.token.prefix} of {user.username} (client {issued.token.client.name}): "
            f"{' '.join(issued.token.scopes)}, expires {issued.token.expires_at:%Y-%m-%d %H:%M} UTC. "
            "It acts with their roles, while their account is active and enrolled in MFA. "
            "It is shown once: store it now."
        )

"""``govserve api_client_list``: every API client with its tokens' prefixes, state, scopes and expiry."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from govserve.api.selectors import api_clients_list


class Command(BaseCommand):
    help = "List API clients and their tokens (prefixes only: a token is never shown again)."

    def handle(self, *args: Any, **options: Any) -> None:
        for summary in api_clients_list():
            client = summary.client
            state = "" if client.is_active else " (switched off)"
            acting = f", acts as {client.user.username}" if client.user is not None else ""
            self.stdout.write(
                f"{client.name}{state}: {client.kind}{acting}, {client.rate_limit_per_minute} calls a minute"
            )
            for token in summary.tokens:
                status = "revoked" if token.revoked_at is not None else ("active" if token.is_usable() else "expired")
                used = f"last used {token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never used"
                self.stdout.write(
                    f"  {token.prefix}  {status}  {' '.join(token.scopes)}  expires {token.expires_at:%Y-%m-%d}  {used}"
                )

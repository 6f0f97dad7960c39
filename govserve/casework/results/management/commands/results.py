"""``govserve results keys [--format pem|jwk]`` and ``govserve results keys generate ID``.

``keys`` prints the public keys that verify result codes, so anyone can
check a code offline (docs/results.md, scripts/result_verify.py);
``generate`` prints a new private key entry for GOVSERVE_RESULT_SIGNING_KEYS.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from govserve.casework.results.signing import generate_key_entry, key_ring


class Command(BaseCommand):
    help = "Result verification keys: print the public keys (PEM or JWK set), or generate a signing key."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{keys}")
        keys = actions.add_parser("keys", help="Print the public keys that verify result codes.")
        keys.add_argument("--format", choices=["jwk", "pem"], default="jwk", help="A JWK set (default) or PEM blocks.")
        key_actions = keys.add_subparsers(dest="key_action", metavar="{generate}")
        generate = key_actions.add_parser(
            "generate", help="Print a new 'ID:base64' entry for GOVSERVE_RESULT_SIGNING_KEYS (put it first)."
        )
        generate.add_argument("key_id", metavar="ID")

    def handle(self, *args: Any, **options: Any) -> None:
        if options.get("key_action") == "generate":
            try:
                self.stdout.write(generate_key_entry(options["key_id"]))
            except ValueError as error:
                raise CommandError(str(error)) from None
            return
        try:
            ring = key_ring()
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from None
        if options["format"] == "pem":
            for key in ring.by_id.values():
                role = "signing" if key.id == ring.active.id else "verifying only"
                self.stdout.write(f"# key id: {key.id} ({role})")
                self.stdout.write(key.public_pem().rstrip("\n"))
            return
        keys = [key.public_jwk() for key in ring.by_id.values()]
        self.stdout.write(json.dumps({"keys": keys, "active": ring.active.id}, indent=2))

"""``govserve keys status|rotate|retire|generate``: key-encryption key operations.

See docs/operations.md, "Encryption keys: configuration, rotation, retirement".
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from govserve.audit.actors import Actor
from govserve.privacy.errors import PrivacyError
from govserve.privacy.keys import generate_key_entry, key_ring
from govserve.privacy.selectors import data_key_counts
from govserve.privacy.services import (
    DEFAULT_BATCH_SIZE,
    RotationProgress,
    data_keys_rotate,
    key_encryption_key_retire,
)

EXIT_INTERRUPTED = 130


def _batches(count: int) -> str:
    return f"{count} batch" if count == 1 else f"{count} batches"


class Command(BaseCommand):
    help = "Key-encryption keys: status, rotate (re-wrap data keys to the current key), retire, generate."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{status,rotate,retire,generate}")
        status = actions.add_parser("status", help="Count data keys per key-encryption key.")
        status.add_argument("--json", action="store_true", help="Print the counts as one JSON object.")
        rotate = actions.add_parser(
            "rotate", help="Re-wrap every data key not under the current (first) key of GOVSERVE_KEYS; resumable."
        )
        rotate.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help="Data keys per transaction.")
        rotate.add_argument("--max-batches", type=int, default=None, help="Stop after this many batches.")
        retire = actions.add_parser("retire", help="Retire a key-encryption key that no data key uses any more.")
        retire.add_argument("kek_id", metavar="ID")
        generate = actions.add_parser("generate", help="Print a new 'ID:base64' entry for GOVSERVE_KEYS.")
        generate.add_argument("kek_id", metavar="ID")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            if action == "status":
                self._status(as_json=options["json"])
            elif action == "rotate":
                self._rotate(batch_size=options["batch_size"], max_batches=options["max_batches"])
            elif action == "retire":
                key_encryption_key_retire(kek_id=options["kek_id"], actor=Actor.system("cli"))
                self.stdout.write(
                    f"Retired key-encryption key {options['kek_id']!r}: no data key uses it. "
                    "Remove it from GOVSERVE_KEYS on every process, then from the key store."
                )
            else:
                try:
                    self.stdout.write(generate_key_entry(options["kek_id"]))
                except ValueError as error:
                    raise CommandError(str(error)) from None
        except PrivacyError as error:
            raise CommandError(error.message) from None

    def _status(self, *, as_json: bool) -> None:
        ring = key_ring()
        counts = data_key_counts()
        unconfigured = {k: n for k, n in counts.live_by_kek.items() if k not in ring.by_id}
        not_current = sum(n for k, n in counts.live_by_kek.items() if k != ring.current.id)
        if as_json:
            report = {
                "current": ring.current.id,
                "configured": {kek_id: counts.live_by_kek.get(kek_id, 0) for kek_id in ring.ids},
                "unconfigured_in_use": unconfigured,
                "destroyed": counts.destroyed,
                "not_under_current": not_current,
            }
            self.stdout.write(json.dumps(report, sort_keys=True))
        else:
            self.stdout.write("Key-encryption keys (GOVSERVE_KEYS, current first):")
            for kek_id in ring.ids:
                count = counts.live_by_kek.get(kek_id, 0)
                role = "current" if kek_id == ring.current.id else "readable"
                note = "  (unused)" if role == "readable" and count == 0 else ""
                self.stdout.write(f"  {kek_id:<32} {role:<9} {count:>10} data keys{note}")
            for kek_id, count in sorted(unconfigured.items()):
                self.stdout.write(f"  {kek_id:<32} {'MISSING':<9} {count:>10} data keys  (unreadable: configure it)")
            self.stdout.write(f"Destroyed data keys (crypto-shredded): {counts.destroyed}")
            if not_current:
                self.stdout.write(f"{not_current} data keys are not under the current key: run `govserve keys rotate`.")
            else:
                self.stdout.write(f"Every live data key is under the current key {ring.current.id!r}.")
        if unconfigured:
            missing = ", ".join(sorted(unconfigured))
            msg = f"data keys are wrapped by key-encryption keys missing from GOVSERVE_KEYS: {missing}"
            raise CommandError(msg)

    def _rotate(self, *, batch_size: int, max_batches: int | None) -> None:
        if max_batches is not None and max_batches < 1:
            msg = "--max-batches must be at least 1"
            raise CommandError(msg)
        ring = key_ring()
        counts = data_key_counts()
        pending = {k: n for k, n in counts.live_by_kek.items() if k != ring.current.id}
        described = ", ".join(f"{k}: {n}" for k, n in sorted(pending.items())) or "none"
        self.stdout.write(
            f"Rotating to key-encryption key {ring.current.id!r}: {sum(pending.values())} data keys to re-wrap "
            f"({described})."
        )

        def report(progress: RotationProgress) -> None:
            self.stdout.write(
                f"batch {progress.batch}: {progress.rewrapped_in_batch} re-wrapped from {progress.from_kek_id!r} "
                f"({progress.rewrapped_total} done, about {progress.remaining} left)"
            )

        try:
            result = data_keys_rotate(
                actor=Actor.system("cli"), batch_size=batch_size, max_batches=max_batches, on_batch=report
            )
        except ValueError as error:
            raise CommandError(str(error)) from None
        except KeyboardInterrupt:
            msg = "interrupted: every finished batch is committed; run `govserve keys rotate` again to continue"
            raise CommandError(msg, returncode=EXIT_INTERRUPTED) from None
        if result.complete:
            self.stdout.write(
                f"Done: {result.rewrapped} data keys re-wrapped in {_batches(result.batches)}; "
                f"every live data key is under {result.to_kek_id!r}."
            )
        else:
            self.stdout.write(
                f"Stopped after {_batches(result.batches)} ({result.rewrapped} re-wrapped): "
                f"{result.remaining} data keys are still under other keys; "
                "run `govserve keys rotate` again to continue."
            )

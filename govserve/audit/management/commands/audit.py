"""``govserve audit verify|seal|head|export-head|export``: the audit chain for operators.

``verify`` exits 0 when the chain is intact and 1 when it found problems
(each reported by entry id); ``head`` prints the chain head as JSON for
external anchoring; ``export-head`` writes it to a file; ``export`` writes the
sealed entries as JSON lines for ``docs/audit_verify_standalone.py``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS

from govserve.audit import selectors, services
from govserve.audit.actors import Actor
from govserve.audit.errors import AnchorError
from govserve.audit.sealer import seal_pending
from govserve.audit.verify import DEFAULT_MAX_UNSEALED_AGE, VerifyReport, verify_chain

_DURATION = re.compile(r"^(\d+)([smhd]?)$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_HASH = re.compile(r"^[0-9a-f]{64}$")
_TEXT_PROBLEM_LINES = 200


def parse_duration(text: str) -> dt.timedelta:
    """Return a duration written as seconds or with a unit: ``300``, ``300s``, ``5m``, ``2h``, ``1d``."""
    match = _DURATION.match(text.strip())
    if match is None:
        msg = f"not a duration: {text!r} (write e.g. 300, 300s, 5m, 2h)"
        raise CommandError(msg)
    return dt.timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


def anchors_load(paths: list[str]) -> dict[int, str]:
    """Read anchor files (``govserve audit export-head`` output: one JSON object, or JSON lines of them)."""
    anchors: dict[int, str] = {}
    for path in paths:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as error:
            msg = f"cannot read anchor file {path}: {error.strerror}"
            raise AnchorError(msg) from error
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                anchor = json.loads(line)
                anchor_id, anchor_hash = anchor["id"], anchor["hash"]
            except (ValueError, KeyError, TypeError) as error:
                msg = f"{path}:{number}: not an exported chain head (a JSON object with id and hash)"
                raise AnchorError(msg) from error
            if anchor_id == 0 and anchor_hash == "0" * 64:
                continue  # the head of an empty chain anchors nothing
            if not isinstance(anchor_id, int) or isinstance(anchor_id, bool) or anchor_id < 1:
                msg = f"{path}:{number}: id must be a positive integer"
                raise AnchorError(msg)
            if not isinstance(anchor_hash, str) or not _HASH.match(anchor_hash):
                msg = f"{path}:{number}: hash must be 64 lowercase hexadecimal characters"
                raise AnchorError(msg)
            anchors[anchor_id] = anchor_hash
    return anchors


def _write_atomically(path: str, text: str) -> None:
    target = Path(path)
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=target.parent or ".", delete=False) as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    Path(handle.name).replace(target)


class Command(BaseCommand):
    help = "The audit chain: verify it, seal pending entries, show or export its head, export entries."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="verb", required=True, parser_class=type(parser))
        verify = commands.add_parser(
            "verify", help="Verify the whole chain; exit 0 when intact, 1 when problems were found."
        )
        verify.add_argument(
            "--max-unsealed-age",
            default=None,
            help=f"Report entries still unsealed after this long (default {DEFAULT_MAX_UNSEALED_AGE}; 300, 5m, 1h).",
        )
        verify.add_argument(
            "--anchor",
            action="append",
            default=[],
            metavar="FILE",
            help="A chain head exported earlier (export-head output, or JSON lines of them); repeatable.",
        )
        verify.add_argument(
            "--workers",
            type=int,
            default=None,
            help="Processes verifying id ranges at once (default: CPUs up to 4 for large chains; 1: this process).",
        )
        verify.add_argument("--json", action="store_true", help="Print the report as JSON.")
        verify.add_argument(
            "--no-record", action="store_true", help="Do not write the audit.chain.verified entry (read-only run)."
        )
        seal = commands.add_parser("seal", help="Seal pending entries now (the worker does this every 5 seconds).")
        seal.add_argument("--json", action="store_true", help="Print the outcome as JSON.")
        head = commands.add_parser("head", help="Print the chain head (id, hash, sealed_at) as JSON.")
        export_head = commands.add_parser(
            "export-head", help="Write the chain head as JSON to a file (or stdout) for external anchoring; audited."
        )
        export_head.add_argument("--output", "-o", default="-", help="File to write (default: stdout).")
        export_head.add_argument(
            "--append", action="store_true", help="Append one JSON line to the file (an anchor log) instead."
        )
        export = commands.add_parser(
            "export", help="Write the sealed entries as JSON lines (input of docs/audit_verify_standalone.py); audited."
        )
        export.add_argument("--output", "-o", default="-", help="File to write (default: stdout).")
        export.add_argument("--from-id", type=int, default=1, help="First entry id (default 1).")
        for sub in (verify, seal, head, export_head, export):
            sub.add_argument("--database", default=DEFAULT_DB_ALIAS, help="Database alias (default: default).")

    def handle(self, *args: Any, **options: Any) -> None:
        verb = options["verb"]
        handler = {
            "verify": self._verify,
            "seal": self._seal,
            "head": self._head,
            "export-head": self._export_head,
            "export": self._export,
        }[verb]
        handler(options)

    def _verify(self, options: dict[str, Any]) -> None:
        max_age = (
            parse_duration(options["max_unsealed_age"]) if options["max_unsealed_age"] else DEFAULT_MAX_UNSEALED_AGE
        )
        try:
            anchors = anchors_load(options["anchor"])
        except AnchorError as error:
            raise CommandError(error.message) from error
        if options["workers"] is not None and options["workers"] < 1:
            raise CommandError("--workers must be at least 1")
        if options["no_record"]:
            report = verify_chain(
                using=options["database"], max_unsealed_age=max_age, anchors=anchors, workers=options["workers"]
            )
        else:
            report = services.chain_verify(
                actor=Actor.system("cli"),
                using=options["database"],
                max_unsealed_age=max_age,
                anchors=anchors,
                workers=options["workers"],
            )
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), sort_keys=True))
        else:
            self._print_report(report)
        if not report.intact:
            raise CommandError(f"the audit chain is NOT intact: {report.problem_count} problem(s)", returncode=1)

    def _print_report(self, report: VerifyReport) -> None:
        for warning in report.warnings:
            self.stderr.write(f"warning: {warning}")
        for problem in report.problems[:_TEXT_PROBLEM_LINES]:
            self.stdout.write(f"{problem.kind}: {problem.message}")
        if report.problem_count > _TEXT_PROBLEM_LINES:
            self.stdout.write(f"... and {report.problem_count - _TEXT_PROBLEM_LINES} more (use --json for all)")
        verdict = "intact" if report.intact else f"NOT intact ({report.problem_count} problem(s))"
        self.stdout.write(
            f"audit chain {verdict}: {report.checked} sealed entries checked up to #{report.head.id}"
            f" (head {report.head.hash}), {report.unsealed} awaiting their seal,"
            f" {report.seconds:.2f} s with {report.workers} process(es)"
        )

    def _seal(self, options: dict[str, Any]) -> None:
        report = seal_pending(using=options["database"])
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "sealed": report.sealed,
                        "holes": list(report.holes),
                        "last_sealed_id": report.last_sealed_id,
                        "last_hash": report.last_hash,
                        "waiting_for_id": report.waiting_for_id,
                        "busy": report.busy,
                    },
                    sort_keys=True,
                )
            )
            return
        if report.busy:
            self.stdout.write("another sealer is running; nothing done")
            return
        self.stdout.write(
            f"sealed {report.sealed} entries ({len(report.holes)} ids recorded as never committed);"
            f" chain head #{report.last_sealed_id} {report.last_hash}"
        )
        if report.waiting_for_id is not None:
            self.stdout.write(f"waiting for entry {report.waiting_for_id} (not committed yet, or in its grace period)")

    def _head(self, options: dict[str, Any]) -> None:
        head = selectors.chain_head_get(using=options["database"])
        self.stdout.write(json.dumps(head.as_dict(), sort_keys=True))

    def _export_head(self, options: dict[str, Any]) -> None:
        head = services.chain_head_export(actor=Actor.system("cli"), using=options["database"])
        line = json.dumps(head.as_dict(), sort_keys=True)
        if options["output"] == "-":
            self.stdout.write(line)
        elif options["append"]:
            with Path(options["output"]).open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")
        else:
            _write_atomically(options["output"], line + "\n")

    def _export(self, options: dict[str, Any]) -> None:
        if options["from_id"] < 1:
            raise CommandError("--from-id must be at least 1")
        actor = Actor.system("cli")
        if options["output"] == "-":
            count = services.chain_entries_export(
                actor=actor, output=self.stdout, from_id=options["from_id"], using=options["database"]
            )
        else:
            with Path(options["output"]).open("w", encoding="utf-8") as handle:
                count = services.chain_entries_export(
                    actor=actor, output=handle, from_id=options["from_id"], using=options["database"]
                )
        self.stderr.write(f"exported {count} sealed entries")

"""The retention, erasure and legal-hold subcommands of ``govserve privacy`` (see docs/privacy.md)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from govserve.audit.actors import Actor
from govserve.core.errors import ApplicationError
from govserve.privacy import erasure
from govserve.privacy.retention import RetentionReport, retention_dry_run, retention_run

CLI = Actor.system("cli")
ACTIONS = ("retention", "erase", "hold", "release")


def add_subcommands(actions: Any) -> None:
    """Add this module's subcommands to the ``govserve privacy`` subparsers ``actions``."""
    retention = actions.add_parser("retention", help="Remove the personal data of files past their retention.")
    retention.add_argument("--dry-run", action="store_true", help="List what would go, per service; change nothing.")
    retention.add_argument("--json", action="store_true", help="Print the report as one JSON object.")
    erase = actions.add_parser("erase", help="Erase one person's data: a file by reference, or a citizen account.")
    who = erase.add_mutually_exclusive_group(required=True)
    who.add_argument("--reference", help="The application's reference.")
    who.add_argument("--account", help="The citizen account's id (every file of it, then the account).")
    hold = actions.add_parser("hold", help="Put a file under a legal hold (retention and erasure skip it).")
    hold.add_argument("reference")
    hold.add_argument("--reason", required=True, choices=erasure.HOLD_REASONS)
    release = actions.add_parser("release", help="Release the legal hold on a file.")
    release.add_argument("reference")


def _report_text(report: RetentionReport) -> list[str]:
    verb = "would go" if report.dry_run else "went"
    lines = [f"Retention {'dry run' if report.dry_run else 'run'} at {report.now.isoformat()}:"]
    if not report.services:
        lines.append("  no closed files.")
    for service_id in sorted(report.services):
        figures = report.services[service_id]
        oldest = figures.oldest_closed_at.date().isoformat() if figures.oldest_closed_at else "-"
        lines.append(
            f"  {service_id} (retention {', '.join(sorted(figures.retention))}): {figures.files} files {verb} "
            f"({figures.anonymised} anonymised, {figures.deleted} deleted), oldest closed on {oldest}; "
            f"{figures.answers} answers, {figures.documents} documents, {figures.messages} messages, "
            f"{figures.notifications} notifications, {figures.payments} payments, {figures.results} results; "
            f"{figures.held} held"
        )
    lines.append(f"Total: {report.files} files {verb}.")
    if not report.dry_run:
        lines.append(f"Notification records of expired drafts emptied: {report.expired_drafts_notifications}.")
    return lines


def _retention(command: BaseCommand, options: dict[str, Any]) -> None:
    report = retention_dry_run() if options["dry_run"] else retention_run(actor=CLI)
    if options["json"]:
        body = {
            "dry_run": report.dry_run,
            "now": report.now.isoformat(),
            "files": report.files,
            "expired_drafts_notifications": report.expired_drafts_notifications,
            "services": [report.services[key].as_dict() for key in sorted(report.services)],
        }
        command.stdout.write(json.dumps(body, sort_keys=True))
        return
    for line in _report_text(report):
        command.stdout.write(line)


def _erase(command: BaseCommand, options: dict[str, Any]) -> None:
    if options["reference"]:
        result = erasure.erase_by_reference(reference=options["reference"], actor=CLI)
    else:
        result = erasure.erase_by_account(citizen_id=options["account"], actor=CLI)
    command.stdout.write(
        f"Erased {len(result.erased)} files ({', '.join(result.erased) or 'none'}); "
        f"already erased: {', '.join(result.already_done) or 'none'}"
        + ("; the account was removed." if result.account_removed else ".")
    )


def handle(command: BaseCommand, options: dict[str, Any]) -> None:
    """Run the subcommand in ``options["action"]``; a refusal or bad input exits 1 with its message."""
    action = options["action"]
    try:
        if action == "retention":
            _retention(command, options)
        elif action == "erase":
            _erase(command, options)
        elif action == "hold":
            hold = erasure.legal_hold_place(reference=options["reference"], reason_code=options["reason"], actor=CLI)
            command.stdout.write(f"Placed legal hold {hold.pk} ({hold.reason_code}) on {options['reference']}.")
        elif action == "release":
            erasure.legal_hold_release(reference=options["reference"], actor=CLI)
            command.stdout.write(f"Released the legal hold on {options['reference']}.")
    except erasure.ErasureRefusedError as error:
        lines = "\n".join(f"  {reference}: {code}: {message}" for reference, code, message in error.refusals)
        raise CommandError(f"Nothing was erased:\n{lines}", returncode=1) from None
    except ApplicationError as error:
        raise CommandError(error.message, returncode=1) from None

"""``govserve staff``: invite, grant and remove roles, deactivate, end sessions, reset MFA or password, unlock, list.

Every change goes through :mod:`govserve.accounts.services` and is audited
with the actor ``system:cli`` (whoever runs the command has shell access to
the platform, which is the trust boundary here).
"""

from __future__ import annotations

import datetime
import json
from argparse import ArgumentParser, ArgumentTypeError
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from govserve.accounts import selectors, services
from govserve.accounts.models import StaffPasswordLinkPurpose
from govserve.audit.actors import Actor
from govserve.core.errors import ApplicationError

CLI = Actor.system("cli")


def _pair(separator: str, what: str, example: str) -> Any:
    def parse(text: str) -> tuple[str, str]:
        left, found, right = text.partition(separator)
        if not found or not left or not right:
            msg = f"expected {what}, like {example}, not {text!r}"
            raise ArgumentTypeError(msg)
        return left, right

    return parse


def _date(text: str) -> datetime.datetime:
    try:
        day = datetime.date.fromisoformat(text)
    except ValueError:
        msg = f"expected a date like 2026-12-31, not {text!r}"
        raise ArgumentTypeError(msg) from None
    # Access ends at the end of that day, UK time.
    end = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min)
    return timezone.make_aware(end, timezone.get_default_timezone())


class Command(BaseCommand):
    help = (
        "Manage staff accounts: invite, assign-role, remove-role, deactivate, reset-mfa, reset-password, unlock, list."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        commands = parser.add_subparsers(dest="action", required=True)

        invite = commands.add_parser("invite", help="Create a staff account and print its one-time set-password link.")
        invite.add_argument("username")
        invite.add_argument("--email", default="")
        invite.add_argument("--first-name", default="")
        invite.add_argument("--last-name", default="")
        invite.add_argument(
            "--unit",
            type=_pair("/", "INSTITUTION/UNIT", "city-council/licensing"),
            default=None,
            help="institution/unit codes",
        )
        invite.add_argument(
            "--role",
            type=_pair(":", "INSTITUTION:ROLE", "city-council:licensing_officer"),
            action="append",
            default=[],
            help="institution:role (repeat)",
        )
        invite.add_argument("--supplier", action="store_true", help="Supplier staff: needs --expires.")
        invite.add_argument("--expires", type=_date, default=None, help="Last day of supplier access (YYYY-MM-DD).")
        invite.add_argument("--send-email", action="store_true", help="Also email the link to --email.")
        invite.add_argument("--company", default="", help="Supplier staff: the supplier's company name.")
        invite.add_argument(
            "--scope-institution",
            action="append",
            default=[],
            help="Supplier staff: an institution it may reach (repeat; default: those of its --role).",
        )
        invite.add_argument(
            "--scope-service", action="append", default=[], help="Supplier staff: the only services it may reach."
        )

        for name, text in (("assign-role", "Grant a role in an institution."), ("remove-role", "Take a role away.")):
            sub = commands.add_parser(name, help=text)
            sub.add_argument("username")
            sub.add_argument("institution")
            sub.add_argument("role")

        for name, text in (
            ("deactivate", "Deactivate an account (open sessions end at their next request)."),
            ("unlock", "Clear a sign-in lockout after repeated failures."),
            ("end-sessions", "End every open session of a staff member now (they must sign in again)."),
        ):
            commands.add_parser(name, help=text).add_argument("username")

        reset_mfa = commands.add_parser(
            "reset-mfa", help="Remove the authenticator app and print (optionally email) a one-time set-up link."
        )
        reset_mfa.add_argument("username")
        reset_mfa.add_argument("--send-email", action="store_true")

        reset = commands.add_parser("reset-password", help="Print (and optionally email) a set-password link.")
        reset.add_argument("username")
        reset.add_argument("--send-email", action="store_true")

        listing = commands.add_parser("list", help="List staff accounts with their roles.")
        listing.add_argument("--institution", default=None)

        suppliers = commands.add_parser(
            "suppliers", help="The supplier staff report of an institution (for its service owner); audited."
        )
        suppliers.add_argument("--institution", required=True)
        suppliers.add_argument("--json", action="store_true", help="One JSON object per line instead of a table.")

        scope = commands.add_parser(
            "supplier-scope", help="Set the institutions and services a supplier account may reach (replaces them)."
        )
        scope.add_argument("username")
        scope.add_argument(
            "--institution", action="append", default=[], required=True, help="institution code (repeat)"
        )
        scope.add_argument("--service", action="append", default=[], help="service id (repeat; none: every service)")
        scope.add_argument("--company", default=None, help="The supplier's company name.")
        scope.add_argument("--expires", type=_date, default=None, help="A new last day of access (YYYY-MM-DD).")

    def handle(self, *args: Any, **options: Any) -> None:
        action: str = options["action"]
        try:
            getattr(self, f"_{action.replace('-', '_')}")(options)
        except ApplicationError as error:
            raise CommandError(f"{error.message} [{error.code}]") from error

    def _invite(self, options: dict[str, Any]) -> None:
        issued = services.staff_invite(
            actor=CLI,
            username=options["username"],
            email=options["email"],
            first_name=options["first_name"],
            last_name=options["last_name"],
            unit=options["unit"],
            roles=options["role"],
            is_supplier=options["supplier"],
            access_expires_at=options["expires"],
            send_email=options["send_email"],
            supplier_company=options["company"],
            supplier_institutions=options["scope_institution"],
            supplier_services=options["scope_service"],
        )
        self.stdout.write(f"invited {issued.user.username} ({issued.user.pk})")
        self._print_link(issued, emailed=options["send_email"])

    def _print_link(self, issued: services.PasswordLinkIssued, *, emailed: bool) -> None:
        expires = timezone.localtime(issued.expires_at)
        kind = "authenticator set-up" if issued.purpose == StaffPasswordLinkPurpose.MFA_ENROLMENT else "set-password"
        self.stdout.write(f"{kind} link (works once, until {expires:%Y-%m-%d %H:%M %Z}):")
        self.stdout.write(f"  {issued.url}")
        if emailed:
            self.stdout.write(f"emailed to {issued.user.email}")

    def _assign_role(self, options: dict[str, Any]) -> None:
        user = services.staff_user_get(options["username"])
        services.role_assign(actor=CLI, user=user, institution_code=options["institution"], role=options["role"])
        self.stdout.write(f"{user.username} now holds {options['role']} in {options['institution']}")

    def _remove_role(self, options: dict[str, Any]) -> None:
        user = services.staff_user_get(options["username"])
        services.role_remove(actor=CLI, user=user, institution_code=options["institution"], role=options["role"])
        self.stdout.write(f"{user.username} no longer holds {options['role']} in {options['institution']}")

    def _deactivate(self, options: dict[str, Any]) -> None:
        user = services.staff_user_get(options["username"])
        changed = services.staff_deactivate(actor=CLI, user=user)
        self.stdout.write(f"{user.username} deactivated" if changed else f"{user.username} was already inactive")

    def _end_sessions(self, options: dict[str, Any]) -> None:
        user = services.staff_user_get(options["username"])
        ended = services.staff_sessions_end(actor=CLI, user=user)
        self.stdout.write(f"ended {ended} session(s) of {user.username}")

    def _reset_mfa(self, options: dict[str, Any]) -> None:
        user = services.staff_user_get(options["username"])
        reset = services.staff_mfa_reset(actor=CLI, user=user, send_email=options["send_email"])
        self.stdout.write(
            f"removed {reset.devices_removed} authenticator device(s) of {user.username}: "
            "they set up a new app from this link only (a password sign-in cannot)"
        )
        self._print_link(reset.link, emailed=options["send_email"])

    def _reset_password(self, options: dict[str, Any]) -> None:
        user = services.staff_user_get(options["username"])
        issued = services.staff_password_link_issue(actor=CLI, user=user, send_email=options["send_email"])
        self._print_link(issued, emailed=options["send_email"])

    def _unlock(self, options: dict[str, Any]) -> None:
        cleared = services.staff_unlock(actor=CLI, username=options["username"])
        self.stdout.write(f"cleared {cleared} lockout record(s) for {options['username']}")

    def _list(self, options: dict[str, Any]) -> None:
        if options["institution"] is not None:
            services.institution_get(options["institution"])
        users = list(selectors.staff_list(viewer=None, institution_code=options["institution"]))
        if not users:
            self.stdout.write("no staff")
            return
        self.stdout.write(f"{'username':<32} {'status':<16} {'unit':<28} roles")
        for user in users:
            status = "active" if user.is_active else "inactive"
            if user.is_supplier:
                expires = f"{user.access_expires_at:%Y-%m-%d}" if user.access_expires_at else "no end date"
                status = f"{status}, supplier until {expires}"
            unit = str(user.unit) if user.unit is not None else "-"
            roles = ", ".join(
                f"{assignment.institution.code}:{assignment.role}" for assignment in user.role_assignments.all()
            )
            self.stdout.write(f"{user.username:<32} {status:<16} {unit:<28} {roles or '-'}")

    def _suppliers(self, options: dict[str, Any]) -> None:
        services.institution_get(options["institution"])
        rows = selectors.supplier_report(viewer=None, institution_code=options["institution"], actor=CLI)
        if options["json"]:
            for row in rows:
                self.stdout.write(json.dumps(_row_json(row), sort_keys=True))
            return
        if not rows:
            self.stdout.write(f"no supplier staff in {options['institution']}")
            return
        self.stdout.write(
            f"{'username':<24} {'company':<20} {'status':<11} {'expires':<11} {'roles':<28} {'services':<28} audit(30d)"
        )
        for row in rows:
            expires = f"{row.access_expires_at:%Y-%m-%d}" if row.access_expires_at else "-"
            self.stdout.write(
                f"{row.username:<24} {row.company or '-':<20} {row.status:<11} {expires:<11} "
                f"{', '.join(row.roles) or '-':<28} {', '.join(row.services) or 'all':<28} {row.audit_entries_30_days}"
            )

    def _supplier_scope(self, options: dict[str, Any]) -> None:
        user = services.staff_user_get(options["username"])
        scope = services.supplier_scope_set(
            actor=CLI,
            user=user,
            institutions=options["institution"],
            services=options["service"],
            company=options["company"],
            access_expires_at=options["expires"],
        )
        reach = ", ".join(sorted(scope.services)) or "every service"
        institutions = ", ".join(sorted(i.code for i in scope.institutions.all()))
        self.stdout.write(f"{user.username} (supplier) reaches {reach} of {institutions}")


def _row_json(row: selectors.SupplierRow) -> dict[str, Any]:
    return {
        "user_id": str(row.user_id),
        "username": row.username,
        "name": row.name,
        "company": row.company,
        "status": row.status,
        "access_expires_at": row.access_expires_at.isoformat() if row.access_expires_at else None,
        "institutions": list(row.institutions),
        "services": list(row.services),
        "roles": list(row.roles),
        "last_login": row.last_login.isoformat() if row.last_login else None,
        "audit_entries_30_days": row.audit_entries_30_days,
    }

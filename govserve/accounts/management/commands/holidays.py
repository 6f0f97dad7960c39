"""``govserve holidays``: an institution's working-day calendar and its local overrides.

National holidays come from the ``holidays`` package (the institution's
country and subdivision); ``set`` closes a day (or, with ``--working-day``,
opens one) for that institution only. Changes are audited as ``system:cli``.
"""

from __future__ import annotations

import datetime
from argparse import ArgumentParser, ArgumentTypeError
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from govserve.accounts import services
from govserve.accounts.working_days import holidays_in_year, working_days_add
from govserve.audit.actors import Actor
from govserve.core import clock
from govserve.core.errors import ApplicationError

CLI = Actor.system("cli")


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        msg = f"expected a date like 2026-12-24, not {text!r}"
        raise ArgumentTypeError(msg) from None


class Command(BaseCommand):
    help = "Working-day calendars: list INSTITUTION [--year], set INSTITUTION DATE NAME, remove, due."

    def add_arguments(self, parser: ArgumentParser) -> None:
        commands = parser.add_subparsers(dest="action", required=True)
        listing = commands.add_parser("list", help="National holidays and local overrides of a year.")
        listing.add_argument("institution")
        listing.add_argument("--year", type=int, default=None)
        setting = commands.add_parser("set", help="Close a day for the institution (or open one with --working-day).")
        setting.add_argument("institution")
        setting.add_argument("date", type=_date)
        setting.add_argument("name")
        setting.add_argument("--working-day", action="store_true")
        removing = commands.add_parser("remove", help="Remove a local override.")
        removing.add_argument("institution")
        removing.add_argument("date", type=_date)
        due = commands.add_parser("due", help="The date DAYS working days after START.")
        due.add_argument("institution")
        due.add_argument("start", type=_date)
        due.add_argument("days", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            institution = services.institution_get(options["institution"])
            action = options["action"]
            if action == "list":
                year = options["year"] or clock.now().year
                for day, name, working, source in holidays_in_year(institution, year):
                    state = "working day" if working else "closed"
                    self.stdout.write(f"{day.isoformat()}  {day:%a}  {state:<11}  {source:<8}  {name}")
            elif action == "set":
                services.institution_holiday_set(
                    actor=CLI,
                    institution_code=institution.code,
                    date=options["date"],
                    name=options["name"],
                    is_working_day=options["working_day"],
                )
                state = "a working day" if options["working_day"] else "closed"
                self.stdout.write(f"{options['date'].isoformat()} is {state} for {institution.code}")
            elif action == "remove":
                removed = services.institution_holiday_remove(
                    actor=CLI, institution_code=institution.code, date=options["date"]
                )
                self.stdout.write("removed" if removed else "there was no local override on that date")
            else:
                self.stdout.write(working_days_add(institution, options["start"], options["days"]).isoformat())
        except ApplicationError as error:
            raise CommandError(f"{error.message} [{error.code}]") from error
        except ValueError as error:
            raise CommandError(str(error)) from error

"""``govserve payments_reconcile --from DATE --to DATE [--format csv|json]``: the reconciliation report.

Lines up every payment created in the period (our ledger, the applications'
fees, the provider's search) and names each disagreement
(:mod:`govserve.payments.reconciliation`). Dates are ISO 8601 (a date alone
is midnight UTC; ``--to`` is exclusive). The report goes to standard output;
the exit status is 0 when everything reconciles and 1 when some rows have
problems (a cron job can alert on it). Audited as ``system:payments``.
"""

from __future__ import annotations

import datetime as dt
from argparse import ArgumentParser, ArgumentTypeError
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from govserve.core.errors import ApplicationError
from govserve.payments.reconciliation import reconciliation_report, report_csv, report_json


def _moment(text: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        msg = f"expected a date like 2026-11-01 or 2026-11-01T09:00:00+00:00, not {text!r}"
        raise ArgumentTypeError(msg) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


class Command(BaseCommand):
    help = "Reconcile payments created in [--from, --to): ledger vs applications' fees vs the provider."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--from", dest="from_date", type=_moment, required=True)
        parser.add_argument("--to", dest="to_date", type=_moment, required=True)
        parser.add_argument("--format", choices=["csv", "json"], default="csv")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = reconciliation_report(from_date=options["from_date"], to_date=options["to_date"])
        except ApplicationError as error:
            raise CommandError(f"{error.code}: {error.message}") from error
        self.stdout.write(report_json(report) if options["format"] == "json" else report_csv(report), ending="")
        if report.problem_rows:
            self.stderr.write(f"{len(report.problem_rows)} of {len(report.rows)} payments do not reconcile")
            raise SystemExit(1)

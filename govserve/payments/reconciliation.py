"""Reconciliation: our ledger against the applications' fees and against what the provider reports.

For a period ``[from_date, to_date)`` of payment creation times,
:func:`reconciliation_report` lines up, one row per payment:

- our :class:`~govserve.payments.models.Payment` (state, amount, settled,
  refunds not in error),
- the fees it settles (:class:`~govserve.journeys.models.ApplicationFee`:
  their total and whether they are all marked paid),
- the provider's own record from its search
  (:meth:`~govserve.payments.providers.base.PaymentProvider.payments_search`,
  every page), matched by the provider's id,

and names each disagreement (:class:`Problem`): a payment the provider does
not have or has in another state or amount, money refunded at the provider
that our ledger does not show, a success whose fees were not settled, fees
whose total is not the amount paid, and a provider payment we have no record
of. A row without problems is reconciled.

Abandoned payments (the applicant never came back) are not left to this
report: the ``payments.unfinished.refresh`` schedule
(:func:`govserve.payments.services.payments_refresh_unfinished`) applies
their final state, and :func:`refunds_refresh_submitted` (the
``payments.refunds.refresh`` schedule) does the same for submitted refunds.

Finance staff (``finance`` role, or administrators) see the payments of
their institutions' services; the management command ``payments_reconcile``
sees every payment. Each report is audited (``payments.reconciliation.reported``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum

import structlog
from django.db.models import F, Min, Sum
from django.utils.translation import gettext as _

from govserve.accounts import policies
from govserve.accounts.models import PlatformRole, User
from govserve.audit.actors import Actor
from govserve.audit.events import register_event
from govserve.audit.services import audit_record
from govserve.casework.models import CaseFile
from govserve.core.errors import PermissionDeniedError, ValidationError
from govserve.core.jobs import scheduled
from govserve.journeys.models import ApplicationFee, FeeStatus
from govserve.payments.models import LedgerKind, Payment, PaymentTransaction, Refund
from govserve.payments.providers.base import PaymentState, ProviderPayment, RefundState
from govserve.payments.providers.registry import payment_provider, provider_named
from govserve.payments.refunds import FINANCE_ROLE, refunds_refresh

logger = structlog.get_logger(__name__)

SYSTEM = Actor.system("payments")
PERIOD_MAX = dt.timedelta(days=92)

register_event(
    "payments.reconciliation.reported",
    description="A reconciliation report was produced (details: period, rows, rows with problems, institutions).",
)


class Problem(StrEnum):
    """A disagreement between our ledger, the fees and the provider."""

    MISSING_AT_PROVIDER = "missing_at_provider"
    UNKNOWN_TO_US = "unknown_to_us"
    STATE_DIFFERS = "state_differs"
    AMOUNT_DIFFERS = "amount_differs"
    REFUNDS_DIFFER = "refunds_differ"
    SUCCESS_NOT_SETTLED = "success_not_settled"
    FEES_NOT_PAID = "fees_not_paid"
    FEES_TOTAL_DIFFERS = "fees_total_differs"


@dataclass(frozen=True)
class ReconciliationRow:
    """One payment as we, its fees and the provider see it; ``problems`` empty when they agree."""

    reference: str
    payment_id: str
    provider: str
    provider_id: str
    created_at: str
    our_state: str
    provider_state: str
    amount_minor: int
    provider_amount_minor: int | None
    refunded_minor: int
    provider_refunded_minor: int | None
    fees_minor: int
    fees_paid: bool
    settled: bool
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReconciliationReport:
    """The rows of a period and their totals (amounts in minor units)."""

    from_date: dt.datetime
    to_date: dt.datetime
    rows: list[ReconciliationRow] = field(default_factory=list)

    @property
    def problem_rows(self) -> list[ReconciliationRow]:
        """Return the rows that do not reconcile."""
        return [row for row in self.rows if row.problems]

    @property
    def settled_minor(self) -> int:
        """Return the money our ledger says was taken (settled payments)."""
        return sum(row.amount_minor for row in self.rows if row.settled)

    @property
    def refunded_minor(self) -> int:
        """Return the money our ledger says was given back (refunds not in error)."""
        return sum(row.refunded_minor for row in self.rows)


def _period_check(from_date: dt.datetime, to_date: dt.datetime) -> None:
    if from_date.tzinfo is None or to_date.tzinfo is None:
        msg = "reconciliation dates must be aware"
        raise ValueError(msg)
    if not from_date < to_date:
        raise ValidationError(_("The start of the period must be before its end"), errors={"from": "order"})
    if to_date - from_date > PERIOD_MAX:
        raise ValidationError(_("Choose a period of at most 92 days"), errors={"to": "too_long"})


def _institutions_of(user: User) -> frozenset[str]:
    if not policies.account_usable(user):
        return frozenset()
    return frozenset(
        code for code, role in policies.roles_of(user) if role in {FINANCE_ROLE, PlatformRole.ADMINISTRATOR}
    )


def reconciliation_allowed(user: User | object) -> bool:
    """Return whether ``user`` may see a reconciliation report (finance staff or administrators)."""
    return isinstance(user, User) and bool(_institutions_of(user))


@dataclass(frozen=True)
class RefundDue:
    """An application whose paid fees now cost less than was paid, and what is still to refund of them."""

    reference: str
    file_id: str | None
    still_due_minor: int
    currency: str


def refunds_due(user: User) -> list[RefundDue]:
    """Return the applications of ``user``'s institutions with money still to refund after they were changed.

    A paid fee whose application was changed (resubmitted or corrected) to
    cost less owes back ``refund_due_minor``; its payment's refunds are
    spread over it (``refunded_minor``, ``refunds._fees_refunded_spread``).
    Listed: what is left, by application, oldest change first, for the
    finance staff (or administrators) of the service's owning institution,
    each with its case file (whose *Fees* has the refund link). Empty for
    anyone else. Not audited: ids and amounts only, no personal data.
    """
    institutions = _institutions_of(user)
    if not institutions:
        return []
    owed = (
        ApplicationFee.objects.filter(
            status=FeeStatus.PAID,
            refund_due_minor__gt=F("refunded_minor"),
            application__service__owning_institution__code__in=institutions,
        )
        .values("application_id", "application__reference", "currency")
        .annotate(still_due=Sum(F("refund_due_minor") - F("refunded_minor")), first=Min("id"))
        .order_by("first")
    )
    rows = list(owed)
    files = dict(
        CaseFile.objects.filter(application_id__in=[row["application_id"] for row in rows]).values_list(
            "application_id", "id"
        )
    )
    return [
        RefundDue(
            reference=row["application__reference"],
            file_id=str(files[row["application_id"]]) if row["application_id"] in files else None,
            still_due_minor=int(row["still_due"]),
            currency=row["currency"],
        )
        for row in rows
    ]


def reconciliation_report(
    *, from_date: dt.datetime, to_date: dt.datetime, user: User | None = None
) -> ReconciliationReport:
    """Return the reconciliation of payments created in ``[from_date, to_date)`` (module docstring).

    ``user`` given: only the payments of services owned by institutions where
    they hold ``finance`` or ``administrator`` (PermissionDeniedError for
    anyone else); None: every payment (the management command). Asks every
    provider that took a payment in the period, and the configured one, for
    its search (the provider's typed errors when it cannot be asked). Raise
    ValidationError for a period that is empty, reversed or over 92 days.
    Audited (``payments.reconciliation.reported``).
    """
    _period_check(from_date, to_date)
    payments = Payment.objects.filter(created_at__gte=from_date, created_at__lt=to_date)
    institutions: frozenset[str] | None = None
    if user is not None:
        institutions = _institutions_of(user)
        if not institutions:
            raise PermissionDeniedError(_("Only finance staff can see the reconciliation of payments"))
        payments = payments.filter(application__service__owning_institution__code__in=institutions)
    ours = list(payments.order_by("created_at", "id"))
    provider_names = {payment.provider for payment in ours} | {payment_provider().name}
    reported: dict[tuple[str, str], ProviderPayment] = {}
    for name in sorted(provider_names):
        for item in provider_named(name).payments_search(from_date=from_date, to_date=to_date):
            reported[(name, item.provider_id)] = item
    rows = [
        _row(payment, reported.pop((payment.provider, payment.provider_id), None), facts)
        for payment, facts in _facts(ours)
    ]
    if institutions is None or _sees_every_unknown(institutions):
        rows.extend(_unknown_row(name, item) for (name, _id), item in sorted(reported.items()))
    report = ReconciliationReport(from_date=from_date, to_date=to_date, rows=rows)
    audit_record(
        actor=Actor.for_user(user) if user is not None else SYSTEM,
        action="payments.reconciliation.reported",
        subject_type="payments.reconciliation",
        subject_id=f"{from_date.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}-{to_date.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}",
        details={
            "from": from_date.isoformat(),
            "to": to_date.isoformat(),
            "rows": len(rows),
            "problem_rows": len(report.problem_rows),
            "institutions": sorted(institutions) if institutions is not None else None,
        },
    )
    return report


def _sees_every_unknown(institutions: frozenset[str]) -> bool:
    # A provider payment we have no record of belongs to no institution we know: only finance staff of every
    # institution that took payments in the period may see it (one council: its finance staff).
    owners = set(
        Payment.objects.order_by()
        .values_list("application__service__owning_institution__code", flat=True)
        .distinct()[:50]
    )
    return owners <= institutions


@dataclass(frozen=True)
class _Facts:
    refunded_minor: int
    fees_minor: int
    fees_paid: bool
    settled_row: bool


def _facts(payments: list[Payment]) -> Iterable[tuple[Payment, _Facts]]:
    ids = [payment.id for payment in payments]
    refunded = dict(
        Refund.objects.filter(payment_id__in=ids)
        .exclude(state=RefundState.ERROR)
        .values("payment_id")
        .annotate(total=Sum("amount_minor"))
        .values_list("payment_id", "total")
    )
    settled = set(
        PaymentTransaction.objects.filter(payment_id__in=ids, kind=LedgerKind.SETTLED).values_list(
            "payment_id", flat=True
        )
    )
    fees: dict[object, list[tuple[int, str]]] = defaultdict(list)
    for payment_id, amount, status in ApplicationFee.objects.filter(payments__in=ids).values_list(
        "payments", "amount_minor", "status"
    ):
        fees[payment_id].append((amount, status))
    for payment in payments:
        rows = fees.get(payment.id, [])
        yield (
            payment,
            _Facts(
                refunded_minor=int(refunded.get(payment.id) or 0),
                fees_minor=sum(amount for amount, _status in rows),
                fees_paid=bool(rows) and all(status == FeeStatus.PAID for _amount, status in rows),
                settled_row=payment.id in settled,
            ),
        )


def _row(payment: Payment, reported: ProviderPayment | None, facts: _Facts) -> ReconciliationRow:
    problems: list[Problem] = []
    settled = payment.settled_at is not None and facts.settled_row
    if payment.provider_id and reported is None:
        problems.append(Problem.MISSING_AT_PROVIDER)
    if reported is not None:
        if reported.state.value != payment.state:
            problems.append(Problem.STATE_DIFFERS)
        if reported.amount_minor != payment.amount_minor:
            problems.append(Problem.AMOUNT_DIFFERS)
        if reported.state == PaymentState.SUCCESS and reported.refund_amount_submitted_minor != facts.refunded_minor:
            problems.append(Problem.REFUNDS_DIFFER)
    if payment.state == PaymentState.SUCCESS and not settled:
        problems.append(Problem.SUCCESS_NOT_SETTLED)
    if settled and not facts.fees_paid:
        problems.append(Problem.FEES_NOT_PAID)
    if facts.fees_minor != payment.amount_minor:
        problems.append(Problem.FEES_TOTAL_DIFFERS)
    return ReconciliationRow(
        reference=payment.reference,
        payment_id=str(payment.id),
        provider=payment.provider,
        provider_id=payment.provider_id,
        created_at=payment.created_at.isoformat(),
        our_state=payment.state,
        provider_state=reported.state.value if reported is not None else "",
        amount_minor=payment.amount_minor,
        provider_amount_minor=reported.amount_minor if reported is not None else None,
        refunded_minor=facts.refunded_minor,
        provider_refunded_minor=reported.refund_amount_submitted_minor if reported is not None else None,
        fees_minor=facts.fees_minor,
        fees_paid=facts.fees_paid,
        settled=settled,
        problems=tuple(problems),
    )


def _unknown_row(provider: str, reported: ProviderPayment) -> ReconciliationRow:
    return ReconciliationRow(
        reference=reported.reference,
        payment_id=reported.metadata.get("payment_id", ""),
        provider=provider,
        provider_id=reported.provider_id,
        created_at=reported.created_at.isoformat(),
        our_state="",
        provider_state=reported.state.value,
        amount_minor=0,
        provider_amount_minor=reported.amount_minor,
        refunded_minor=0,
        provider_refunded_minor=reported.refund_amount_submitted_minor,
        fees_minor=0,
        fees_paid=False,
        settled=False,
        problems=(Problem.UNKNOWN_TO_US,),
    )


# --- Output --------------------------------------------------------------------------------------------

CSV_COLUMNS = [item.name for item in fields(ReconciliationRow)]


def report_csv(report: ReconciliationReport) -> str:
    """Return the report as CSV (one row per payment, problems joined with ``;``), formulas neutralised."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in report.rows:
        values = asdict(row)
        values["problems"] = ";".join(row.problems)
        writer.writerow([_cell(values[name]) for name in CSV_COLUMNS])
    return out.getvalue()


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A reference typed by nobody we trust must not become a spreadsheet formula.
    return f"'{text}" if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text


def report_json(report: ReconciliationReport) -> str:
    """Return the report as JSON: the period, totals and rows."""
    return json.dumps(
        {
            "from": report.from_date.isoformat(),
            "to": report.to_date.isoformat(),
            "rows": [asdict(row) | {"problems": list(row.problems)} for row in report.rows],
            "problem_rows": len(report.problem_rows),
            "settled_minor": report.settled_minor,
            "refunded_minor": report.refunded_minor,
        },
        indent=2,
    )


# --- Refunds left submitted ------------------------------------------------------------------------------


def refunds_refresh_submitted(*, batch: int = 200) -> int:
    """Ask the providers about refunds still ``submitted``; return how many payments were asked about."""
    payment_ids = list(
        Refund.objects.filter(state=RefundState.SUBMITTED)
        .exclude(provider_id="")
        .order_by("created_at")
        .values_list("payment_id", flat=True)
        .distinct()[:batch]
    )
    for payment in Payment.objects.filter(id__in=payment_ids):
        refunds_refresh(payment=payment, actor=SYSTEM)
    return len(payment_ids)


@scheduled(name="payments.refunds.refresh", every=dt.timedelta(minutes=30), offset=dt.timedelta(minutes=7))
def refunds_refresh_submitted_job() -> None:
    """Apply the final state of refunds the provider has settled (or refused) since they were asked for."""
    asked = refunds_refresh_submitted()
    logger.info("payments.refunds.refreshed", payments=asked)


__all__ = [
    "Problem",
    "ReconciliationReport",
    "ReconciliationRow",
    "reconciliation_allowed",
    "reconciliation_report",
    "refunds_refresh_submitted",
    "report_csv",
    "report_json",
]

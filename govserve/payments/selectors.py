"""Reads of payments, with their permission checks (the applicant's own payments only).

Staff reads (the ledger of a file, the reconciliation report) belong to
``payments/refunds.py`` and ``payments/reconciliation.py``, which check staff
roles; :func:`ledger_of` here is their building block and checks nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext as _

from govserve.catalogue.errors import ServiceNotFoundError, VersionNotFoundError
from govserve.journeys.access import Applicant
from govserve.journeys.fields.formats import format_money
from govserve.journeys.hooks import PaymentLink
from govserve.journeys.models import Application, ApplicationFee, FeeKind
from govserve.journeys.selectors import compiled_for
from govserve.payments import errors
from govserve.payments.models import PaidWhen, Payment, PaymentTransaction
from govserve.payments.services import fees_due


def _as_uuid(value: object) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        return None


def payment_for_applicant(*, applicant: Applicant, payment_id: object) -> Payment:
    """Return the payment if ``applicant`` may act on its application; raise PaymentNotFoundError otherwise."""
    key = _as_uuid(payment_id)
    payment = Payment.objects.select_related("application").filter(pk=key).first() if key else None
    if payment is None or not applicant.may_act_on(payment.application):
        raise errors.PaymentNotFoundError("There is no payment at this address")
    return payment


def payment_by_return_token(token: str) -> Payment:
    """Return the payment whose return URL carries ``token``; raise PaymentNotFoundError for any other token."""
    if not isinstance(token, str) or not 20 <= len(token) <= 64:
        raise errors.PaymentNotFoundError("There is no payment at this address")
    payment = Payment.objects.select_related("application").filter(return_token=token).first()
    if payment is None:
        raise errors.PaymentNotFoundError("There is no payment at this address")
    return payment


def payments_for_applicant(*, applicant: Applicant, application: Application) -> list[Payment]:
    """Return the payment attempts of ``application``, newest first (empty unless ``applicant`` may act on it)."""
    if not applicant.may_act_on(application):
        return []
    return list(Payment.objects.filter(application=application).order_by("-created_at"))


def ledger_of(payment: Payment) -> list[PaymentTransaction]:
    """Return the ledger rows of ``payment`` in order (no permission check: callers check staff roles)."""
    return list(PaymentTransaction.objects.filter(payment=payment).order_by("occurred_at", "id"))


@dataclass(frozen=True)
class FeeLine:
    """A fee as the applicant reads it: the definition's name in their language and the amount."""

    name: str
    amount_minor: int
    currency: str


def fee_lines(application: Application, fees: Iterable[ApplicationFee], language: str) -> list[FeeLine]:
    """Return ``fees`` with the names the pinned version gives them (the fee id when it has none).

    An increase after a resubmission is named as such (its fee's name, then "increase after ...").
    """
    names: dict[tuple[str, str], str] = {}
    try:
        for registration in compiled_for(application).definition.registrations:
            for fee in registration.fees:
                names[(registration.id, fee.id)] = fee.name.get(language)
    except (ServiceNotFoundError, VersionNotFoundError):
        pass  # a retired version: the ids are still a fair description
    return [
        FeeLine(
            name=_fee_name(row, names.get((row.registration_id, row.fee_id), row.fee_id)),
            amount_minor=row.amount_minor,
            currency=row.currency,
        )
        for row in fees
    ]


def _fee_name(row: ApplicationFee, name: str) -> str:
    if row.kind == FeeKind.INCREASE:
        # What a paid fee rose by when the application was sent again (journeys.resubmission_records).
        return _("%(fee)s: increase after the application was changed") % {"fee": name}
    return name


def payment_link_for(application: Application, language: str) -> PaymentLink | None:
    """Return the applicant's "Pay" link for what ``application`` owes now (journeys' hook), or None."""
    for paid_when in PaidWhen.values:
        due = fees_due(application, paid_when)
        if due is not None:
            amount = format_money(due.total_minor, due.currency)
            return PaymentLink(
                amount=amount,
                text=_("Pay %(amount)s now") % {"amount": amount},
                url=reverse("payments:start", args=[application.id]) + f"?when={paid_when}",
                paid_when=paid_when,
            )
    return None

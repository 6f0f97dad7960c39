"""The payments shown on casework's file view (casework's payments provider hook).

Casework sits below payments, so it cannot read payments; payments registers
:func:`file_payments` with ``casework.hooks.payments_provider_register`` in
its ``AppConfig.ready``. Each attempt is listed (newest first) with its amount,
state, the provider's reference and what was refunded; the refund page's link
is given only for a successful payment the staff member may refund (finance
role or administrator of the service's owning institution: ``refund_allowed``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, Sum
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from govserve.accounts.models import User
from govserve.casework.views import common
from govserve.journeys.fields.formats import format_money
from govserve.journeys.models import Application
from govserve.payments.models import Payment
from govserve.payments.providers.base import PaymentState, RefundState
from govserve.payments.refunds import refund_allowed

STATE_TEXT = {
    PaymentState.CREATED: _("Started"),
    PaymentState.STARTED: _("In progress"),
    PaymentState.SUBMITTED: _("In progress"),
    PaymentState.CAPTURABLE: _("In progress"),
    PaymentState.SUCCESS: _("Paid"),
    PaymentState.FAILED: _("Failed"),
    PaymentState.CANCELLED: _("Cancelled"),
    PaymentState.ERROR: _("Failed"),
}


@dataclass(frozen=True)
class FilePayment:
    """One payment as a row of the file view (the record casework's hook documents)."""

    when_text: str
    amount_text: str
    state_text: str
    provider_reference: str
    refunded_text: str
    refund_url: str


def file_payments(application: Application, /, *, user: User, language: str) -> list[FilePayment]:
    """Return ``application``'s payments as rows of the file view seen by ``user``."""
    # Most files have no payment: a plain look-up first, as the grouped query with its join costs far more to build.
    if not Payment.objects.filter(application=application).exists():
        return []
    payments = list(
        Payment.objects.filter(application=application)
        .select_related("application__service")
        .annotate(
            refunded_minor=Sum(
                "refunds__amount_minor",
                filter=Q(refunds__state__in=[RefundState.SUBMITTED, RefundState.SUCCESS]),
                default=0,
            )
        )
        .order_by("-created_at", "-id")
    )
    may_refund = bool(payments) and refund_allowed(user, payments[0])
    rows = []
    for payment in payments:
        refunded = int(payment.refunded_minor)  # the annotation
        rows.append(
            FilePayment(
                when_text=common.time_text(payment.finished_at or payment.created_at, language),
                amount_text=format_money(payment.amount_minor, payment.currency),
                state_text=str(STATE_TEXT.get(PaymentState(payment.state), payment.state)),
                provider_reference=payment.provider_id,
                refunded_text=format_money(refunded, payment.currency) if refunded else "",
                refund_url=reverse("payments:refund", args=[payment.id]) if may_refund and payment.succeeded else "",
            )
        )
    return rows


def register() -> None:
    """List the payments on casework's file view (the app's ``ready``; idempotent)."""
    from govserve.casework.hooks import payments_provider_register  # noqa: PLC0415

    payments_provider_register(file_payments)

"""The built-in sandbox provider: GOV.UK Pay's lifecycle, in-process, with a hosted payment page.

Used by the demo and the tests. Its payments live in the database
(:class:`~govserve.payments.models.SandboxPayment`), so they survive restarts
and any number of web processes share them. ``next_url`` is the sandbox's
own payment page (``/payments/sandbox/<id>/``, :mod:`govserve.payments.views.sandbox`),
where the person types one of the test card numbers below, or cancels; the
page then sends them back to ``return_url``, and the domain asks
:meth:`SandboxProvider.payment_get` for the outcome, as with GOV.UK Pay.

| card number | outcome | state, failure code |
|---|---|---|
| 4444 3333 2222 1111 | the payment succeeds (Visa, last digits 1111) | ``success`` |
| 4000 0000 0000 0002 | the card is declined | ``failed``, P0010 |
| 4000 0000 0000 0119 | the provider has a technical problem | ``error``, P0050 |
| (the Cancel button) | the person cancels | ``cancelled``, P0030 |
| (nothing for 90 minutes) | the payment expires, as GOV.UK Pay's do | ``failed``, P0020 |

Any other number is refused on the page ("Enter one of the sandbox's test
card numbers"): the sandbox never takes a real card. Refunds succeed at once
and are guarded by ``refund_amount_available`` like GOV.UK Pay's.
Webhooks are not sent by the sandbox (the return redirect and the
reconciliation poll find every outcome); :meth:`webhook_verify` refuses any.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils.translation import gettext as _

from govserve.core import clock
from govserve.payments.errors import PaymentProviderRefusedError, PaymentWebhookInvalidError
from govserve.payments.models import SandboxPayment, SandboxRefund
from govserve.payments.providers.base import (
    PaymentRequest,
    PaymentState,
    ProviderPayment,
    ProviderRefund,
    RefundState,
    WebhookEvent,
)

SANDBOX_NAME = "sandbox"


@dataclass(frozen=True)
class TestCard:
    """A sandbox test card and what paying with it does."""

    number: str
    state: PaymentState
    brand: str
    failure_code: str = ""
    failure_message: str = ""


TEST_CARDS: dict[str, TestCard] = {
    card.number: card
    for card in (
        TestCard("4444333322221111", PaymentState.SUCCESS, "visa"),
        TestCard("4000000000000002", PaymentState.FAILED, "visa", "P0010", "Payment method rejected"),
        TestCard("4000000000000119", PaymentState.ERROR, "visa", "P0050", "Payment provider returned an error"),
    )
}
CANCELLED_CODE = ("P0030", "Payment was cancelled by the user")
EXPIRED_CODE = ("P0020", "Payment expired")
EXPIRY = dt.timedelta(minutes=90)  # GOV.UK Pay's: an unfinished payment fails P0020 after 90 minutes


class SandboxCardRefusedError(Exception):
    """The number typed on the sandbox page is not one of its test cards (the page shows the message)."""


def _new_id(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(13)}"  # 104 random bits: the payment page's address is unguessable


def _locked_row(provider_id: str) -> SandboxPayment | None:
    """Return the payment locked for update (call inside a transaction), expired first if it is due to."""
    row = SandboxPayment.objects.select_for_update().filter(pk=str(provider_id)[:64]).first()
    if row is not None and not PaymentState(row.state).finished and clock.now() - row.created_at >= EXPIRY:
        row.state = PaymentState.FAILED
        row.failure_code, row.failure_message = EXPIRED_CODE
        row.save(update_fields=["state", "failure_code", "failure_message", "updated_at"])
    return row


def _as_provider_payment(row: SandboxPayment) -> ProviderPayment:
    refunded = (
        SandboxRefund.objects.filter(payment=row)
        .exclude(state=RefundState.ERROR)
        .aggregate(total=Sum("amount_minor"))["total"]
        or 0
    )
    success = row.state == PaymentState.SUCCESS
    return ProviderPayment(
        provider_id=row.id,
        state=PaymentState(row.state),
        amount_minor=row.amount_minor,
        reference=row.reference,
        created_at=row.created_at,
        next_url=None if PaymentState(row.state).finished else sandbox_page_url(row.id),
        failure_code=row.failure_code,
        failure_message=row.failure_message,
        refund_amount_available_minor=row.amount_minor - refunded if success else 0,
        refund_amount_submitted_minor=refunded,
        card_brand=row.card_brand,
        last_digits=row.last_digits,
        metadata=dict(row.metadata),
    )


def sandbox_page_url(provider_id: str) -> str:
    """Return the absolute address of the sandbox's payment page for ``provider_id``."""
    return f"{settings.PUBLIC_BASE_URL}{reverse('payments:sandbox_page', args=[provider_id])}"


def _not_found(provider_id: str) -> PaymentProviderRefusedError:
    return PaymentProviderRefusedError(
        "The sandbox has no such payment", extra={"provider_code": "P0200", "provider_id": provider_id[:64]}
    )


class SandboxProvider:
    """The sandbox (module docstring); implements :class:`~govserve.payments.providers.base.PaymentProvider`."""

    name = SANDBOX_NAME

    def payment_create(self, request: PaymentRequest) -> ProviderPayment:
        """Create the payment (the same idempotency key returns the same payment); return it with ``next_url``."""
        if request.amount_minor <= 0:
            raise PaymentProviderRefusedError("The amount must be positive", extra={"provider_code": "P0102"})
        existing = SandboxPayment.objects.filter(idempotency_key=request.idempotency_key).first()
        if existing is None:
            try:
                with transaction.atomic():
                    existing = SandboxPayment.objects.create(
                        id=_new_id("sbx_"),
                        idempotency_key=request.idempotency_key,
                        amount_minor=request.amount_minor,
                        currency=request.currency,
                        reference=request.reference,
                        description=request.description[:255],
                        return_url=request.return_url,
                        language=request.language,
                        metadata=dict(request.metadata),
                    )
            except IntegrityError:  # the same key created concurrently: that payment is the answer
                existing = SandboxPayment.objects.get(idempotency_key=request.idempotency_key)
        if existing.amount_minor != request.amount_minor or existing.reference != request.reference:
            # GOV.UK Pay refuses a reused key with a different body (P0900-like).
            raise PaymentProviderRefusedError(
                "The idempotency key was used for another payment", extra={"provider_code": "P0900"}
            )
        return _as_provider_payment(existing)

    def payment_get(self, provider_id: str) -> ProviderPayment:
        """Return the payment's state (unfinished for 90 minutes: failed P0020); refuse (P0200) an unknown id."""
        with transaction.atomic():
            row = _locked_row(provider_id)
        if row is None:
            raise _not_found(provider_id)
        return _as_provider_payment(row)

    def payment_cancel(self, provider_id: str) -> None:
        """Cancel an unfinished payment; refuse (P0501) a finished one, as GOV.UK Pay does."""
        with transaction.atomic():
            row = SandboxPayment.objects.select_for_update().filter(pk=str(provider_id)[:64]).first()
            if row is None:
                raise _not_found(provider_id)
            if PaymentState(row.state).finished:
                raise PaymentProviderRefusedError(
                    "The payment has finished and cannot be cancelled", extra={"provider_code": "P0501"}
                )
            row.state = PaymentState.CANCELLED
            row.failure_code, row.failure_message = "P0040", "Payment was cancelled by the service"
            row.save(update_fields=["state", "failure_code", "failure_message", "updated_at"])

    def payments_search(self, *, from_date: dt.datetime, to_date: dt.datetime) -> Iterable[ProviderPayment]:
        """Yield every payment created in [from_date, to_date), oldest first."""
        rows = SandboxPayment.objects.filter(created_at__gte=from_date, created_at__lt=to_date).order_by(
            "created_at", "id"
        )
        for row in rows.iterator(chunk_size=200):
            yield _as_provider_payment(row)

    def refund_create(
        self, provider_id: str, *, amount_minor: int, refund_amount_available_minor: int, idempotency_key: str
    ) -> ProviderRefund:
        """Refund (succeeds at once); refuse when ``refund_amount_available_minor`` no longer matches (P0604)."""
        existing = SandboxRefund.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            return self._refund(existing)
        with transaction.atomic():
            row = SandboxPayment.objects.select_for_update().filter(pk=str(provider_id)[:64]).first()
            if row is None:
                raise _not_found(provider_id)
            available = _as_provider_payment(row).refund_amount_available_minor
            if row.state != PaymentState.SUCCESS or available != refund_amount_available_minor:
                raise PaymentProviderRefusedError(
                    "The refund amount available does not match", extra={"provider_code": "P0604"}
                )
            if amount_minor <= 0 or amount_minor > available:
                raise PaymentProviderRefusedError(
                    "The refund is more than is available", extra={"provider_code": "P0603"}
                )
            refund = SandboxRefund.objects.create(
                id=_new_id("sbr_"), payment=row, idempotency_key=idempotency_key, amount_minor=amount_minor
            )
        return self._refund(refund)

    def refund_get(self, provider_id: str, refund_provider_id: str) -> ProviderRefund:
        """Return the refund's state; refuse (P0700) an unknown one."""
        refund = SandboxRefund.objects.filter(pk=str(refund_provider_id)[:64], payment_id=str(provider_id)[:64]).first()
        if refund is None:
            raise PaymentProviderRefusedError("The sandbox has no such refund", extra={"provider_code": "P0700"})
        return self._refund(refund)

    def webhook_verify(self, body: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        """Refuse every webhook: the sandbox sends none."""
        raise PaymentWebhookInvalidError("The sandbox sends no webhooks")

    @staticmethod
    def _refund(row: SandboxRefund) -> ProviderRefund:
        return ProviderRefund(
            provider_id=row.id,
            payment_provider_id=row.payment_id,
            amount_minor=row.amount_minor,
            state=RefundState(row.state),
            created_at=row.created_at,
        )


# --- What the hosted page does (its views are thin: govserve.payments.views.sandbox) --------------------


def card_number_normalise(raw: object) -> str:
    """Return the digits of a typed card number (spaces and dashes allowed); raise SandboxCardRefusedError."""
    if not isinstance(raw, str) or len(raw) > 40:
        raise SandboxCardRefusedError(_("Enter one of the sandbox's test card numbers"))
    digits = raw.replace(" ", "").replace("-", "")
    if not digits:
        raise SandboxCardRefusedError(_("Enter a card number"))
    if not digits.isascii() or not digits.isdigit() or digits not in TEST_CARDS:
        raise SandboxCardRefusedError(_("Enter one of the sandbox's test card numbers"))
    return digits


def sandbox_payment_open(provider_id: str) -> SandboxPayment | None:
    """Return the sandbox payment behind a payment page (marked ``started`` on first view), or None."""
    with transaction.atomic():
        row = _locked_row(provider_id)
        if row is not None and row.state == PaymentState.CREATED:
            row.state = PaymentState.STARTED
            row.save(update_fields=["state", "updated_at"])
    return row


def sandbox_payment_pay(provider_id: str, card_number: object) -> SandboxPayment | None:
    """Pay with a test card (module docstring); return the payment, None if unknown. Idempotent once finished.

    Raise SandboxCardRefusedError (nothing changes) for a number that is not
    a test card.
    """
    with transaction.atomic():
        row = _locked_row(provider_id)
        if row is None or PaymentState(row.state).finished:
            return row
        card = TEST_CARDS[card_number_normalise(card_number)]
        row.state = card.state
        row.card_brand = card.brand
        row.last_digits = card.number[-4:]
        row.failure_code, row.failure_message = card.failure_code, card.failure_message
        row.save(update_fields=["state", "card_brand", "last_digits", "failure_code", "failure_message", "updated_at"])
    return row


def sandbox_payment_cancel_by_payer(provider_id: str) -> SandboxPayment | None:
    """Cancel from the payment page (P0030); return the payment, None if unknown. A finished one is unchanged."""
    with transaction.atomic():
        row = _locked_row(provider_id)
        if row is None or PaymentState(row.state).finished:
            return row
        row.state = PaymentState.CANCELLED
        row.failure_code, row.failure_message = CANCELLED_CODE
        row.save(update_fields=["state", "failure_code", "failure_message", "updated_at"])
    return row

"""The one interface every payment provider implements (the built-in sandbox, GOV.UK Pay).

The lifecycle follows GOV.UK Pay's, which the sandbox copies so that the
domain code has one path:

1. :meth:`PaymentProvider.payment_create` with an idempotency key (the same
   key returns the same payment, never a second one) → a payment with a
   ``next_url`` on the provider's hosted page;
2. the applicant is redirected there and comes back to ``return_url``;
3. on return (and from webhooks, and from the reconciliation poll) the domain
   *always* asks :meth:`PaymentProvider.payment_get` for the state: the return
   redirect itself proves nothing.

Finished states are ``success``, ``failed``, ``cancelled`` and ``error``;
only ``success`` settles a fee. Refunds are guarded by the provider's
``refund_amount_available`` (GOV.UK Pay refuses a refund whose
``refund_amount_available`` does not match, which stops two operators
refunding the same money).

Providers raise only the typed errors of :mod:`govserve.payments.errors`:
``PaymentProviderUnavailableError`` (network, timeout, 5xx, 429: retry
later) and ``PaymentProviderRefusedError`` (a 4xx with the provider's code:
do not retry). Amounts are integers in minor units (pence).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class PaymentState(StrEnum):
    """GOV.UK Pay's payment states (``state.status``)."""

    CREATED = "created"
    STARTED = "started"
    SUBMITTED = "submitted"
    CAPTURABLE = "capturable"
    SUCCESS = "success"
    FAILED = "failed"
    CANCELLED = "cancelled"
    ERROR = "error"

    @property
    def finished(self) -> bool:
        """Return whether the state is final (``state.finished`` in GOV.UK Pay)."""
        return self in FINISHED_STATES


FINISHED_STATES = frozenset({PaymentState.SUCCESS, PaymentState.FAILED, PaymentState.CANCELLED, PaymentState.ERROR})


class RefundState(StrEnum):
    """GOV.UK Pay's refund states."""

    SUBMITTED = "submitted"
    SUCCESS = "success"
    ERROR = "error"


@dataclass(frozen=True)
class PaymentRequest:
    """What the domain asks a provider to collect.

    ``reference`` is the application's reference (shown on the payment page
    and in the provider's reports); ``idempotency_key`` is stable for one
    attempt (a retried create returns the same payment); ``language`` is
    "en" or "cy"; ``metadata`` is carried to the provider's reports
    (reconciliation matches on ``metadata["payment_id"]``).
    """

    amount_minor: int
    currency: str
    reference: str
    description: str
    return_url: str
    idempotency_key: str
    language: str = "en"
    email: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ProviderPayment:
    """A payment as the provider reports it (``payment_get``, ``payment_create``, searches)."""

    provider_id: str
    state: PaymentState
    amount_minor: int
    reference: str
    created_at: dt.datetime
    next_url: str | None = None
    failure_code: str = ""
    failure_message: str = ""
    refund_amount_available_minor: int = 0
    refund_amount_submitted_minor: int = 0
    card_brand: str = ""
    last_digits: str = ""
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ProviderRefund:
    """A refund as the provider reports it."""

    provider_id: str
    payment_provider_id: str
    amount_minor: int
    state: RefundState
    created_at: dt.datetime


@dataclass(frozen=True)
class WebhookEvent:
    """A verified webhook: which payment changed (the domain then asks ``payment_get``)."""

    event_id: str
    event_type: str
    payment_provider_id: str


class PaymentProvider(Protocol):
    """A payment service provider (module docstring for the lifecycle and errors)."""

    name: str

    def payment_create(self, request: PaymentRequest) -> ProviderPayment:
        """Create a payment (idempotent on ``request.idempotency_key``); return it with its ``next_url``."""
        ...

    def payment_get(self, provider_id: str) -> ProviderPayment:
        """Return the payment's current state (always asked on return, webhook and poll)."""
        ...

    def payment_cancel(self, provider_id: str) -> None:
        """Cancel a payment that is not finished (an abandoned attempt replaced by a new one)."""
        ...

    def payments_search(self, *, from_date: dt.datetime, to_date: dt.datetime) -> Iterable[ProviderPayment]:
        """Yield every payment created in [from_date, to_date) (reconciliation), following pages."""
        ...

    def refund_create(
        self, provider_id: str, *, amount_minor: int, refund_amount_available_minor: int, idempotency_key: str
    ) -> ProviderRefund:
        """Refund part or all of a successful payment; refused when the available amount no longer matches."""
        ...

    def refund_get(self, provider_id: str, refund_provider_id: str) -> ProviderRefund:
        """Return the refund's current state."""
        ...

    def webhook_verify(self, body: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        """Check the webhook's signature and parse it; raise PaymentWebhookInvalidError when it is not genuine."""
        ...

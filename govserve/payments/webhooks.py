"""Providers' webhooks: verify the signature, then ask the provider (never trust the body's state).

A webhook only says *which* payment changed. :func:`webhook_receive` checks
its signature with the provider that sent it
(:meth:`~govserve.payments.providers.base.PaymentProvider.webhook_verify`:
``Pay-Signature`` for GOV.UK Pay), finds our payment by the provider's id and
calls :func:`~govserve.payments.services.payment_refresh`, the same function
the return redirect and the reconciliation poll call. That function applies
the provider's answer under a row lock and idempotently, so a webhook that
arrives before the applicant's return redirect settles the payment, the
redirect then finds it settled, and the fees are settled exactly once (as
with a webhook delivered twice).

Refund events (``card_payment_refunded``) also refresh the payment's
submitted refunds (:func:`govserve.payments.refunds.refunds_refresh`).

Outcomes: a genuine event for a payment we know → ``applied``; for one we do
not know (another service on the same Pay account, a test) → ``ignored``
and logged, answered 200 so the provider stops retrying; an invalid
signature → :class:`PaymentWebhookInvalidError` (400); the provider
unreachable while we ask → :class:`PaymentProviderUnavailableError` (503:
the provider retries the webhook later).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import structlog

from govserve.audit.actors import Actor
from govserve.payments import refunds
from govserve.payments.models import Payment
from govserve.payments.providers.registry import provider_named
from govserve.payments.services import payment_refresh

logger = structlog.get_logger(__name__)

WEBHOOK_ACTOR = Actor.system("payments")
REFUND_EVENTS = frozenset({"card_payment_refunded"})


@dataclass(frozen=True)
class WebhookOutcome:
    """What a webhook did: ``applied`` or ``ignored``, the event id, and our payment's state after it."""

    outcome: str
    event_id: str
    payment_state: str = ""


def webhook_receive(*, provider_name: str, body: bytes, headers: Mapping[str, str]) -> WebhookOutcome:
    """Verify a provider's webhook and apply the payment's state as the provider now reports it.

    Idempotent (a repeated or late webhook changes nothing). Raise
    PaymentWebhookInvalidError for a signature or body that is not genuine,
    and the provider's typed errors when it cannot be asked (nothing changes).
    Audited through :func:`payment_refresh` (``payments.payment.state_changed``).
    """
    event = provider_named(provider_name).webhook_verify(body, headers)
    payment = Payment.objects.filter(provider=provider_name, provider_id=event.payment_provider_id).first()
    if payment is None:
        logger.info(
            "payments.webhook.unknown_payment",
            provider=provider_name,
            event_id=event.event_id,
            event_type=event.event_type,
        )
        return WebhookOutcome(outcome="ignored", event_id=event.event_id)
    refreshed = payment_refresh(payment_id=payment.id, actor=WEBHOOK_ACTOR)
    if event.event_type in REFUND_EVENTS:
        refunds.refunds_refresh(payment=refreshed, actor=WEBHOOK_ACTOR)
    logger.info(
        "payments.webhook.applied",
        provider=provider_name,
        event_id=event.event_id,
        event_type=event.event_type,
        payment_id=str(payment.id),
        state=refreshed.state,
    )
    return WebhookOutcome(outcome="applied", event_id=event.event_id, payment_state=refreshed.state)

"""Every write of payments: start paying, and apply what the provider reports.

The lifecycle is GOV.UK Pay's (:mod:`govserve.payments.providers.base`):

1. :func:`payment_start` (the applicant's "Pay now") works out what is due
   (the application's fees of one ``paid_when`` still ``due``), records an
   attempt (:class:`~govserve.payments.models.Payment`, state ``created``,
   with an idempotency key and a random return token), asks the provider to
   create it, and returns it with its ``next_url``. A second "Pay now" while
   an attempt is unfinished reuses it if the person never opened the
   payment page (and it is less than :data:`REUSE_MINUTES` old); otherwise
   the old attempt is cancelled at the provider and a new one made. Calls to
   the provider are made *outside* database transactions (a slow provider
   never holds a lock); the provider's own idempotency key makes a retried
   create harmless.
2. The provider sends the person back to ``/payments/return/<token>``;
   :func:`payment_refresh` then *always* asks the provider (``payment_get``)
   and applies its answer. Webhooks and the reconciliation poll call the
   same function. Applying is idempotent and serialised by a row lock on the
   payment: a return redirect and a webhook at the same moment apply the
   state once (one ledger entry, one settlement).
3. On ``success`` (amount as asked): the fees are marked paid, the ledger
   gets its one ``settled`` row, an application waiting for payment becomes
   ``submitted`` and its case file opens (casework's ``file_open``), the
   receipt email is queued (outbox), and the ``payment_received`` hooks run
   (notifications), all in one transaction. ``failed``, ``cancelled`` and
   ``error`` leave the fees due: the applicant can try again.

Every change writes its ledger row(s) and one audit entry (ids, amounts and
codes only, never a card number: the sandbox and GOV.UK Pay only ever report
the brand and last four digits).
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse

from govserve.audit.actors import Actor
from govserve.audit.services import audit_record
from govserve.casework.services import file_open
from govserve.core import clock
from govserve.core.queries import PreparedFilter
from govserve.journeys.access import Applicant
from govserve.journeys.models import Application, ApplicationFee, ApplicationStatus, FeeStatus
from govserve.journeys.resubmission import application_status_record
from govserve.journeys.selectors import compiled_for
from govserve.journeys.services import applicant_email
from govserve.payments import errors, hooks, receipts
from govserve.payments.models import (
    UNFINISHED_STATES,
    LedgerKind,
    PaidWhen,
    Payment,
    PaymentTransaction,
)
from govserve.payments.providers.base import PaymentRequest, PaymentState, ProviderPayment
from govserve.payments.providers.registry import payment_provider, provider_named

logger = structlog.get_logger(__name__)

SYSTEM = Actor.system("payments")
SUBJECT = "payments.payment"
REUSE_MINUTES = 60
POLL_DAYS = 7
PAYABLE_STATUSES: dict[str, frozenset[str]] = {
    PaidWhen.BEFORE_SUBMISSION: frozenset({ApplicationStatus.AWAITING_PAYMENT}),
    PaidWhen.AFTER_DECISION: frozenset({ApplicationStatus.APPROVED}),
    PaidWhen.ON_COLLECTION: frozenset({ApplicationStatus.APPROVED}),
}
"""The application statuses in which fees of each ``paid_when`` can be paid online."""


@dataclass(frozen=True)
class FeesDue:
    """The fees of one application due at one moment: the rows, their total and currency."""

    paid_when: str
    fees: tuple[ApplicationFee, ...]
    total_minor: int
    currency: str


# Asked by every confirmation page and payment start: the ORM's statement built once per process (core.queries).
_FEES_DUE = PreparedFilter(
    ApplicationFee,
    samples={"application_id": uuid.UUID(int=0xFEE5_D0E0_0000_4000_8000_0000_0000_0001), "paid_when": "\x00sample"},
    constants={"status": FeeStatus.DUE, "amount_minor__gt": 0},
    order_by=("id",),
)


def fees_due(application: Application, paid_when: str = PaidWhen.BEFORE_SUBMISSION) -> FeesDue | None:
    """Return what ``application`` owes now for ``paid_when`` (None: nothing to pay online now)."""
    if paid_when not in PAYABLE_STATUSES or application.status not in PAYABLE_STATUSES[paid_when]:
        return None
    rows = tuple(_FEES_DUE.rows(application_id=application.id, paid_when=paid_when))
    if not rows:
        return None
    currencies = {row.currency for row in rows}
    if len(currencies) != 1:
        logger.error("payments.fees.mixed_currencies", application_id=str(application.id))
        return None
    return FeesDue(
        paid_when=paid_when, fees=rows, total_minor=sum(row.amount_minor for row in rows), currency=currencies.pop()
    )


def _actor_text(actor: Actor) -> str:
    return f"{actor.kind}:{actor.id}"[:80]


def _ledger(
    payment: Payment,
    kind: str,
    *,
    actor: Actor,
    provider_state: str = "",
    amount_minor: int | None = None,
    details: dict[str, Any] | None = None,
) -> PaymentTransaction:
    return PaymentTransaction.objects.create(
        payment=payment,
        kind=kind,
        amount_minor=payment.amount_minor if amount_minor is None else amount_minor,
        currency=payment.currency,
        state=payment.state,
        provider_state=provider_state,
        actor=_actor_text(actor),
        details=details or {},
    )


def _absolute(path: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}{path}"


# --- Starting ----------------------------------------------------------------------------------------


def payment_start(
    *,
    application_id: uuid.UUID,
    applicant: Applicant,
    language: str,
    paid_when: str = PaidWhen.BEFORE_SUBMISSION,
) -> Payment:
    """Start (or resume) paying the fees of ``application_id`` due ``paid_when``; return the attempt.

    The attempt's ``next_url`` is where to send the person. Raise
    PaymentNotFoundError when ``applicant`` may not act on the application
    (the same for a missing one), PaymentNotDueError when nothing is due now
    (paid already, not yet decided, withdrawn), and the provider's typed
    errors (PaymentProviderUnavailableError: try again later; the attempt
    stays and is reused). An attempt the provider reports as succeeded is
    applied and returned (``succeeded``: show the paid page, not the
    provider's). Audited as ``payments.payment.started``.
    """
    actor = applicant.actor
    for _round in range(3):
        payment, stale = _attempt_find_or_create(application_id, applicant, language, paid_when)
        if not payment.provider_id:
            return _provider_create(payment, actor=actor)
        # An unfinished attempt from before: what does the provider say now?
        payment = payment_refresh(payment_id=payment.id, actor=actor)
        if payment.succeeded:
            return payment
        if payment.is_finished:
            continue  # failed, cancelled or error: the next round makes a new attempt
        young = clock.now() - payment.created_at < dt.timedelta(minutes=REUSE_MINUTES)
        if not stale and payment.state == PaymentState.CREATED and payment.next_url and young:
            _started_audit(payment, actor=actor, reused=True)
            return payment
        _provider_cancel(payment, actor=actor)
    raise errors.PaymentProviderUnavailableError("The payment could not be started: try again in a few minutes")


def _attempt_find_or_create(
    application_id: uuid.UUID, applicant: Applicant, language: str, paid_when: str
) -> tuple[Payment, bool]:
    """Return (the unfinished attempt, whether its amount is stale), or (a new attempt, False).

    The row lock on the application makes concurrent starts take turns: one attempt at a time.
    """
    with transaction.atomic():
        application = Application.objects.select_for_update().filter(pk=application_id).first()
        if application is None or not applicant.may_act_on(application):
            raise errors.PaymentNotFoundError("There is no application at this address")
        due = fees_due(application, paid_when)
        if due is None:
            raise errors.PaymentNotDueError("There is nothing to pay for this application")
        existing = (
            Payment.objects.select_for_update()
            .filter(application=application, paid_when=paid_when, state__in=UNFINISHED_STATES)
            .first()
        )
        if existing is not None:
            stale = existing.amount_minor != due.total_minor or existing.currency != due.currency
            if not stale or existing.provider_id:
                # A stale one (fees changed since: a fee waived) is cancelled at the provider first.
                return existing, stale
            existing.state = PaymentState.CANCELLED
            existing.finished_at = clock.now()
            existing.save(update_fields=["state", "finished_at", "updated_at"])
            _ledger(existing, LedgerKind.STATE_CHANGED, actor=applicant.actor, details={"reason": "fees_changed"})
        payment = Payment.objects.create(
            application=application,
            paid_when=paid_when,
            reference=application.reference,
            amount_minor=due.total_minor,
            currency=due.currency,
            language="cy" if language == "cy" else "en",
            provider=payment_provider().name,
            idempotency_key=f"pay-{uuid.uuid4().hex}",
            return_token=secrets.token_urlsafe(32),
        )
        payment.fees.set(due.fees)
        _ledger(
            payment,
            LedgerKind.CREATED,
            actor=applicant.actor,
            details={"fees": [row.id for row in due.fees], "paid_when": paid_when},
        )
        _started_audit(payment, actor=applicant.actor, reused=False)
    return payment, False


def _started_audit(payment: Payment, *, actor: Actor, reused: bool) -> None:
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="payments.payment.started",
            subject_type=SUBJECT,
            subject_id=payment.id,
            details={
                "application": str(payment.application_id),
                "amount_minor": payment.amount_minor,
                "currency": payment.currency,
                "provider": payment.provider,
                "paid_when": payment.paid_when,
                "reused": reused,
            },
        )


def payment_return_url(payment: Payment) -> str:
    """Return the absolute URL the provider sends the person back to."""
    return _absolute(reverse("payments:return", args=[payment.return_token]))


def _provider_create(payment: Payment, *, actor: Actor) -> Payment:
    """Create the attempt at its provider (idempotent on its key) and record the provider id and next_url."""
    application = payment.application
    title = compiled_for(application).definition.title.get(payment.language)
    request = PaymentRequest(
        amount_minor=payment.amount_minor,
        currency=payment.currency,
        reference=payment.reference,
        description=f"{title} ({payment.reference})"[:255],
        return_url=payment_return_url(payment),
        idempotency_key=payment.idempotency_key,
        language=payment.language,
        email=applicant_email(application),
        metadata={
            "payment_id": str(payment.id),
            "application_id": str(application.id),
            "paid_when": payment.paid_when,
        },
    )
    reported = provider_named(payment.provider).payment_create(request)
    with transaction.atomic():
        locked = Payment.objects.select_for_update().get(pk=payment.pk)
        if locked.provider_id and locked.provider_id != reported.provider_id:
            logger.error("payments.payment.provider_id_changed", payment_id=str(payment.id))
            raise errors.PaymentProviderUnavailableError("The payment provider answered inconsistently")
        if not locked.provider_id:
            locked.provider_id = reported.provider_id
            locked.next_url = reported.next_url or ""
            locked.save(update_fields=["provider_id", "next_url", "updated_at"])
            _ledger(
                locked,
                LedgerKind.PROVIDER_CREATED,
                actor=actor,
                provider_state=reported.state.value,
                details={"provider_id": reported.provider_id},
            )
    return locked


def _provider_cancel(payment: Payment, *, actor: Actor) -> None:
    """Cancel an unfinished attempt at its provider, then apply what the provider now reports."""
    try:
        provider_named(payment.provider).payment_cancel(payment.provider_id)
    except errors.PaymentProviderRefusedError:
        logger.info("payments.payment.cancel_refused", payment_id=str(payment.id))  # finished meanwhile
    refreshed = payment_refresh(payment_id=payment.id, actor=actor)
    if not refreshed.is_finished:
        logger.error("payments.payment.cancel_ignored", payment_id=str(payment.id), state=refreshed.state)
        raise errors.PaymentProviderUnavailableError("The payment could not be started: try again in a few minutes")


# --- Applying what the provider reports ---------------------------------------------------------------


def payment_refresh(*, payment_id: uuid.UUID, actor: Actor = SYSTEM) -> Payment:
    """Ask the provider for the payment's state and apply it (module docstring); return the payment.

    Idempotent: the same report applied twice changes nothing the second
    time. Called on the return redirect (``actor``: the applicant), by
    webhooks and by the reconciliation poll (the system). Raise
    PaymentNotFoundError for an unknown id, and the provider's typed errors
    (nothing changes). Audited as ``payments.payment.state_changed`` (and
    ``payments.payment.succeeded`` on success).
    """
    payment = Payment.objects.filter(pk=payment_id).first()
    if payment is None:
        raise errors.PaymentNotFoundError("There is no such payment")
    if not payment.provider_id:
        return payment  # never reached the provider: nothing to ask
    reported = provider_named(payment.provider).payment_get(payment.provider_id)
    return payment_state_apply(payment_id=payment.id, reported=reported, actor=actor)


def payment_state_apply(*, payment_id: uuid.UUID, reported: ProviderPayment, actor: Actor = SYSTEM) -> Payment:
    """Apply a state the provider has just reported for the payment (from ``payment_get``); return the payment.

    For webhook and reconciliation code that already holds the provider's
    answer; everyone else calls :func:`payment_refresh`. Serialised by a row
    lock on the payment and idempotent (module docstring).
    """
    with transaction.atomic():
        payment = Payment.objects.select_for_update().filter(pk=payment_id).first()
        if payment is None:
            raise errors.PaymentNotFoundError("There is no such payment")
        if reported.provider_id != payment.provider_id:
            raise errors.PaymentNotFoundError("The provider reported another payment")
        previous = payment.state
        if previous == reported.state:
            return payment
        if payment.is_finished:
            # A finished state never changes here; a provider that disagrees is for reconciliation.
            logger.warning(
                "payments.payment.finished_state_reported",
                payment_id=str(payment.id),
                ours=previous,
                provider=reported.state.value,
            )
            return payment
        payment.state = reported.state
        payment.card_brand = reported.card_brand[:32]
        payment.last_digits = reported.last_digits[-4:]
        payment.failure_code = reported.failure_code[:32]
        payment.failure_message = reported.failure_message[:300]
        if reported.next_url and not payment.next_url:
            payment.next_url = reported.next_url
        if reported.state.finished:
            payment.finished_at = clock.now()
        payment.save()
        _ledger(
            payment,
            LedgerKind.STATE_CHANGED,
            actor=actor,
            provider_state=reported.state.value,
            details={"from": previous, "to": reported.state.value, "failure_code": payment.failure_code},
        )
        audit_record(
            actor=actor,
            action="payments.payment.state_changed",
            subject_type=SUBJECT,
            subject_id=payment.id,
            details={"from": previous, "to": reported.state.value, "failure_code": payment.failure_code},
        )
        if reported.state == PaymentState.SUCCESS:
            if reported.amount_minor == payment.amount_minor and reported.reference == payment.reference:
                _settle(payment, actor=actor)
            else:
                audit_record(
                    actor=actor,
                    action="payments.payment.mismatch",
                    subject_type=SUBJECT,
                    subject_id=payment.id,
                    details={"amount_minor": payment.amount_minor, "reported_minor": reported.amount_minor},
                )
                logger.error("payments.payment.mismatch", payment_id=str(payment.id))
    return payment


def _settle(payment: Payment, *, actor: Actor) -> None:
    """Mark the fees paid, submit a waiting application and open its file, send the receipt (one transaction)."""
    application = Application.objects.select_for_update().get(pk=payment.application_id)
    fee_ids = list(payment.fees.values_list("id", flat=True))
    settled = ApplicationFee.objects.filter(id__in=fee_ids, status=FeeStatus.DUE).update(status=FeeStatus.PAID)
    payment.settled_at = clock.now()
    payment.save(update_fields=["settled_at", "updated_at"])
    try:
        with transaction.atomic():
            _ledger(payment, LedgerKind.SETTLED, actor=actor, details={"fees": fee_ids, "fees_marked_paid": settled})
    except IntegrityError:  # pragma: no cover - the row lock makes this unreachable; the constraint is the guard
        logger.error("payments.payment.settled_twice", payment_id=str(payment.id))
        raise
    opened = False
    if payment.paid_when == PaidWhen.BEFORE_SUBMISSION and application.status == ApplicationStatus.AWAITING_PAYMENT:
        application_status_record(application, to_status=ApplicationStatus.SUBMITTED, actor_kind="system")
        file_open(application, actor=SYSTEM)
        application.refresh_from_db()
        opened = True
    audit_record(
        actor=actor,
        action="payments.payment.succeeded",
        subject_type=SUBJECT,
        subject_id=payment.id,
        details={
            "application": str(application.id),
            "amount_minor": payment.amount_minor,
            "currency": payment.currency,
            "fees": fee_ids,
            "application_status": application.status,
            "file_opened": opened,
        },
    )
    receipts.receipt_send(payment, application)
    hooks.received_hooks_run(payment)


def payments_refresh_unfinished(*, older_than: dt.timedelta = dt.timedelta(minutes=5), batch: int = 200) -> int:
    """Refresh unfinished attempts last changed more than ``older_than`` ago (abandoned ones); return how many.

    The applicant who never came back from the payment page still has their
    payment applied. Providers finish every attempt within 90 minutes (they
    expire), so attempts older than :data:`POLL_DAYS` are left to
    reconciliation rather than polled for ever. Provider errors on one
    attempt are logged and the others go on (the next run tries again).
    """
    now = clock.now()
    cutoff = now - older_than
    ids: Sequence[uuid.UUID] = list(
        Payment.objects.filter(
            state__in=UNFINISHED_STATES, updated_at__lt=cutoff, created_at__gte=now - dt.timedelta(days=POLL_DAYS)
        )
        .exclude(provider_id="")
        .order_by("updated_at")
        .values_list("id", flat=True)[:batch]
    )
    for payment_id in ids:
        try:
            payment_refresh(payment_id=payment_id)
        except (errors.PaymentProviderUnavailableError, errors.PaymentProviderRefusedError) as error:
            logger.warning("payments.payment.refresh_failed", payment_id=str(payment_id), code=error.code)
    return len(ids)

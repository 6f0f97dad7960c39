"""Refunds from casework: give back part or all of a successful payment, at most what is left.

:func:`refund_create` is the one write (the staff page and any future API
call it):

1. In one transaction, with the payment's row locked (so two staff members
   refunding at the same moment are serialised): check that the payment
   succeeded, that the amount is a whole number of pence between 1 and what
   is left (the amount minus every refund not in ``error``), record a
   :class:`~govserve.payments.models.Refund` (``submitted``), its ledger row
   (``refund_requested``) and the audit entry.
2. Outside any transaction (a slow provider never holds the lock): ask the
   provider to refund, sending ``refund_amount_available`` = what was left
   before this refund. The provider refuses (GOV.UK Pay: 412 ``P0604``) when
   its own figure differs: a refund made meanwhile elsewhere (Pay's admin
   tool, a second operator whose request reached Pay first) is never
   repeated. So of two concurrent refunds of the same money exactly one
   succeeds.
3. In a second transaction: record the provider's id and state (ledger
   ``refund_changed``). A refusal or an unreachable provider marks the
   refund ``error`` (ledger and audit say why) and raises a typed error whose
   message tells the staff member what to do. An unreachable provider may
   still have made the refund: a retry then meets the
   ``refund_amount_available`` guard, and the reconciliation report shows
   the provider's refunded total beside ours.

:func:`refunds_refresh` asks the provider about submitted refunds (refund
webhooks, the reconciliation run) and applies their state.

Who may refund: holders of the ``finance`` role or administrators of the
institution that owns the application's service (:func:`refund_allowed`).
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

import structlog
from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from govserve.accounts import policies
from govserve.accounts.models import PlatformRole, User
from govserve.audit.actors import Actor
from govserve.audit.events import register_event
from govserve.audit.services import audit_record
from govserve.core.errors import PermissionDeniedError, ValidationError
from govserve.journeys.models import FeeStatus
from govserve.payments import errors
from govserve.payments.models import LedgerKind, Payment, PaymentTransaction, Refund
from govserve.payments.providers.base import RefundState
from govserve.payments.providers.registry import provider_named

logger = structlog.get_logger(__name__)

FINANCE_ROLE = "finance"
REASON_MAX = 500
SUBJECT = "payments.refund"

register_event(
    "payments.refund.requested",
    description="A staff member asked for a refund (details: payment, amount, available before).",
)
register_event(
    "payments.refund.changed",
    description="A refund's state changed as the provider reported (details: from, to, provider code).",
)


def refund_allowed(user: User | Any, payment: Payment) -> bool:
    """Return whether ``user`` may refund ``payment`` (finance role or administrator of the service's owner)."""
    institution = payment.application.service.owning_institution
    return policies.can_act_in_role(user, institution, FINANCE_ROLE) or policies.can_act_in_role(
        user, institution, PlatformRole.ADMINISTRATOR
    )


def refundable_minor(payment: Payment) -> int:
    """Return what is left to refund of ``payment`` by our ledger (its amount less refunds not in error)."""
    if not payment.succeeded:
        return 0
    given = Refund.objects.filter(payment=payment).exclude(state=RefundState.ERROR).aggregate(total=Sum("amount_minor"))
    return payment.amount_minor - int(given["total"] or 0)


def _fees_refunded_spread(payment: Payment) -> None:
    """Spread the payment's refunds not in error over the fees it paid: those with a refund due first.

    Called in the transaction that creates a refund or changes its state, so
    each fee's ``refunded_minor`` always agrees with the refunds: the file's
    fees then show what is still to refund after a changed application
    (``refund_due_minor - refunded_minor``) and what was given back. A refund
    that fails gives its share back to the fees. Recomputed from every refund
    of the payment, so the result does not depend on the order of events.
    """
    left = payment.amount_minor - refundable_minor(payment)
    fees = sorted(
        payment.fees.select_for_update().filter(status=FeeStatus.PAID),
        key=lambda fee: (-(fee.refund_due_minor > 0), fee.id),
    )
    for fee in fees:
        share = min(left, fee.amount_minor)
        left -= share
        if fee.refunded_minor != share:
            fee.refunded_minor = share
            fee.save(update_fields=["refunded_minor"])


def _ledger(refund: Refund, kind: str, *, actor: Actor, provider_state: str = "", details: dict[str, Any]) -> None:
    payment = refund.payment
    PaymentTransaction.objects.create(
        payment=payment,
        refund=refund,
        kind=kind,
        amount_minor=refund.amount_minor,
        currency=payment.currency,
        state=payment.state,
        provider_state=provider_state,
        actor=f"{actor.kind}:{actor.id}"[:80],
        details=details,
    )


def refund_create(*, payment_id: uuid.UUID, amount_minor: int, reason: str, user: User) -> Refund:
    """Refund ``amount_minor`` of the payment (module docstring); return the refund as the provider left it.

    Raise PaymentNotFoundError (no such payment), PermissionDeniedError (not
    finance staff of the service's owner), ValidationError (amount or reason
    unusable), RefundNotPossibleError (the payment did not succeed, the amount
    is over what is left, or the provider's available amount differs: nothing
    refunded) and PaymentProviderUnavailableError (the refund is marked
    ``error``). Audited (``payments.refund.requested``, ``payments.refund.changed``).
    """
    reason = (reason or "").strip()
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int) or amount_minor < 1:
        raise ValidationError(_("Enter an amount to refund of at least 1p"), errors={"amount": "min"})
    if not reason or len(reason) > REASON_MAX:
        raise ValidationError(
            _("Enter the reason for the refund, in %(max)s characters or fewer") % {"max": REASON_MAX},
            errors={"reason": "required"},
        )
    actor = Actor.for_user(user)
    with transaction.atomic():
        payment = (
            Payment.objects.select_for_update()
            .select_related("application__service__owning_institution")
            .filter(pk=payment_id)
            .first()
        )
        if payment is None:
            raise errors.PaymentNotFoundError(_("There is no such payment"))
        if not refund_allowed(user, payment):
            raise PermissionDeniedError(_("Only finance staff of the service's council can refund a payment"))
        if not payment.succeeded:
            raise errors.RefundNotPossibleError(_("Only a successful payment can be refunded"))
        available = refundable_minor(payment)
        if amount_minor > available:
            raise errors.RefundNotPossibleError(
                _("You can refund at most %(available)s: %(asked)s is more than is left of this payment")
                % {"available": _money(available), "asked": _money(amount_minor)},
                available_minor=available,
            )
        refund = Refund.objects.create(
            payment=payment,
            amount_minor=amount_minor,
            state=RefundState.SUBMITTED,
            reason=reason,
            requested_by=user,
            idempotency_key=f"refund-{payment.id}-{secrets.token_hex(12)}",
        )
        _fees_refunded_spread(payment)
        details = {"payment": str(payment.id), "amount_minor": amount_minor, "available_minor": available}
        _ledger(refund, LedgerKind.REFUND_REQUESTED, actor=actor, details=details)
        audit_record(
            actor=actor, action="payments.refund.requested", subject_type=SUBJECT, subject_id=refund.id, details=details
        )
    provider = provider_named(payment.provider)
    try:
        reported = provider.refund_create(
            payment.provider_id,
            amount_minor=amount_minor,
            refund_amount_available_minor=available,
            idempotency_key=refund.idempotency_key,
        )
    except errors.PaymentProviderRefusedError as error:
        code = str(error.extra.get("provider_code", ""))
        _refund_failed(refund, actor=actor, code=code)
        if code == "P0604":
            raise errors.RefundNotPossibleError(
                _(
                    "The payment service says the amount left to refund has changed (another refund was made): "
                    "nothing was refunded. Check the payment's refunds before trying again."
                ),
                provider_code=code,
            ) from error
        raise errors.RefundNotPossibleError(
            _("The payment service refused the refund (%(code)s): nothing was refunded.") % {"code": code},
            provider_code=code,
        ) from error
    except errors.PaymentProviderUnavailableError as error:
        _refund_failed(refund, actor=actor, code=error.code)
        raise errors.PaymentProviderUnavailableError(
            _(
                "The payment service could not be reached. The refund is marked as failed; try again later "
                "(a refund that reached the payment service is never made twice)."
            ),
            provider_code=str(error.extra.get("provider_code", "")),
        ) from error
    return _refund_state_apply(refund, provider_id=reported.provider_id, state=reported.state, actor=actor)


def _money(amount_minor: int) -> str:
    return f"£{amount_minor // 100:,}.{amount_minor % 100:02d}"


def _refund_failed(refund: Refund, *, actor: Actor, code: str) -> None:
    logger.warning("payments.refund.failed", refund_id=str(refund.id), code=code)
    _refund_state_apply(refund, provider_id="", state=RefundState.ERROR, actor=actor, code=code)


def _refund_state_apply(
    refund: Refund, *, provider_id: str, state: RefundState, actor: Actor, code: str = ""
) -> Refund:
    """Record the provider's id and the refund's new state (one ledger row and audit entry per change)."""
    with transaction.atomic():
        locked = Refund.objects.select_for_update().select_related("payment").get(pk=refund.pk)
        previous = locked.state
        if provider_id and not locked.provider_id:
            locked.provider_id = provider_id
            locked.save(update_fields=["provider_id", "updated_at"])
        if previous == state.value and not code:
            return locked
        if previous in {RefundState.SUCCESS, RefundState.ERROR} and previous != state.value and not code:
            logger.warning("payments.refund.finished_state_reported", refund_id=str(locked.id), provider=state.value)
            return locked
        locked.state = state.value
        locked.save(update_fields=["state", "updated_at"])
        _fees_refunded_spread(locked.payment)
        details = {"from": previous, "to": state.value, "provider_code": code, "provider_id": locked.provider_id}
        _ledger(locked, LedgerKind.REFUND_CHANGED, actor=actor, provider_state=state.value, details=details)
        audit_record(
            actor=actor, action="payments.refund.changed", subject_type=SUBJECT, subject_id=locked.id, details=details
        )
    return locked


def refunds_refresh(*, payment: Payment, actor: Actor) -> list[Refund]:
    """Ask the provider about the payment's submitted refunds and apply their states; return those now finished.

    Idempotent. Provider errors on one refund are logged and the others go on.
    """
    provider = provider_named(payment.provider)
    refreshed = []
    for refund in Refund.objects.filter(payment=payment, state=RefundState.SUBMITTED).exclude(provider_id=""):
        try:
            reported = provider.refund_get(payment.provider_id, refund.provider_id)
        except (errors.PaymentProviderUnavailableError, errors.PaymentProviderRefusedError) as error:
            logger.warning("payments.refund.refresh_failed", refund_id=str(refund.id), code=error.code)
            continue
        refreshed.append(
            _refund_state_apply(refund, provider_id=reported.provider_id, state=reported.state, actor=actor)
        )
    return refreshed

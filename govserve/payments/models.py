"""Payments, their append-only ledger, refunds, and the built-in sandbox provider's own state.

A :class:`Payment` is one attempt to collect the fees of one application due
at one moment (``paid_when``: before submission, after a decision, on
collection). An attempt that fails, is cancelled or errors stays as it is (the
applicant tries again with a new attempt); at most one attempt per
(application, ``paid_when``) is unfinished at a time and at most one succeeds
(partial unique constraints). ``state`` is GOV.UK Pay's vocabulary
(:class:`~govserve.payments.providers.base.PaymentState`), applied only from
what the provider reports (``payment_get``), never from the return redirect.

:class:`PaymentTransaction` is the ledger: one row per thing that happened to
the money (attempt created, provider state applied, fees settled, refund
requested or changed, reconciliation adjustment), with the provider's raw
state. Rows are never changed: a database trigger refuses UPDATE whatever the
caller (DELETE is left to PROTECT foreign keys, as for the catalogue's
versions, because SQLite's test flush deletes row by row). At most one
``settled`` row per payment: a fee is never settled twice.

:class:`SandboxPayment` and :class:`SandboxRefund` are the built-in sandbox
provider's state (``payments/providers/sandbox.py``), kept in the database so
that it survives restarts and works across web processes.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from govserve.core import clock
from govserve.core.models import BaseModel
from govserve.payments.providers.base import FINISHED_STATES, PaymentState, RefundState

STATE_CHOICES = [(state.value, state.value) for state in PaymentState]
UNFINISHED_STATES = [state.value for state in PaymentState if state not in FINISHED_STATES]


class PaidWhen(models.TextChoices):
    """When a fee is paid (the definition's ``fees[].paid``)."""

    BEFORE_SUBMISSION = "before_submission", _("Before the application is sent")
    AFTER_DECISION = "after_decision", _("After a decision")
    ON_COLLECTION = "on_collection", _("On collection")


class Payment(BaseModel):
    """One attempt to collect the fees of ``application`` due ``paid_when`` (module docstring).

    ``idempotency_key`` is sent to the provider with the create request (a
    retried create returns the same provider payment); ``return_token`` is
    the random part of the return URL (the provider sends the applicant back
    to ``/payments/return/<return_token>``). ``fees`` are the
    :class:`~govserve.journeys.models.ApplicationFee` rows this attempt
    settles when it succeeds.
    """

    application = models.ForeignKey("journeys.Application", on_delete=models.PROTECT, related_name="payments")
    fees = models.ManyToManyField("journeys.ApplicationFee", related_name="payments", blank=True)
    paid_when = models.CharField(max_length=32, choices=PaidWhen.choices)
    reference = models.CharField(max_length=16, help_text="The application's reference (shown to the provider).")
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    language = models.CharField(max_length=8, default="en")
    provider = models.CharField(max_length=32, help_text="The provider's name: sandbox, govuk_pay.")
    provider_id = models.CharField(max_length=64, blank=True, default="")
    state = models.CharField(max_length=16, choices=STATE_CHOICES, default=PaymentState.CREATED.value)
    idempotency_key = models.CharField(max_length=100, unique=True)
    return_token = models.CharField(max_length=64, unique=True)
    next_url = models.TextField(blank=True, default="")
    card_brand = models.CharField(max_length=32, blank=True, default="")
    last_digits = models.CharField(max_length=4, blank=True, default="")
    failure_code = models.CharField(max_length=32, blank=True, default="")
    failure_message = models.CharField(max_length=300, blank=True, default="")
    finished_at = models.DateTimeField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True, help_text="When the fees were marked paid.")

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["state", "created_at"], name="payments_payment_state_idx"),
            models.Index(fields=["application", "paid_when"], name="payments_payment_app_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="payments_payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(state__in=[state.value for state in PaymentState]), name="payments_payment_state_valid"
            ),
            models.CheckConstraint(condition=Q(paid_when__in=PaidWhen.values), name="payments_payment_paid_when_valid"),
            models.CheckConstraint(
                condition=Q(settled_at__isnull=True) | Q(state=PaymentState.SUCCESS.value),
                name="payments_payment_settled_only_when_success",
            ),
            models.UniqueConstraint(
                fields=["application", "paid_when"],
                condition=Q(state=PaymentState.SUCCESS.value),
                name="payments_payment_one_success_per_fee_set",
            ),
            models.UniqueConstraint(
                fields=["application", "paid_when"],
                condition=Q(state__in=UNFINISHED_STATES),
                name="payments_payment_one_unfinished_per_fee_set",
            ),
            models.UniqueConstraint(
                fields=["provider", "provider_id"],
                condition=~Q(provider_id=""),
                name="payments_payment_provider_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"payment {self.reference} {self.amount_minor} {self.currency} ({self.state})"

    @property
    def is_finished(self) -> bool:
        """Return whether the provider reported a final state."""
        return PaymentState(self.state).finished

    @property
    def succeeded(self) -> bool:
        """Return whether the money was taken."""
        return self.state == PaymentState.SUCCESS


class LedgerKind(models.TextChoices):
    """What a ledger row records."""

    CREATED = "created", "Attempt created"
    PROVIDER_CREATED = "provider_created", "Created at the provider"
    STATE_CHANGED = "state_changed", "Provider state applied"
    SETTLED = "settled", "Fees settled"
    REFUND_REQUESTED = "refund_requested", "Refund requested"
    REFUND_CHANGED = "refund_changed", "Refund state applied"
    ADJUSTMENT = "adjustment", "Reconciliation adjustment"


class PaymentTransaction(models.Model):
    """One ledger row (module docstring): never updated (database trigger), never deleted (PROTECT).

    ``amount_minor`` is the money the row is about (the payment's amount, a
    refund's amount, an adjustment's difference: may be negative only for an
    adjustment); ``state`` our state after the row; ``provider_state`` the
    provider's raw state string; ``actor`` an audit actor text
    (``system:payments``, ``citizen:<id>``, ``user:<id>``), never a name.
    """

    id = models.BigAutoField(primary_key=True)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="transactions")
    refund = models.ForeignKey(
        "payments.Refund", on_delete=models.PROTECT, null=True, blank=True, related_name="transactions"
    )
    kind = models.CharField(max_length=32, choices=LedgerKind.choices)
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    state = models.CharField(max_length=16, blank=True, default="")
    provider_state = models.CharField(max_length=32, blank=True, default="")
    actor = models.CharField(max_length=80)
    details = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["occurred_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=LedgerKind.values), name="payments_ledger_kind_valid"),
            models.CheckConstraint(
                condition=Q(amount_minor__gte=0) | Q(kind=LedgerKind.ADJUSTMENT),
                name="payments_ledger_amount_not_negative",
            ),
            models.UniqueConstraint(
                fields=["payment"], condition=Q(kind=LedgerKind.SETTLED), name="payments_ledger_one_settlement"
            ),
        ]

    def __str__(self) -> str:
        return f"ledger {self.kind} {self.amount_minor} {self.currency} of {self.payment_id}"


REFUND_STATE_CHOICES = [(state.value, state.value) for state in RefundState]


class Refund(BaseModel):
    """Money given back from a successful payment (casework; ``payments/refunds.py``).

    ``requested_by`` is the staff member who asked; ``reason`` is theirs (shown
    to finance staff, never to the provider); ``idempotency_key`` is sent to the
    provider so a retried request refunds once.
    """

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount_minor = models.BigIntegerField()
    state = models.CharField(max_length=16, choices=REFUND_STATE_CHOICES, default=RefundState.SUBMITTED.value)
    reason = models.CharField(max_length=500)
    requested_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="payment_refunds"
    )
    provider_id = models.CharField(max_length=64, blank=True, default="")
    idempotency_key = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="payments_refund_amount_positive"),
            models.CheckConstraint(
                condition=Q(state__in=[state.value for state in RefundState]), name="payments_refund_state_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"refund {self.amount_minor} of {self.payment_id} ({self.state})"


# --- The built-in sandbox provider's state ------------------------------------------------------------


class SandboxPayment(models.Model):
    """A payment held by the built-in sandbox provider (the "provider side"; never read by the domain).

    ``id`` is the provider id: random and unguessable, because it is also the
    address of the sandbox's hosted payment page.
    """

    id = models.CharField(primary_key=True, max_length=64)
    idempotency_key = models.CharField(max_length=100, unique=True)
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    reference = models.CharField(max_length=64)
    description = models.CharField(max_length=255)
    return_url = models.TextField()
    language = models.CharField(max_length=8, default="en")
    metadata = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=16, choices=STATE_CHOICES, default=PaymentState.CREATED.value)
    failure_code = models.CharField(max_length=32, blank=True, default="")
    failure_message = models.CharField(max_length=300, blank=True, default="")
    card_brand = models.CharField(max_length=32, blank=True, default="")
    last_digits = models.CharField(max_length=4, blank=True, default="")
    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="payments_sandbox_amount_positive"),
            models.CheckConstraint(
                condition=Q(state__in=[state.value for state in PaymentState]), name="payments_sandbox_state_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"sandbox payment {self.id} ({self.state})"


class SandboxRefund(models.Model):
    """A refund held by the sandbox provider (succeeds at once)."""

    id = models.CharField(primary_key=True, max_length=64)
    payment = models.ForeignKey(SandboxPayment, on_delete=models.PROTECT, related_name="refunds")
    idempotency_key = models.CharField(max_length=100, unique=True)
    amount_minor = models.BigIntegerField()
    state = models.CharField(max_length=16, choices=REFUND_STATE_CHOICES, default=RefundState.SUCCESS.value)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="payments_sandbox_refund_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"sandbox refund {self.id} of {self.payment_id}"

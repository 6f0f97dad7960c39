"""Audit event types of payments (imported by PaymentsConfig.ready)."""

from govserve.audit.events import register_event

register_event(
    "payments.payment.started",
    description="An applicant started paying (details: payment id, amount, provider, reused or new attempt).",
)
register_event(
    "payments.payment.state_changed",
    description="The provider reported a new state for a payment (details: from, to, failure code).",
)
register_event(
    "payments.payment.succeeded",
    description="A payment succeeded and settled its fees (details: amount, fees, application status).",
)
register_event(
    "payments.payment.mismatch",
    description="The provider reported an amount or reference other than the payment's: nothing settled.",
)

"""Where service events reach notifications: handlers registered on journeys' and casework's hooks.

Notifications sits below journeys and casework in the dependency order, so
they never call it: :func:`register` (from the app's ``ready``) adds these
handlers to their hooks, which run inside the business transaction (the
messages commit with the change, or not at all).

| event | where from | channels |
|---|---|---|
| ``submitted`` | journeys ``application_submitted`` hook | text message (the confirmation email is journeys' own) |
| ``sent_back`` | casework case event ``sent_back`` | email, text message |
| ``decision_made`` | casework case event ``file_closed`` (approved or rejected) | email, text message |
| ``message_received`` | casework case event ``message_sent`` by staff | email, text message |
| ``draft_expiring`` | the ``notifications.drafts.expiring`` schedule | email, text message |
| ``result_issued`` | casework-results' ``result_ready`` hook (the result's PDF is stored) | email, text message |
| ``payment_received`` | payments' ``payment_received`` hook (a payment succeeded) | email, text message |
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from govserve.casework.hooks import case_event_hook_register, deliveries_provider_register
from govserve.casework.models import CaseEventKind, FileOutcome, MessageSender
from govserve.casework.results.hooks import result_ready_hook_register
from govserve.casework.selectors import decision_reason_for_applicant
from govserve.catalogue.errors import ServiceNotFoundError, VersionNotFoundError
from govserve.journeys.fields.formats import format_money
from govserve.journeys.hooks import application_submitted_hook_register
from govserve.journeys.models import ApplicationStatus
from govserve.journeys.selectors import compiled_for
from govserve.notifications.selectors import DeliveryRecord, application_deliveries
from govserve.notifications.services import (
    notification_language,
    service_event_notifies,
    service_notification_send,
)
from govserve.payments.hooks import payment_received_hook_register

if TYPE_CHECKING:
    from govserve.casework.models import CaseEvent
    from govserve.casework.results.hooks import ResultReady
    from govserve.journeys.models import Application
    from govserve.payments.models import Payment

_EVENT_OF_KIND: dict[str, str] = {
    CaseEventKind.SENT_BACK: "sent_back",
    CaseEventKind.FILE_CLOSED: "decision_made",
    CaseEventKind.MESSAGE_SENT: "message_received",
}
DECISION_WORDS = {
    "en": {FileOutcome.APPROVED: "approved", FileOutcome.REJECTED: "rejected"},
    "cy": {FileOutcome.APPROVED: "cymeradwyo", FileOutcome.REJECTED: "gwrthod"},
}


def on_application_submitted(application: Application) -> None:
    """Send the ``submitted`` text message (the email is journeys' confirmation)."""
    if application.status in {ApplicationStatus.SUBMITTED, ApplicationStatus.AWAITING_PAYMENT}:
        service_notification_send(application, "submitted", channels=("sms",))


def _reason(event: CaseEvent) -> str:
    """Return the reason given with the decision behind ``event`` ("" when none)."""
    return decision_reason_for_applicant(event)


def on_case_event(event: CaseEvent) -> None:
    """Send the notification an applicant-visible case event means, if any."""
    application = event.case_file.application
    occurrence = str(event.id)
    event_name = _EVENT_OF_KIND.get(event.kind)
    if event_name is None or not service_event_notifies(application, event_name):
        return  # nothing to send: no reason to read, no answers to open
    if event.kind == CaseEventKind.SENT_BACK:
        service_notification_send(application, "sent_back", context={"reason": _reason(event)}, occurrence=occurrence)
    elif event.kind == CaseEventKind.FILE_CLOSED:
        outcome = str(event.details.get("outcome", ""))
        words = DECISION_WORDS["cy" if _language(application) == "cy" else "en"]
        if outcome in words:
            service_notification_send(
                application,
                "decision_made",
                context={"decision": words[FileOutcome(outcome)], "reason": _reason(event)},
                occurrence=occurrence,
            )
    elif event.kind == CaseEventKind.MESSAGE_SENT and event.details.get("sender") == MessageSender.STAFF:
        service_notification_send(application, "message_received", occurrence=occurrence)


def _language(application: Application) -> str:
    """Return the language the applicant is written to in (their own if the service offers it)."""
    try:
        return notification_language(application, compiled_for(application))
    except (ServiceNotFoundError, VersionNotFoundError):
        return "en"


def on_result_ready(ready: ResultReady) -> None:
    """Send ``result_issued`` once a result can be downloaded, once per result."""
    application = ready.application
    language = _language(application)
    service_notification_send(
        application,
        "result_issued",
        context={"result_name": ready.result_name(language), "verify_link": ready.verify_url},
        occurrence=str(ready.result_id),
    )


def on_payment_received(payment: Payment) -> None:
    """Send ``payment_received`` once per successful payment (``((amount))`` as the pages show it).

    When the definition has a ``payment_received`` email, it is the applicant's receipt (payments
    then sends none of its own: govserve.payments.receipts).
    """
    application = payment.application
    if not service_event_notifies(application, "payment_received"):
        return
    service_notification_send(
        application,
        "payment_received",
        context={"amount": format_money(payment.amount_minor, payment.currency)},
        occurrence=str(payment.id),
    )


def deliveries_of(application: Application) -> list[DeliveryRecord]:
    """Return the delivery records of ``application`` (for casework's file page, after its permission check)."""
    return application_deliveries(crypto_owner=application.crypto_owner)


def register() -> None:
    """Add the handlers to journeys' and casework's hooks (idempotent; the app's ``ready``).

    The delivery records are listed on casework's staff file view (``FileView.deliveries``).
    """
    application_submitted_hook_register(on_application_submitted)
    case_event_hook_register(on_case_event)
    deliveries_provider_register(deliveries_of)
    result_ready_hook_register(on_result_ready)
    payment_received_hook_register(on_payment_received)

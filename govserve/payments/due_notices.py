"""The "you now need to pay" email: fees that become due when the application is approved.

A fee whose definition says ``paid: after_decision`` or ``paid: on_collection``
can be paid online once the application is approved (the application page
shows "Pay £X now"). On the final approval casework runs its approved hooks
inside the decision's transaction; payments registers :func:`fees_due_notify`
there (``PaymentsConfig.ready``), which queues one email per kind of fee due
(outbox, idempotency key ``payments.fee_due:<application>:<paid_when>``) with
the fees, the amount and the link to pay, in the applicant's language.

Payments owns the template (``payments.fee_due``, English and Welsh below):
the definitions' ``notifications`` have no event for a fee becoming due, so
there is no service template to prefer (unlike the receipt and
``payment_received``). Nothing is sent when the applicant gave no address.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.urls import reverse

from govserve.journeys.fields.formats import format_money
from govserve.journeys.models import Application
from govserve.journeys.selectors import compiled_for
from govserve.journeys.services import applicant_email
from govserve.notifications.email import EmailTemplate, email_send, email_template_lookup_register
from govserve.payments.models import PaidWhen
from govserve.payments.selectors import fee_lines
from govserve.payments.services import fees_due

if TYPE_CHECKING:
    from govserve.audit.actors import Actor

FEE_DUE_TEMPLATE = "payments.fee_due"
NOTIFIED_WHEN = (PaidWhen.AFTER_DECISION, PaidWhen.ON_COLLECTION)
_TEXT = {
    "en": {
        "subject": "Pay ((amount)) for your application ((reference))",
        "body": (
            "Your application for ((service_name)) has been approved. Your reference is ((reference)).\n\n"
            "You now need to pay ((amount)):\n\n"
            "((fees))\n\n"
            "((on_collection??You can pay when you collect it, or pay online now at:))"
            "((after_decision??Pay online at:))\n\n"
            "((pay_url))\n"
        ),
    },
    "cy": {
        # Welsh text: to be reviewed by a Welsh speaker (docs/payments.md).
        "subject": "Talwch ((amount)) am eich cais ((reference))",
        "body": (
            "Mae eich cais am ((service_name)) wedi cael ei gymeradwyo. Eich cyfeirnod yw ((reference)).\n\n"
            "Mae angen i chi dalu ((amount)) nawr:\n\n"
            "((fees))\n\n"
            "((on_collection??Gallwch dalu pan fyddwch yn ei gasglu, neu dalu ar-lein nawr yn:))"
            "((after_decision??Talwch ar-lein yn:))\n\n"
            "((pay_url))\n"
        ),
    },
}


def fee_due_template(name: str, language: str) -> EmailTemplate | None:
    """Return the template ``payments.fee_due`` in ``language`` (None for other names)."""
    if name != FEE_DUE_TEMPLATE:
        return None
    chosen = "cy" if language == "cy" else "en"
    return EmailTemplate.from_text(
        name=name, language=chosen, subject=_TEXT[chosen]["subject"], body=_TEXT[chosen]["body"], origin="platform"
    )


def pay_url(application: Application, paid_when: str) -> str:
    """Return the absolute address of the page that pays ``application``'s fees due ``paid_when``."""
    path = reverse("payments:start", args=[application.id])
    return f"{settings.PUBLIC_BASE_URL}{path}?when={paid_when}"


def fees_due_notify(application: Application, /, *, actor: Actor) -> None:
    """Queue the "you now need to pay" email for each kind of fee now due (casework's approved hook)."""
    del actor  # the email is the platform's, whoever approved
    recipient = applicant_email(application)
    if recipient is None:
        return
    language = "cy" if application.language == "cy" else "en"
    for paid_when in NOTIFIED_WHEN:
        due = fees_due(application, paid_when)
        if due is None:
            continue
        lines = fee_lines(application, due.fees, language)
        email_send(
            to=recipient,
            template=FEE_DUE_TEMPLATE,
            context={
                "service_name": compiled_for(application).definition.title.get(language),
                "reference": application.reference,
                "amount": format_money(due.total_minor, due.currency),
                "fees": "\n".join(f"* {line.name}: {format_money(line.amount_minor, line.currency)}" for line in lines),
                "on_collection": "yes" if paid_when == PaidWhen.ON_COLLECTION else "no",
                "after_decision": "yes" if paid_when == PaidWhen.AFTER_DECISION else "no",
                "pay_url": pay_url(application, paid_when),
            },
            language=language,
            idempotency_key=f"payments.fee_due:{application.id}:{paid_when}",
            owner=application.crypto_owner,
            purpose="payment_due",
        )


def register() -> None:
    """Serve the template to the email kernel and ask casework to call us on approval (the app's ``ready``)."""
    from govserve.casework.hooks import file_approved_hook_register  # noqa: PLC0415

    email_template_lookup_register(fee_due_template)
    file_approved_hook_register(fees_due_notify)

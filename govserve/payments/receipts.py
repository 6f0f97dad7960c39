"""The applicant's receipt email, queued in the transaction that settles the payment (outbox).

Payments owns its template (``payments.receipt``, English and Welsh below),
served to the platform email kernel through a template lookup registered in
the app's ``ready``. When the service's definition has its own
``payment_received`` email, that one is the receipt (notifications sends it
from the ``payment_received`` hook, with ``((amount))``) and this one is not
sent: the applicant gets one email per payment, never two.
"""

from __future__ import annotations

from django.urls import reverse

from govserve.catalogue.definitions import schema
from govserve.catalogue.errors import ServiceNotFoundError, VersionNotFoundError
from govserve.journeys.fields.formats import format_date, format_money
from govserve.journeys.models import Application
from govserve.journeys.selectors import compiled_for
from govserve.journeys.services import applicant_email
from govserve.notifications.email import EmailTemplate, email_send, email_template_lookup_register
from govserve.payments.models import Payment

RECEIPT_TEMPLATE = "payments.receipt"
_TEXT = {
    "en": {
        "subject": "Payment received - ((service_name)) - reference ((reference))",
        "body": (
            "We have received your payment of ((amount)) for ((service_name)).\n\n"
            "Application reference: ((reference))\n"
            "Payment reference: ((payment_reference))\n"
            "Date: ((paid_on))\n"
            "((has_card??Paid by card ending ))((card))\n\n"
            "Keep this email as your receipt. You can see your receipt and follow your application at:\n\n"
            "((receipt_url))\n"
        ),
    },
    "cy": {
        # Welsh text: to be reviewed by a Welsh speaker (docs/payments.md).
        "subject": "Taliad wedi dod i law - ((service_name)) - cyfeirnod ((reference))",
        "body": (
            "Rydym wedi cael eich taliad o ((amount)) am ((service_name)).\n\n"
            "Cyfeirnod y cais: ((reference))\n"
            "Cyfeirnod y taliad: ((payment_reference))\n"
            "Dyddiad: ((paid_on))\n"
            "((has_card??Talwyd gyda cherdyn yn gorffen â ))((card))\n\n"
            "Cadwch yr e-bost hwn fel eich derbynneb. Gallwch weld eich derbynneb a dilyn eich cais yn:\n\n"
            "((receipt_url))\n"
        ),
    },
}


def receipt_template(name: str, language: str) -> EmailTemplate | None:
    """Return the receipt template for ``name`` ``payments.receipt`` (None for other names)."""
    if name != RECEIPT_TEMPLATE:
        return None
    chosen = "cy" if language == "cy" else "en"
    return EmailTemplate.from_text(
        name=name, language=chosen, subject=_TEXT[chosen]["subject"], body=_TEXT[chosen]["body"], origin="platform"
    )


def register() -> None:
    """Make the receipt template available to the email kernel (idempotent; the app's ``ready``)."""
    email_template_lookup_register(receipt_template)


def payment_reference(payment: Payment) -> str:
    """Return the short reference of a payment shown to the applicant (the first 8 hex digits of its id)."""
    return payment.id.hex[:8].upper()


def _service_email(application: Application) -> bool:
    try:
        templates = compiled_for(application).definition.notifications.payment_received
    except (ServiceNotFoundError, VersionNotFoundError):
        return False
    return isinstance(templates, schema.EventTemplates) and templates.email is not None


def receipt_send(payment: Payment, application: Application) -> None:
    """Queue the receipt email (module docstring); nothing when there is no address. Call inside the transaction."""
    recipient = applicant_email(application)
    if recipient is None or _service_email(application):
        return
    language = "cy" if payment.language == "cy" else "en"
    title = compiled_for(application).definition.title.get(language)
    paid_on = (payment.settled_at or payment.updated_at).date()
    email_send(
        to=recipient,
        template=RECEIPT_TEMPLATE,
        context={
            "service_name": title,
            "reference": application.reference,
            "payment_reference": payment_reference(payment),
            "amount": format_money(payment.amount_minor, payment.currency),
            "paid_on": format_date(paid_on, language),
            "has_card": "yes" if payment.last_digits else "no",
            "card": payment.last_digits,
            "receipt_url": _receipt_url(payment),
        },
        language=language,
        idempotency_key=f"payments.receipt:{payment.id}",
        owner=application.crypto_owner,
        purpose="payment_receipt",
    )


def _receipt_url(payment: Payment) -> str:
    from django.conf import settings  # noqa: PLC0415 - read when sending, never at import

    return f"{settings.PUBLIC_BASE_URL}{reverse('payments:receipt', args=[payment.id])}"

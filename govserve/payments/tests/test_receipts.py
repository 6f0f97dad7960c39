"""The receipt after a successful payment: payments' own email, or the definition's payment_received one, never both."""

from __future__ import annotations

import pytest

from govserve.journeys.tests.support import STREET_TRADING, applicant, citizen_new, example_text, publish_text
from govserve.notifications.email import FIELD_BODY, FIELD_RECIPIENT, FIELD_SUBJECT
from govserve.notifications.models import OutboundEmail
from govserve.payments import services
from govserve.payments.models import Payment
from govserve.payments.tests.support import pay_in_sandbox, trading_awaiting_payment
from govserve.privacy.crypto import unseal_text

pytestmark = pytest.mark.usefixtures("examples")

PAYMENT_RECEIVED = """  payment_received:
    email:
      subject:
        en: "Payment received: ((reference))"
        cy: "Taliad wedi dod i law: ((reference))"
      body:
        en: "Thank you: we have received ((amount)) for your street trading licence."
        cy: "Diolch: rydym wedi cael ((amount)) am eich trwydded masnachu ar y stryd."
"""


def _email(email: OutboundEmail) -> tuple[str, str, str]:
    return (
        unseal_text(owner=email.owner, field=FIELD_RECIPIENT, sealed=bytes(email.recipient_sealed)),
        unseal_text(owner=email.owner, field=FIELD_SUBJECT, sealed=bytes(email.subject_sealed)),
        unseal_text(owner=email.owner, field=FIELD_BODY, sealed=bytes(email.body_sealed)),
    )


def _paid(language: str = "en") -> Payment:
    person = applicant(citizen_new(f"receipt-{language}@example.org"))
    application, person = trading_awaiting_payment(person)
    payment = services.payment_start(application_id=application.id, applicant=person, language=language)
    pay_in_sandbox(payment)
    return services.payment_refresh(payment_id=payment.id)


def test_the_receipt_email_gives_the_amount_references_and_card() -> None:
    # when
    payment = _paid()

    # then
    receipt = OutboundEmail.objects.get(idempotency_key=f"payments.receipt:{payment.id}")
    recipient, subject, body = _email(receipt)
    reference = payment.application.reference
    assert recipient == "receipt-en@example.org"
    assert subject == f"Payment received - Apply for a street trading licence - reference {reference}"
    assert "We have received your payment of £300 for Apply for a street trading licence." in body
    assert f"Application reference: {reference}" in body
    assert f"Payment reference: {payment.id.hex[:8].upper()}" in body
    assert "Paid by card ending 1111" in body
    assert f"http://testserver/payments/{payment.id}/receipt" in body


def test_the_receipt_email_in_welsh() -> None:
    # when
    payment = _paid("cy")

    # then
    _recipient, subject, body = _email(OutboundEmail.objects.get(idempotency_key=f"payments.receipt:{payment.id}"))
    assert subject.startswith("Taliad wedi dod i law - ")
    assert "Rydym wedi cael eich taliad o £300" in body
    assert "Talwyd gyda cherdyn yn gorffen â 1111" in body


def test_a_definition_with_its_own_payment_received_email_sends_that_one_only() -> None:
    # given version 2 of the service has a payment_received email
    # (inside the notifications section, wherever it is in the file: other sections follow it)
    text = example_text(STREET_TRADING).replace("notifications:\n", "notifications:\n" + PAYMENT_RECEIVED, 1)
    publish_text(text, f"{STREET_TRADING}.yaml")

    # when
    payment = _paid()

    # then
    emails = OutboundEmail.objects.filter(owner=payment.application.crypto_owner).exclude(
        purpose="submission_confirmation"
    )
    assert list(emails.values_list("purpose", flat=True)) == ["payment_received"]
    _recipient, subject, body = _email(emails.get())
    assert subject == f"Payment received: {payment.application.reference}"
    assert body.strip() == "Thank you: we have received £300 for your street trading licence."

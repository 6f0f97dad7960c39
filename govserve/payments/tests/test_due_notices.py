"""The "you now need to pay" email, queued when an approval makes a fee due (after the decision, on collection)."""

from __future__ import annotations

import datetime as dt

import pytest

from govserve.casework import services as casework
from govserve.casework.tests.support import newborn_submitted, open_task, staff, trading_paid
from govserve.core import clock
from govserve.journeys.models import Application, ApplicationStatus
from govserve.journeys.services import applicant_email
from govserve.notifications.email import FIELD_BODY, FIELD_RECIPIENT, FIELD_SUBJECT
from govserve.notifications.models import OutboundEmail
from govserve.privacy.crypto import unseal_text

pytestmark = pytest.mark.usefixtures("examples")

REGISTRAR = ("civil-registry", "registrar")
VISITOR = ("health-agency", "health-visitor")


def _newborn_approved(language: str = "en") -> Application:
    """Return a birth registration with two extra certificates (£25, paid on collection), approved by both roles."""
    application, _ = newborn_submitted()
    Application.objects.filter(pk=application.pk).update(language=language)
    casework.decision_record(
        user=staff(REGISTRAR),
        task_id=open_task(application).id,
        decision="approve",
        data={"register_entry_number": ["B-2026-000123"]},
    )
    visit = clock.now().date() + dt.timedelta(days=2)
    casework.decision_record(
        user=staff(VISITOR),
        task_id=open_task(application).id,
        decision="approve",
        data={
            "first_visit_date-day": [str(visit.day)],
            "first_visit_date-month": [str(visit.month)],
            "first_visit_date-year": [str(visit.year)],
        },
    )
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED
    return application


def _text(email: OutboundEmail) -> tuple[str, str, str]:
    return (
        unseal_text(owner=email.owner, field=FIELD_RECIPIENT, sealed=bytes(email.recipient_sealed)),
        unseal_text(owner=email.owner, field=FIELD_SUBJECT, sealed=bytes(email.subject_sealed)),
        unseal_text(owner=email.owner, field=FIELD_BODY, sealed=bytes(email.body_sealed)),
    )


@pytest.mark.parametrize(
    ("language", "subject", "lines"),
    [
        (
            "en",
            "Pay £25 for your application {reference}",
            [
                "has been approved. Your reference is {reference}.",
                "You now need to pay £25:",
                "* Extra birth certificates: £25",
                "You can pay when you collect it, or pay online now at:",
            ],
        ),
        (
            "cy",
            "Talwch £25 am eich cais {reference}",
            [
                "wedi cael ei gymeradwyo. Eich cyfeirnod yw {reference}.",
                "Mae angen i chi dalu £25 nawr:",
                "* Tystysgrifau geni ychwanegol: £25",
                "Gallwch dalu pan fyddwch yn ei gasglu, neu dalu ar-lein nawr yn:",
            ],
        ),
    ],
)
def test_an_approval_that_makes_a_fee_due_emails_the_amount_and_the_link_to_pay(
    language: str, subject: str, lines: list[str]
) -> None:
    # when
    application = _newborn_approved(language)

    # then
    [email] = OutboundEmail.objects.filter(owner=application.crypto_owner, purpose="payment_due")
    recipient, sent_subject, body = _text(email)
    assert email.language == language
    assert email.template == "payments.fee_due"
    assert recipient == applicant_email(application)
    assert recipient is not None
    assert sent_subject == subject.format(reference=application.reference)
    for line in lines:
        assert line.format(reference=application.reference) in body
    assert f"http://testserver/payments/apply/{application.id}/pay?when=on_collection" in body


def test_an_approval_without_a_fee_due_sends_no_payment_email() -> None:
    # given a street trading licence whose only fee was paid before submission
    application, _ = trading_paid()

    # when
    casework.decision_record(
        user=staff(("city-council", "licensing-officer")),
        task_id=open_task(application).id,
        decision="approve",
        data={"pitch_inspected": ["yes"]},
    )
    casework.decision_record(
        user=staff(("city-council", "licensing-manager")), task_id=open_task(application).id, decision="approve"
    )

    # then
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED
    assert not OutboundEmail.objects.filter(owner=application.crypto_owner, purpose="payment_due").exists()


def test_a_rejection_sends_no_payment_email() -> None:
    # given a birth registration with extra certificates to pay on collection
    application, _ = newborn_submitted()

    # when
    casework.decision_record(
        user=staff(REGISTRAR), task_id=open_task(application).id, decision="reject", reason="Not born here"
    )

    # then
    application.refresh_from_db()
    assert application.status == ApplicationStatus.REJECTED
    assert not OutboundEmail.objects.filter(owner=application.crypto_owner, purpose="payment_due").exists()

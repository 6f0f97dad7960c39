"""Issue 6's journey: a fee paid in the sandbox, the application sent and decided, the emails on a real SMTP server.

A street trading licence (its fee is paid before submission) is paid through
the applicant's pages and the sandbox's card form (the Django test client),
its file opens, a licensing officer and a licensing manager approve it
through casework's services, and the worker's jobs deliver the outbox to an
SMTP server on 127.0.0.1 (aiosmtpd, notifications' sink). What arrived is
asserted by subject and body, in English and in Welsh.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings as django_settings

from govserve.casework import services as casework
from govserve.casework.tests.support import open_task, staff
from govserve.core.jobs import run_pending
from govserve.journeys import services as journeys
from govserve.journeys.models import Application, ApplicationStatus
from govserve.journeys.tests.support import STREET_TRADING, Browser, applicant, citizen_new, sign_in
from govserve.journeys.tests.test_services import fill_trading, upload_required
from govserve.notifications.testing import ReceivedEmail, SmtpSink, smtp_sink
from govserve.payments.models import Payment
from govserve.payments.receipts import payment_reference
from govserve.payments.tests.support import sandbox_path

pytestmark = pytest.mark.usefixtures("examples")

OFFICER = ("city-council", "licensing-officer")
MANAGER = ("city-council", "licensing-manager")

EXPECTED = {
    "en": {
        "submitted": "Street trading licence application received: {reference}",
        "submitted_body": "We have received your application for a street trading licence.",
        "receipt": "Payment received - Apply for a street trading licence - reference {reference}",
        "receipt_body": "We have received your payment of £300 for Apply for a street trading licence.",
        "decision": "A decision on your street trading licence application {reference}",
        "decision_body": "Your application has been",
        "result": "Your street trading licence",
        "result_body": "Your Street trading licence is ready. Download it at",
        "card": "Paid by card ending 1111",
        "approved": "approved",
    },
    "cy": {
        "submitted": "Cais am drwydded masnachu ar y stryd wedi dod i law: {reference}",
        "submitted_body": "Rydym wedi derbyn eich cais am drwydded masnachu ar y stryd.",
        "receipt": "Taliad wedi dod i law - Gwneud cais am drwydded masnachu ar y stryd - cyfeirnod {reference}",
        "receipt_body": "Rydym wedi cael eich taliad o £300 am Gwneud cais am drwydded masnachu ar y stryd.",
        "decision": "Penderfyniad ar eich cais am drwydded masnachu ar y stryd {reference}",
        "decision_body": "Mae eich cais wedi cael ei",
        "result": "Eich trwydded masnachu ar y stryd",
        "result_body": "Mae eich Trwydded masnachu ar y stryd yn barod. Lawrlwythwch hi yn",
        "card": "Talwyd gyda cherdyn yn gorffen â 1111",
        "approved": "cymeradwyo",
    },
}


@pytest.fixture
def sink(settings: Any) -> Iterator[SmtpSink]:
    """A real SMTP server on loopback, configured as EMAIL_URL (notifications' sink)."""
    with smtp_sink() as running:
        settings.EMAIL_URL = running.url
        yield running


def _awaiting_payment(language: str, email: str) -> tuple[Application, Any]:
    citizen = citizen_new(email)
    person = applicant(citizen)
    application = journeys.application_start(service_id=STREET_TRADING, applicant=person, language=language).application
    fill_trading(application, person)
    upload_required(application, person, "public-liability-insurance")
    sent = journeys.application_submit(
        application_id=application.id,
        applicant=person,
        idempotency_key=f"end-to-end-{language}",
        declaration_accepted=True,
        language=language,
    ).application
    assert sent.status == ApplicationStatus.AWAITING_PAYMENT
    return sent, citizen


def _pay_through_the_pages(client: Browser, application: Application, language: str) -> Payment:
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = language
    start = f"/payments/apply/{application.id}/pay"
    assert client.get(start).status_code == 200
    client.post(start, {"when": "before_submission"})
    payment = Payment.objects.get(application=application, state="created")
    assert payment.language == language
    assert client.get(sandbox_path(payment)).status_code == 200  # the sandbox's card page
    paid = client.post(sandbox_path(payment), {"card-number": "4444 3333 2222 1111", "action": "pay"})
    back = client.get(paid["Location"].removeprefix("http://testserver"))
    assert client.get(back["Location"]).status_code == 200
    payment.refresh_from_db()
    assert payment.state == "success"
    return payment


def _by_subject(sink: SmtpSink) -> dict[str, ReceivedEmail]:
    # A subject longer than a line is folded right after "Subject:"; the parser keeps the fold's space.
    return {str(item.message["Subject"]).strip(): item for item in sink.received}


@pytest.mark.parametrize("language", ["en", "cy"])
def test_a_fee_paid_in_the_sandbox_then_sent_and_decided_emails_the_applicant_in_their_language(
    client: Browser, sink: SmtpSink, language: str
) -> None:
    # given: a street trading application waiting for its £300 fee, its applicant signed in
    address = f"trader-{language}@example.org"
    application, citizen = _awaiting_payment(language, address)
    sign_in(client, citizen)

    # when: paid in the sandbox, approved by the officer and the manager, and the worker runs
    payment = _pay_through_the_pages(client, application, language)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED
    run_pending()  # delivers what was queued so far
    officer, manager = staff(OFFICER), staff(MANAGER)
    casework.decision_record(
        user=officer, task_id=open_task(application).id, decision="approve", data={"pitch_inspected": ["yes"]}
    )
    casework.decision_record(user=manager, task_id=open_task(application).id, decision="approve", data={})
    run_pending()  # renders the licence, then delivers
    run_pending()

    # then
    text = EXPECTED[language]
    reference = application.reference
    received = _by_subject(sink)
    assert all(item.rcpt_tos == (address,) for item in sink.received)
    assert all(item.message["Content-Language"] == language for item in sink.received)

    submitted = received[text["submitted"].format(reference=reference)]
    assert text["submitted_body"] in submitted.body
    assert reference in submitted.body

    receipt = received[text["receipt"].format(reference=reference)]
    assert receipt.body.startswith(text["receipt_body"])
    assert payment_reference(payment) in receipt.body
    assert text["card"] in receipt.body
    assert f"http://testserver/payments/{payment.id}/receipt" in receipt.body

    decision = received[text["decision"].format(reference=reference)]
    assert f"{text['decision_body']} {text['approved']}." in decision.body

    result = received[text["result"]]
    assert result.body.startswith(text["result_body"])
    assert f"/applications/{application.id}/" in result.body

    # each message arrived once
    assert len(received) == len(sink.received)

"""Paying a fee with GOV.UK Pay end to end: the applicant's pages, Pay's hosted page (the fake, over HTTP), webhooks."""

from __future__ import annotations

import uuid

import httpx
import pytest

from govserve.journeys.models import Application, ApplicationStatus
from govserve.journeys.tests.support import Browser, sign_in
from govserve.payments.models import LedgerKind, Payment, PaymentTransaction
from govserve.payments.providers.fake_pay import CARD_DECLINED, CARD_SUCCESS, FakePay
from govserve.payments.tests.govuk_pay_support import WEBHOOK_PATH, pay_fixture  # noqa: F401 - fixture
from govserve.payments.tests.support import trading_awaiting_payment

pytestmark = pytest.mark.usefixtures("examples")


def _signed_in(client: Browser) -> Application:
    application, person = trading_awaiting_payment()
    assert person.citizen is not None
    sign_in(client, person.citizen)
    return application


def _pay_now(client: Browser, application_id: uuid.UUID) -> Payment:
    start = f"/payments/apply/{application_id}/pay"
    client.get(start)
    response = client.post(start, {"when": "before_submission"})
    payment = Payment.objects.get(application_id=application_id, state="created")
    assert response.status_code == 302
    assert response["Location"] == payment.next_url
    return payment


def _card_on_pays_page(payment: Payment, card: str) -> str:
    """Type ``card`` on Pay's hosted page (the fake's, over HTTP); return where Pay sends the person back."""
    assert httpx.get(payment.next_url).status_code == 200
    answer = httpx.post(payment.next_url, data={"card_number": card, "action": "pay"})
    assert answer.status_code == 303
    return str(answer.headers["Location"])


def _return_path(location: str) -> str:
    return location.removeprefix("http://127.0.0.1:8000")


def test_paid_with_pay_webhook_first_then_the_return_shows_it_paid_once(pay: FakePay, client: Browser) -> None:
    # given: the applicant pays on Pay's page; Pay's webhook reaches us before their browser does
    application = _signed_in(client)
    payment = _pay_now(client, application.id)
    back_to = _card_on_pays_page(payment, CARD_SUCCESS)
    body, headers = pay.webhook_for(payment.provider_id, "card_payment_succeeded")

    # when
    webhook = client.post(WEBHOOK_PATH, data=body, content_type="application/json", headers=headers)
    returned = client.get(_return_path(back_to))
    detail = client.get(returned["Location"])

    # then
    application.refresh_from_db()
    assert back_to == f"http://127.0.0.1:8000/payments/return/{payment.return_token}"
    assert webhook.status_code == 200
    assert returned.status_code == 302
    assert "Payment complete" in detail.content.decode()
    assert application.status == ApplicationStatus.SUBMITTED
    assert PaymentTransaction.objects.filter(payment=payment, kind=LedgerKind.SETTLED).count() == 1


def test_declined_then_paid_with_a_new_attempt(pay: FakePay, client: Browser) -> None:
    # given: the first card is declined at Pay
    application = _signed_in(client)
    first = _pay_now(client, application.id)
    client.get(_return_path(_card_on_pays_page(first, CARD_DECLINED)))
    first.refresh_from_db()

    # when: the applicant tries again with another card
    second = _pay_now(client, application.id)
    client.get(_return_path(_card_on_pays_page(second, CARD_SUCCESS)))

    # then
    second.refresh_from_db()
    application.refresh_from_db()
    assert (first.state, first.failure_code) == ("failed", "P0010")
    assert second.provider_id != first.provider_id
    assert second.state == "success"
    assert application.status == ApplicationStatus.SUBMITTED
    assert len(pay.payments) == 2

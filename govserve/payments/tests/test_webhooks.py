"""GOV.UK Pay webhooks through the real URL, against the fake Pay API: signature, refresh, settled exactly once."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from govserve.audit.models import AuditEntry
from govserve.journeys.models import ApplicationStatus
from govserve.payments import services
from govserve.payments.models import LedgerKind, Payment, PaymentTransaction
from govserve.payments.providers.fake_pay import FakePay
from govserve.payments.providers.govuk_pay import webhook_signature
from govserve.payments.tests.govuk_pay_support import WEBHOOK_PATH, pay_fixture, payment_started  # noqa: F401 - fixture

pytestmark = pytest.mark.usefixtures("examples")


def _post(client: Client, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, object]]:
    response = client.post(WEBHOOK_PATH, data=body, content_type="application/json", headers=headers)
    return response.status_code, json.loads(response.content)


def _ledger(payment: Payment) -> list[tuple[str, str]]:
    return list(PaymentTransaction.objects.filter(payment=payment).order_by("id").values_list("kind", "state"))


def test_a_webhook_before_the_return_redirect_settles_the_payment_exactly_once(pay: FakePay, client: Client) -> None:
    # given: the person paid; Pay's webhook arrives before their browser comes back
    payment, application = payment_started()
    pay.complete(payment.provider_id, "success", send_webhook=False)
    body, headers = pay.webhook_for(payment.provider_id, "card_payment_succeeded")

    # when
    status, answer = _post(client, body, headers)
    returned = services.payment_refresh(payment_id=payment.id, actor=services.SYSTEM)  # the return redirect
    again_status, _again = _post(client, body, headers)  # Pay delivers the webhook a second time

    # then
    application.refresh_from_db()
    assert (status, answer["outcome"], again_status) == (200, "applied", 200)
    assert returned.state == "success"
    assert application.status == ApplicationStatus.SUBMITTED
    assert [kind for kind, _state in _ledger(payment)].count(LedgerKind.SETTLED) == 1
    assert _ledger(payment) == [
        ("created", "created"),
        ("provider_created", "created"),
        ("state_changed", "success"),
        ("settled", "success"),
    ]
    assert AuditEntry.objects.filter(action="payments.payment.succeeded", subject_id=str(payment.id)).count() == 1


def test_a_webhook_never_trusts_the_state_in_its_body(pay: FakePay, client: Client) -> None:
    # given: a genuine signature over a body claiming success, while Pay says the payment is only started
    payment, application = payment_started()
    pay.start(payment.provider_id)
    resource = pay.payment_json(pay.payments[payment.provider_id]) | {"state": {"status": "success", "finished": True}}
    body = json.dumps(
        {
            "webhook_message_id": "m1",
            "resource_id": payment.provider_id,
            "resource_type": "payment",
            "event_type": "card_payment_succeeded",
            "resource": resource,
        }
    ).encode()

    # when
    status, answer = _post(client, body, {"Pay-Signature": webhook_signature(body, pay.webhook_secret)})

    # then
    payment.refresh_from_db()
    application.refresh_from_db()
    assert (status, answer["outcome"]) == (200, "applied")
    assert payment.state == "started"
    assert application.status == ApplicationStatus.AWAITING_PAYMENT


@pytest.mark.parametrize("outcome", ["failed", "cancelled", "error"])
def test_a_webhook_applies_an_unsuccessful_finish_and_leaves_the_fee_due(
    pay: FakePay, client: Client, outcome: str
) -> None:
    payment, application = payment_started()
    pay.complete(payment.provider_id, outcome, send_webhook=False)
    body, headers = pay.webhook_for(payment.provider_id, "card_payment_failed")

    status, _answer = _post(client, body, headers)

    payment.refresh_from_db()
    application.refresh_from_db()
    assert (status, payment.state) == (200, outcome)
    assert application.status == ApplicationStatus.AWAITING_PAYMENT
    assert not PaymentTransaction.objects.filter(payment=payment, kind=LedgerKind.SETTLED).exists()


def test_a_webhook_with_a_wrong_signature_is_a_400_problem_and_changes_nothing(pay: FakePay, client: Client) -> None:
    payment, _application = payment_started()
    pay.complete(payment.provider_id, "success", send_webhook=False)
    body, headers = pay.webhook_for(payment.provider_id, "card_payment_succeeded")
    before = _ledger(payment)

    status, problem = _post(client, body, headers | {"Pay-Signature": webhook_signature(body, "not-the-secret")})
    tampered_status, _problem = _post(client, body.replace(b"succeeded", b"failed"), headers)

    payment.refresh_from_db()
    assert (status, tampered_status) == (400, 400)
    assert problem["code"] == "payment_webhook_invalid"
    assert payment.state == "created"
    assert _ledger(payment) == before


def test_a_webhook_for_a_payment_we_do_not_know_is_answered_200_and_ignored(pay: FakePay, client: Client) -> None:
    # given: a payment made at Pay by something else (another service on the same account)
    other, _application = payment_started()
    Payment.objects.filter(pk=other.pk).update(provider_id="someoneelses00000000000000")
    body, headers = pay.webhook_for(other.provider_id, "card_payment_succeeded")

    status, answer = _post(client, body, headers)

    assert (status, answer["outcome"]) == (200, "ignored")


def test_pay_unreachable_while_asking_is_a_503_and_the_retried_webhook_applies(pay: FakePay, client: Client) -> None:
    payment, application = payment_started()
    pay.complete(payment.provider_id, "success", send_webhook=False)
    body, headers = pay.webhook_for(payment.provider_id, "card_payment_succeeded")
    pay.fail_next(1, 503)

    status, problem = _post(client, body, headers)
    payment.refresh_from_db()
    state_after_failure = payment.state
    retry_status, answer = _post(client, body, headers)

    application.refresh_from_db()
    assert (status, problem["code"], state_after_failure) == (503, "payment_provider_unavailable", "created")
    assert (retry_status, answer["outcome"]) == (200, "applied")
    assert application.status == ApplicationStatus.SUBMITTED


def test_the_webhook_url_takes_only_post(pay: FakePay, client: Client) -> None:
    assert client.get(WEBHOOK_PATH).status_code == 405


def test_a_refund_webhook_applies_the_refunds_final_state(pay: FakePay, client: Client) -> None:
    # given: a paid payment refunded in part; Pay settles the refund later
    from govserve.payments.refunds import refund_create  # noqa: PLC0415
    from govserve.payments.tests.govuk_pay_support import finance_staff, payment_paid  # noqa: PLC0415

    payment = payment_paid(pay)
    refund = refund_create(payment_id=payment.id, amount_minor=25_00, reason="Overpaid", user=finance_staff(payment))
    pay.refund_settle(payment.provider_id, refund.provider_id, "success")
    body, headers = pay.webhook_for(payment.provider_id, "card_payment_refunded")

    # when
    status, answer = _post(client, body, headers)

    # then
    refund.refresh_from_db()
    assert (status, answer["outcome"]) == (200, "applied")
    assert refund.state == "success"
    assert AuditEntry.objects.filter(action="payments.refund.changed", subject_id=str(refund.id)).count() == 1

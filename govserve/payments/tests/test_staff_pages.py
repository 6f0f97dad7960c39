"""Finance staff's pages through the real sign-in: refund a payment, reconcile a period (fake Pay API)."""

from __future__ import annotations

import pytest

from govserve.casework.tests.test_views import error_summary, person, signed_in, text_of
from govserve.core import clock
from govserve.journeys.tests.support import Browser
from govserve.payments.models import Payment, Refund
from govserve.payments.providers.fake_pay import FakePay
from govserve.payments.tests.govuk_pay_support import pay_fixture, payment_paid, payment_started  # noqa: F401

pytestmark = pytest.mark.usefixtures("examples")


def _finance(payment: Payment, role: str = "finance") -> Browser:
    return signed_in(person((payment.application.service.owning_institution.code, role)))


def test_finance_staff_refund_part_then_the_rest_from_the_page(pay: FakePay) -> None:
    payment = payment_paid(pay)
    browser = _finance(payment)
    path = f"/staff/payments/{payment.id}/refund"

    page = browser.get(path)
    first = browser.post(path, {"amount": "100", "reason": "Licence shortened"}, follow=True)
    second = browser.post(path, {"amount": "£200.00", "reason": "Licence withdrawn"}, follow=True)

    assert page.status_code == 200
    assert "Left to refund £300.00" in text_of(page)
    assert "£100.00 refund asked for" in text_of(first)
    assert "Left to refund £200.00" in text_of(first)
    assert "There is nothing left to refund on this payment." in text_of(second)
    assert list(Refund.objects.filter(payment=payment).values_list("amount_minor", flat=True)) == [100_00, 200_00]


@pytest.mark.parametrize(
    ("amount", "reason", "message"),
    [
        ("ten pounds", "Why", "Enter the amount to refund in pounds and pence, for example 25.00"),
        ("300.01", "Why", "You can refund at most £300.00: £300.01 is more than is left of this payment"),
        ("5", "", "Enter the reason for the refund, in 500 characters or fewer"),
    ],
)
def test_the_refund_page_says_what_is_wrong_and_refunds_nothing(
    pay: FakePay, amount: str, reason: str, message: str
) -> None:
    payment = payment_paid(pay)
    browser = _finance(payment)
    browser.get(f"/staff/payments/{payment.id}/refund")

    response = browser.post(f"/staff/payments/{payment.id}/refund", {"amount": amount, "reason": reason})

    assert response.status_code == 400
    assert error_summary(response) == [message]
    assert not Refund.objects.filter(payment=payment).exists()


def test_caseworkers_get_the_ordinary_404_for_refund_and_reconciliation(pay: FakePay) -> None:
    payment = payment_paid(pay)
    browser = _finance(payment, "licensing-officer")

    refund_page = browser.get(f"/staff/payments/{payment.id}/refund")
    report = browser.get("/staff/payments/reconciliation")

    assert (refund_page.status_code, report.status_code) == (404, 404)
    assert not Refund.objects.filter(payment=payment).exists()


def test_the_reconciliation_page_lists_what_does_not_reconcile_and_downloads_csv(pay: FakePay) -> None:
    paid = payment_paid(pay)
    lost, _application = payment_started()
    pay.complete(lost.provider_id, "success", send_webhook=False)
    browser = _finance(paid)
    today = clock.now().date().isoformat()

    page = browser.get(f"/staff/payments/reconciliation?from={today}&to={today}")
    download = browser.get(f"/staff/payments/reconciliation?from={today}&to={today}&format=csv")

    text = text_of(page)
    assert page.status_code == 200
    assert "Payments 2" in text
    assert "Do not reconcile 1" in text
    assert f"{lost.reference} created £300.00 success £300.00" in text
    assert "state_differs" in text
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    assert str(paid.id) in download.content.decode()


def test_the_reconciliation_page_refuses_a_period_it_cannot_read(pay: FakePay) -> None:
    browser = _finance(payment_paid(pay))

    response = browser.get("/staff/payments/reconciliation?from=yesterday&to=2026-01-01")

    assert response.status_code == 400
    assert error_summary(response) == ["Enter the first day as a date, for example 2026-11-01"]

"""Casework's file view lists the file's payments (payments' provider hook), with the refund link for finance staff."""

from __future__ import annotations

import pytest

from govserve.casework.tests.support import file_of
from govserve.casework.tests.test_views import person, signed_in, text_of
from govserve.payments import services
from govserve.payments.models import Payment
from govserve.payments.refunds import refund_create
from govserve.payments.tests.support import pay_in_sandbox, trading_awaiting_payment

pytestmark = pytest.mark.usefixtures("examples")

OFFICER = ("city-council", "licensing-officer")
FINANCE = ("city-council", "finance")


def _paid() -> Payment:
    application, who = trading_awaiting_payment()
    payment = services.payment_start(application_id=application.id, applicant=who, language="en")
    pay_in_sandbox(payment)
    return services.payment_refresh(payment_id=payment.id)


def test_a_caseworker_who_is_also_finance_staff_sees_the_payment_and_the_refund_link() -> None:
    # given a paid fee, £50 of it refunded
    payment = _paid()
    finance = person(OFFICER, FINANCE)
    refund_create(payment_id=payment.id, amount_minor=5000, reason="Shorter licence", user=finance)

    # when
    page = signed_in(finance).get(f"/staff/files/{file_of(payment.application).id}/")

    # then
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="payments"' in html
    assert f"£300 Paid {payment.provider_id} £50 Refund" in text_of(page)
    assert f'href="/staff/payments/{payment.id}/refund"' in html


def test_a_caseworker_sees_the_payment_without_the_refund_link() -> None:
    # given
    payment = _paid()

    # when
    page = signed_in(person(OFFICER)).get(f"/staff/files/{file_of(payment.application).id}/")

    # then
    html = page.content.decode()
    assert page.status_code == 200
    assert f"£300 Paid {payment.provider_id}" in text_of(page)
    assert "/refund" not in html
    assert "Provider reference" in html


def test_the_printable_file_lists_the_payment_without_links() -> None:
    payment = _paid()

    page = signed_in(person(OFFICER, FINANCE)).get(f"/staff/files/{file_of(payment.application).id}/print")

    assert f"£300 Paid {payment.provider_id}" in text_of(page)
    assert "/refund" not in page.content.decode()

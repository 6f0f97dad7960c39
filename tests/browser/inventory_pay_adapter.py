"""Payments' finance staff pages (refund, reconciliation) and provider routes, for tests/browser/inventory.py.

Each reach publishes the street trading licence, takes its £300 fee through
the built-in sandbox (the services, as the applicant's pages would), signs a
Westmoor City Council finance officer in through the real pages and opens
the page; error states are reached by submitting the form.
"""

from __future__ import annotations

from govserve.journeys.tests.support import STREET_TRADING, examples_publish
from tests.browser import casework, people
from tests.browser.browsing import Tab
from tests.browser.casework import Reach

FINANCE = "finance"

PAY_ADAPTER_NOT_PAGES: dict[str, str] = {
    "payments:govukpay_webhook": "POST from GOV.UK Pay (signed webhooks); answers JSON or problem+json",
}


def _paid_payment_id() -> str:
    from govserve.payments import services  # noqa: PLC0415 - after Django is set up
    from govserve.payments.tests.support import pay_in_sandbox, trading_awaiting_payment  # noqa: PLC0415

    examples_publish(STREET_TRADING)
    application, person = trading_awaiting_payment()
    payment = services.payment_start(application_id=application.id, applicant=person, language="en")
    pay_in_sandbox(payment)
    return str(services.payment_refresh(payment_id=payment.id).id)


def _finance_signed_in(tab: Tab) -> str:
    payment_id = _paid_payment_id()
    people.officer_sign_in(tab, casework.operator_create("finance", FINANCE, first_name="Fiona"))
    return payment_id


def _refund(tab: Tab) -> None:
    tab.goto(f"/staff/payments/{_finance_signed_in(tab)}/refund")


def _refund_error(tab: Tab) -> None:
    tab.goto(f"/staff/payments/{_finance_signed_in(tab)}/refund")
    tab.page.fill("#amount", "1000")
    tab.page.fill("#reason", "Too much")
    tab.click_button("Refund", status=400)
    assert tab.error_summary()


def _refunded(tab: Tab) -> None:
    tab.goto(f"/staff/payments/{_finance_signed_in(tab)}/refund")
    tab.page.fill("#amount", "300")
    tab.page.fill("#reason", "Licence withdrawn")
    tab.click_button("Refund")


def _reconciliation(tab: Tab) -> None:
    _finance_signed_in(tab)
    tab.goto("/staff/payments/reconciliation")


def _reconciliation_error(tab: Tab) -> None:
    _finance_signed_in(tab)
    tab.goto("/staff/payments/reconciliation?from=yesterday&to=today", status=400)
    assert tab.error_summary()


PAY_ADAPTER_PAGES: list[tuple[str, str, Reach]] = [
    ("payments-refund", "payments:refund", _refund),
    ("payments-refund-error", "payments:refund", _refund_error),
    ("payments-refunded", "payments:refund", _refunded),
    ("payments-reconciliation", "payments:reconciliation", _reconciliation),
    ("payments-reconciliation-error", "payments:reconciliation", _reconciliation_error),
]

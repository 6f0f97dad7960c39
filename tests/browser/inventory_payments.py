"""Payments' pages (issue 6, payments core), for the inventory in tests/browser/inventory.py.

A street trading application waiting for its £300 fee is made through the journey's own services
(the journey pages are audited on their own) for a citizen who signs in in the browser; the pages
audited here are reached by clicking: the pay page, the sandbox's hosted card page (with its error),
the outcomes, the receipt, and "nothing to pay".
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from govserve.journeys.access import Applicant
from govserve.journeys.tests.support import STREET_TRADING, examples_publish
from govserve.payments.tests.support import DECLINED_CARD, SUCCESS_CARD, trading_awaiting_payment
from tests.browser import people
from tests.browser.browsing import Tab

Reach = Callable[[Tab], None]


def _waiting(tab: Tab) -> uuid.UUID:
    examples_publish(STREET_TRADING)
    person = people.applicant_create()
    application, _ = trading_awaiting_payment(Applicant(citizen=person.citizen))
    people.applicant_sign_in(tab, person)
    return application.id


def _confirmation_to_pay(tab: Tab) -> None:
    tab.goto(f"/apply/{_waiting(tab)}/confirmation")
    assert tab.heading() == "Application saved: payment needed", tab.heading()


def _detail_to_pay(tab: Tab) -> None:
    tab.goto(f"/applications/{_waiting(tab)}/")
    assert "You need to pay £300 before we can carry on with your application." in tab.text()


def pay_page_open(tab: Tab) -> uuid.UUID:
    """Sign a new citizen in with an application waiting for its fee; open its pay page; return its id."""
    application_id = _waiting(tab)
    tab.goto(f"/apply/{application_id}/confirmation")
    tab.click_button("Pay £300 now")
    assert tab.heading() == "Pay for your application", tab.heading()
    return application_id


def sandbox_open(tab: Tab) -> uuid.UUID:
    """Go on from the pay page to the sandbox's card page; return the application's id."""
    application_id = pay_page_open(tab)
    tab.click_button("Pay £300 now")
    assert tab.path.startswith("/payments/sandbox/"), tab.path
    return application_id


def _pay_page(tab: Tab) -> None:
    pay_page_open(tab)


def _sandbox(tab: Tab) -> None:
    sandbox_open(tab)


def _sandbox_error(tab: Tab) -> None:
    sandbox_open(tab)
    tab.page.locator("#card-number").fill("1234 5678")
    tab.click_button("Pay £300", status=400)
    assert tab.error_summary(), "no error summary"


def _paid_with(card: str) -> Reach:
    def reach(tab: Tab) -> None:
        sandbox_open(tab)
        tab.page.locator("#card-number").fill(card)
        tab.click_button("Pay £300")
        assert tab.path.startswith("/payments/"), tab.path

    return reach


def _sandbox_finished(tab: Tab) -> None:
    sandbox_open(tab)
    sandbox_path = tab.path
    tab.page.locator("#card-number").fill(SUCCESS_CARD)
    tab.click_button("Pay £300")
    tab.goto(sandbox_path)
    assert tab.heading() == "This payment has finished", tab.heading()


def _receipt(tab: Tab) -> None:
    _paid_with(SUCCESS_CARD)(tab)
    tab.click_link("View and print your receipt")


def _provider_down(tab: Tab) -> None:
    pay_page_open(tab)
    tab.click_button("Pay £300 now", status=503)
    assert tab.heading() == "Sorry, there is a problem with the payment service", tab.heading()


def _nothing_due(tab: Tab) -> None:
    _paid_with(SUCCESS_CARD)(tab)
    application_id = tab.page.locator("#track-link").get_attribute("href")
    assert application_id is not None
    tab.goto(application_id.replace("/applications/", "/payments/apply/").rstrip("/") + "/pay", status=409)


PAYMENTS_PAGES: tuple[tuple[str, str, Reach], ...] = (
    ("confirmation-payment-needed", "journeys:confirmation", _confirmation_to_pay),
    ("application-detail-payment-needed", "journeys:application_detail", _detail_to_pay),
    ("payment-pay", "payments:start", _pay_page),
    ("payment-nothing-due", "payments:start", _nothing_due),
    ("payment-sandbox", "payments:sandbox_page", _sandbox),
    ("payment-sandbox-error", "payments:sandbox_page", _sandbox_error),
    ("payment-sandbox-finished", "payments:sandbox_page", _sandbox_finished),
    ("payment-complete", "payments:payment_detail", _paid_with(SUCCESS_CARD)),
    ("payment-declined", "payments:payment_detail", _paid_with(DECLINED_CARD)),
    ("payment-receipt", "payments:receipt", _receipt),
    ("payment-provider-down", "payments:start", _provider_down),
)
# GOV.UK Pay at an address where nothing listens: the adapter's real "unavailable" error.
PROVIDER_DOWN = {"PAYMENT_URL": "govukpay://", "PAY_BASE_URL": "http://127.0.0.1:9", "PAY_API_KEY": "test-key"}
PAYMENTS_SETTINGS: dict[str, dict[str, str]] = {"payment-provider-down": PROVIDER_DOWN}
PAYMENTS_PHONE_PAGES = frozenset({"payment-sandbox", "payment-complete"})
PAYMENTS_NOT_PAGES: dict[str, str] = {
    "payments:return": "where the payment provider sends the person back: asks the provider, then redirects",
    "payments:receipt_pdf": "the receipt as a PDF download (linked from payment-receipt), not an HTML page",
}

"""Paying a fee in the built-in sandbox, in a real browser, with and without JavaScript (issue 6).

A street trading application waits for its £300 fee; the citizen is declined once, tries again, pays,
and finds the application sent with its file open and the receipt printable.
"""

from __future__ import annotations

from govserve.casework.models import CaseFile
from govserve.journeys.models import Application, ApplicationStatus
from govserve.payments.models import Payment
from govserve.payments.tests.support import DECLINED_CARD, SUCCESS_CARD
from tests.browser.browsing import Tab
from tests.browser.inventory_payments import sandbox_open


def test_a_citizen_declined_once_tries_again_and_pays_in_the_sandbox(tab: Tab) -> None:
    # given the sandbox's card page of an application waiting for its fee
    application_id = sandbox_open(tab)

    # when the first card is declined
    tab.page.locator("#card-number").fill(DECLINED_CARD)
    tab.click_button("Pay £300")
    # then the service says so and nothing is paid
    assert tab.heading() == "Your payment failed", tab.heading()
    assert "You have not been charged" in tab.text()
    assert Application.objects.get(pk=application_id).status == ApplicationStatus.AWAITING_PAYMENT

    # when they try again with a card that pays
    tab.click_button("Try again")
    tab.click_button("Pay £300 now")
    tab.page.locator("#card-number").fill("4444 3333 2222 " + SUCCESS_CARD[-4:])
    tab.click_button("Pay £300")

    # then the payment is complete, the application sent and its file open, once
    assert tab.heading() == "Payment complete", tab.heading()
    assert "£300" in tab.text()
    assert Application.objects.get(pk=application_id).status == ApplicationStatus.SUBMITTED
    assert CaseFile.objects.filter(application_id=application_id).count() == 1
    assert list(
        Payment.objects.filter(application_id=application_id).order_by("created_at").values_list("state", flat=True)
    ) == [
        "failed",
        "success",
    ]
    # and the receipt is a page of its own
    tab.click_link("View and print your receipt")
    assert "Licence fee" in tab.text()

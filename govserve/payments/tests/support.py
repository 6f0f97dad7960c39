"""Test data of payments: a street trading application waiting for its £150 fee, paid in the sandbox."""

from __future__ import annotations

from django.test import Client

from govserve.journeys.access import Applicant
from govserve.journeys.models import Application, ApplicationStatus
from govserve.journeys.tests.support import STREET_TRADING, applicant, citizen_new
from govserve.journeys.tests.test_services import fill_trading, start, submit, upload_required
from govserve.payments.models import Payment
from govserve.payments.providers.sandbox import sandbox_payment_pay

_counter = {"n": 0}
SUCCESS_CARD = "4444333322221111"
DECLINED_CARD = "4000000000000002"
ERROR_CARD = "4000000000000119"


def trading_awaiting_payment(who: Applicant | None = None) -> tuple[Application, Applicant]:
    """Return a sent street trading application waiting for its £300 fee, and its applicant (``who``, or new)."""
    _counter["n"] += 1
    person = who or applicant(citizen_new(f"payer{_counter['n']}@example.org"))
    application = start(STREET_TRADING, person)
    fill_trading(application, person)
    upload_required(application, person, "public-liability-insurance")
    sent = submit(application, person).application
    assert sent.status == ApplicationStatus.AWAITING_PAYMENT
    return sent, person


def pay_in_sandbox(payment: Payment, card: str = SUCCESS_CARD) -> None:
    """Type ``card`` on the sandbox's payment page of ``payment`` (what the person does there)."""
    sandbox_payment_pay(payment.provider_id, card)


def sandbox_path(payment: Payment) -> str:
    """Return the path of the sandbox page of ``payment`` (its next_url without the host)."""
    return payment.next_url.removeprefix("http://testserver")


def signed_in_client(client: Client, person: Applicant) -> Client:
    """Sign ``person`` in on ``client`` (the journey's own helper)."""
    from govserve.journeys.tests.support import sign_in  # noqa: PLC0415

    assert person.citizen is not None
    sign_in(client, person.citizen)
    return client

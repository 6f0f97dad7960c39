"""Test data of the GOV.UK Pay paths: the fake Pay API as the configured provider, and a paid application."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from govserve.accounts.models import User
from govserve.casework.tests.support import staff
from govserve.journeys.models import Application
from govserve.payments import services
from govserve.payments.models import Payment
from govserve.payments.providers.fake_pay import FakePay, fake_pay
from govserve.payments.tests.support import trading_awaiting_payment

WEBHOOK_PATH = "/api/payments/govukpay/webhooks"


@pytest.fixture(name="pay")
def pay_fixture(settings: Any) -> Iterator[FakePay]:
    """Run the fake Pay API and make it the provider new payments are taken with (``govukpay://``)."""
    with fake_pay() as fake:
        settings.PAYMENT_URL = "govukpay://"
        settings.PAY_API_KEY = fake.api_key
        settings.PAY_BASE_URL = fake.base_url
        settings.PAY_WEBHOOK_SECRET = fake.webhook_secret
        settings.PAY_TIMEOUT_SECONDS = 1.0
        # Pay accepts http return URLs on loopback only (test accounts).
        settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000"
        yield fake


def payment_started() -> tuple[Payment, Application]:
    """Return a street trading application's payment attempt created at the fake Pay (state ``created``)."""
    application, person = trading_awaiting_payment()
    payment = services.payment_start(application_id=application.id, applicant=person, language="en")
    return payment, application


def payment_paid(pay: FakePay) -> Payment:
    """Return a payment completed at the fake Pay and applied (the £300 fee settled)."""
    payment, _application = payment_started()
    pay.complete(payment.provider_id, "success", send_webhook=False)
    return services.payment_refresh(payment_id=payment.id)


def finance_staff(payment: Payment, role: str = "finance") -> User:
    """Return a staff member holding ``role`` in the institution that owns the payment's service."""
    institution = payment.application.service.owning_institution
    return staff((institution.code, role))

"""System checks of the payment settings: an unusable provider fails `govserve check`; production warnings."""

from __future__ import annotations

import pytest
from django.core.checks import CheckMessage
from django.test import override_settings

from govserve.payments.checks import check_payment_provider, check_payment_provider_for_production


def _ids(messages: list[CheckMessage]) -> list[str]:
    return [str(message.id) for message in messages]


@override_settings(PAYMENT_URL="sandbox://")
def test_the_sandbox_passes_the_check_but_production_is_warned() -> None:
    assert check_payment_provider() == []
    assert _ids(check_payment_provider_for_production()) == ["payments.W001"]


@pytest.mark.parametrize("url", ["bogus://", "stripe://", "govukpay"])
def test_a_payment_url_naming_no_provider_is_an_error(url: str) -> None:
    with override_settings(PAYMENT_URL=url):
        assert _ids(check_payment_provider()) == ["payments.E001"]
        assert check_payment_provider_for_production() == []  # E001 says it already


@override_settings(PAYMENT_URL="govukpay://", PAY_API_KEY="", PAY_WEBHOOK_SECRET="whsec")
def test_govuk_pay_without_an_api_key_is_an_error() -> None:
    [error] = check_payment_provider()

    assert error.id == "payments.E002"
    assert "PAY_API_KEY is empty" in error.msg


@override_settings(PAYMENT_URL="govukpay://", PAY_API_KEY="api_test_key", PAY_WEBHOOK_SECRET="")
def test_govuk_pay_without_a_webhook_secret_is_warned_in_production() -> None:
    assert check_payment_provider() == []
    [warning] = check_payment_provider_for_production()

    assert warning.id == "payments.W002"
    assert "every GOV.UK Pay webhook is refused" in warning.msg


@override_settings(PAYMENT_URL="govukpay://", PAY_API_KEY="api_test_key", PAY_WEBHOOK_SECRET="whsec")
def test_govuk_pay_fully_configured_passes_both() -> None:
    assert check_payment_provider() == []
    assert check_payment_provider_for_production() == []


def test_the_worker_registers_both_payment_schedules() -> None:
    import govserve.payments.jobs  # noqa: F401, PLC0415 - what the worker's autodiscovery imports
    from govserve.core.jobs import registered_schedules  # noqa: PLC0415

    names = set(registered_schedules())
    assert {"payments.unfinished.refresh", "payments.refunds.refresh"} <= names

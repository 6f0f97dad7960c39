"""Which provider takes payments: ``PAYMENT_URL`` (read when asked, never at import).

| ``PAYMENT_URL`` | provider |
|---|---|
| ``sandbox://`` (default) | the built-in sandbox (:mod:`govserve.payments.providers.sandbox`) |
| ``govukpay://`` | GOV.UK Pay (:mod:`govserve.payments.providers.govuk_pay`; ``PAY_*`` settings) |

Any other scheme raises ``ImproperlyConfigured`` (and ``govserve check``
reports it, payments.E001). A payment is always finished by the provider
that created it (:func:`provider_named`, from ``Payment.provider``), so
switching ``PAYMENT_URL`` leaves payments under way with the old provider
answerable, as long as it is still configured.
"""

from __future__ import annotations

import importlib
from typing import cast
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from govserve.payments.providers.base import PaymentProvider
from govserve.payments.providers.sandbox import SANDBOX_NAME, SandboxProvider

GOVUK_PAY_NAME = "govukpay"  # GovukPayProvider.name; the adapter (and httpx) are imported only when chosen
SCHEMES = {"sandbox": SANDBOX_NAME, "govukpay": GOVUK_PAY_NAME}
DEFAULT_URL = "sandbox://"


def payment_url() -> str:
    """Return ``PAYMENT_URL`` (``sandbox://`` when unset)."""
    return str(getattr(settings, "PAYMENT_URL", "") or DEFAULT_URL)


def provider_name_from_url(url: str) -> str:
    """Return the provider name ``url`` chooses; raise ImproperlyConfigured for an unknown scheme."""
    scheme = urlsplit(url).scheme.lower()
    if scheme not in SCHEMES:
        msg = f"PAYMENT_URL {url!r} names no payment provider: use sandbox:// or govukpay://"
        raise ImproperlyConfigured(msg)
    return SCHEMES[scheme]


def provider_named(name: str) -> PaymentProvider:
    """Return the provider called ``name`` (``Payment.provider``); raise ImproperlyConfigured if unknown."""
    if name == SANDBOX_NAME:
        return SandboxProvider()
    if name == "govukpay":
        module = importlib.import_module("govserve.payments.providers.govuk_pay")
        config = module.govuk_pay_config_from_settings()
        return cast("PaymentProvider", module.GovukPayProvider(config=config))
    msg = f"No payment provider called {name!r}"
    raise ImproperlyConfigured(msg)


def payment_provider() -> PaymentProvider:
    """Return the provider new payments are taken with (``PAYMENT_URL``)."""
    return provider_named(provider_name_from_url(payment_url()))

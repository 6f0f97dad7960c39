"""System checks for payments.

Always (``govserve check``):

- payments.E001: ``PAYMENT_URL`` names no provider (use ``sandbox://`` or ``govukpay://``).

With ``--deploy`` (production):

- payments.W001: payments are taken by the built-in sandbox: nobody is
  charged, any of its test cards "pays".
"""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured

from govserve.payments.providers.registry import payment_url, provider_name_from_url
from govserve.payments.providers.sandbox import SANDBOX_NAME


@register(Tags.security)
def check_payment_provider(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Refuse a ``PAYMENT_URL`` that names no provider."""
    try:
        provider_name_from_url(payment_url())
    except ImproperlyConfigured as error:
        return [Error(str(error), hint="See docs/payments.md, 'Providers and settings'.", id="payments.E001")]
    return []


@register(Tags.security, deploy=True)
def check_payment_provider_for_production(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Warn when production would take payments with the sandbox."""
    try:
        name = provider_name_from_url(payment_url())
    except ImproperlyConfigured:
        return []  # payments.E001 says so already
    if name != SANDBOX_NAME:
        return []
    return [
        Warning(
            "PAYMENT_URL is the built-in sandbox: nobody is charged and its test cards 'pay' every fee.",
            hint="Set PAYMENT_URL=govukpay:// with PAY_API_KEY (docs/payments.md).",
            id="payments.W001",
        )
    ]

"""System checks for payments.

Always (``govserve check``):

- payments.E001: ``PAYMENT_URL`` names no provider (use ``sandbox://`` or ``govukpay://``).
- payments.E002: ``PAYMENT_URL`` is GOV.UK Pay but ``PAY_API_KEY`` is empty (every payment would fail).

With ``--deploy`` (production):

- payments.W001: payments are taken by the built-in sandbox: nobody is
  charged, any of its test cards "pays".
- payments.W002: GOV.UK Pay without ``PAY_WEBHOOK_SECRET``: every webhook is
  refused, so payments settle only on return and by the 10-minute poll.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured

from govserve.payments.providers.registry import GOVUK_PAY_NAME, payment_url, provider_name_from_url
from govserve.payments.providers.sandbox import SANDBOX_NAME


@register(Tags.security)
def check_payment_provider(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Refuse a ``PAYMENT_URL`` that names no provider."""
    try:
        name = provider_name_from_url(payment_url())
    except ImproperlyConfigured as error:
        return [Error(str(error), hint="See docs/payments.md, 'Providers and settings'.", id="payments.E001")]
    if name == GOVUK_PAY_NAME and not settings.PAY_API_KEY:
        return [
            Error(
                "PAYMENT_URL is GOV.UK Pay but PAY_API_KEY is empty: every payment would be refused.",
                hint="Set PAY_API_KEY to the service's API key from the GOV.UK Pay admin tool.",
                id="payments.E002",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_payment_provider_for_production(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Warn when production would take payments with the sandbox."""
    try:
        name = provider_name_from_url(payment_url())
    except ImproperlyConfigured:
        return []  # payments.E001 says so already
    if name == GOVUK_PAY_NAME and not settings.PAY_WEBHOOK_SECRET:
        return [
            Warning(
                "PAY_WEBHOOK_SECRET is empty: every GOV.UK Pay webhook is refused, so payments settle only when "
                "the applicant returns or when the 10-minute poll asks Pay.",
                hint="Set PAY_WEBHOOK_SECRET to the webhook's signing secret (docs/payments.md, 'Webhooks').",
                id="payments.W002",
            )
        ]
    if name != SANDBOX_NAME:
        return []
    return [
        Warning(
            "PAYMENT_URL is the built-in sandbox: nobody is charged and its test cards 'pay' every fee.",
            hint="Set PAYMENT_URL=govukpay:// with PAY_API_KEY (docs/payments.md).",
            id="payments.W001",
        )
    ]

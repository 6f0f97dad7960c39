"""Payments' routes for providers (GOV.UK Pay's webhooks): machines' POSTs, no page a person sees."""

from __future__ import annotations

PAY_ADAPTER_NOT_PAGES: dict[str, str] = {
    "payments:govukpay_webhook": "POST from GOV.UK Pay (signed webhooks); answers JSON or problem+json",
}

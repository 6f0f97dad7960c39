"""Payment providers' webhooks (machines' POSTs under ``api/``: no session, no CSRF token, a signature)."""

from __future__ import annotations

import structlog
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from govserve.payments.errors import (
    PaymentNotFoundError,
    PaymentProviderRefusedError,
    PaymentProviderUnavailableError,
    PaymentWebhookInvalidError,
)
from govserve.payments.webhooks import webhook_receive

logger = structlog.get_logger(__name__)

WEBHOOK_BODY_MAX = 256 * 1024  # Pay's webhook bodies are a few kilobytes


def _problem(status: int, code: str, title: str, detail: str) -> JsonResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, "code": code}
    return JsonResponse(body, status=status, content_type="application/problem+json")


@csrf_exempt  # a provider's signed POST: the signature is the proof, there is no session to protect
@require_POST
def govuk_pay_webhook(request: HttpRequest) -> HttpResponse:
    """Accept a GOV.UK Pay webhook: verify ``Pay-Signature``, then refresh the payment from Pay.

    200 ``{"outcome": "applied" | "ignored"}`` (ignored: a payment govserve
    does not know, so Pay stops retrying); 400 problem+json for a signature or
    body that is not genuine; 503 problem+json when Pay cannot be asked for
    the state (Pay retries the webhook later).
    """
    if len(request.body) > WEBHOOK_BODY_MAX:
        return _problem(413, "payment_webhook_too_large", "Content too large", "The webhook body is too large.")
    try:
        outcome = webhook_receive(provider_name="govukpay", body=request.body, headers=request.headers)
    except PaymentWebhookInvalidError as error:
        # Worth an operator's look when it repeats: a wrong PAY_WEBHOOK_SECRET, or someone probing the URL.
        logger.warning("payments.webhook.invalid", provider="govukpay", reason=error.message)
        return _problem(400, error.code, "Bad request", error.message)
    except (PaymentProviderUnavailableError, PaymentProviderRefusedError, PaymentNotFoundError) as error:
        # Refused or not found while asking Pay about a payment it just told us about: let Pay try again later.
        response = _problem(503, error.code, "Service unavailable", error.message)
        response["Retry-After"] = "60"
        return response
    return JsonResponse({"outcome": outcome.outcome, "event_id": outcome.event_id})

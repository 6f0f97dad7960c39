"""GOV.UK Pay adapter: the :class:`~govserve.payments.providers.base.PaymentProvider` over Pay's REST API.

Calls (https://docs.payments.service.gov.uk/api_reference/), each with
``Authorization: Bearer <API key>`` and a timeout:

- ``POST /v1/payments`` with the ``Idempotency-Key`` header (a retried create
  returns the same payment; the same key with another body is refused);
- ``GET /v1/payments/{id}`` (strongly consistent: asked on return, webhook
  and poll), ``POST /v1/payments/{id}/cancel`` (204);
- ``POST /v1/payments/{id}/refunds`` with ``refund_amount_available`` (Pay
  answers 412 ``P0604`` when it no longer matches, so two refunds of the same
  money cannot both pass), ``GET /v1/payments/{id}/refunds/{refund_id}``;
- ``GET /v1/payments`` (search, eventually consistent) followed page by page
  through ``_links.next_page``.

Failures are typed, never a vendor exception or a ``KeyError``:

- network errors, timeouts, 5xx and 429 (``P0900``, rate limit) →
  :class:`PaymentProviderUnavailableError` (retry later);
- other 4xx → :class:`PaymentProviderRefusedError` with ``provider_code``
  (Pay's ``code``, such as ``P0102`` or ``P0604``) and ``http_status``;
- a 2xx whose body is not what Pay documents (not JSON, a field missing or
  of the wrong type, an unknown state) →
  :class:`PaymentProviderResponseInvalidError` (a kind of unavailable: the
  caller retries, an operator looks at the log).

Webhooks carry ``Pay-Signature``: the hex HMAC-SHA256 of the raw body keyed
with the webhook's signing secret. Settings are read when the configuration
is built (:func:`govuk_pay_config_from_settings`), never at import.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings
from django.utils.translation import gettext as _

from govserve.payments.errors import (
    PaymentProviderRefusedError,
    PaymentProviderResponseInvalidError,
    PaymentProviderUnavailableError,
    PaymentWebhookInvalidError,
)
from govserve.payments.providers.base import (
    PaymentRequest,
    PaymentState,
    ProviderPayment,
    ProviderRefund,
    RefundState,
    WebhookEvent,
)

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://publicapi.payments.service.gov.uk"
SIGNATURE_HEADER = "Pay-Signature"
SEARCH_PAGE_SIZE_MAX = 500  # Pay's largest display_size
HTTP_RATE_LIMITED = 429
HTTP_SERVER_ERROR = 500
HTTP_CLIENT_ERROR = 400


@dataclass(frozen=True)
class GovukPayConfig:
    """What the adapter needs: the API key, base URL, webhook signing secret, timeout, search page size."""

    api_key: str
    base_url: str = DEFAULT_BASE_URL
    webhook_secret: str = ""
    timeout_seconds: float = 10.0
    search_page_size: int = SEARCH_PAGE_SIZE_MAX

    def __repr__(self) -> str:  # never print the key or the secret in a log or a traceback
        return f"GovukPayConfig(base_url={self.base_url!r}, timeout_seconds={self.timeout_seconds})"


def govuk_pay_config_from_settings() -> GovukPayConfig:
    """Return the configuration from the ``PAY_API_KEY``, ``PAY_BASE_URL``, ``PAY_WEBHOOK_SECRET`` settings."""
    return GovukPayConfig(
        api_key=str(getattr(settings, "PAY_API_KEY", "")),
        base_url=str(getattr(settings, "PAY_BASE_URL", "") or DEFAULT_BASE_URL).rstrip("/"),
        webhook_secret=str(getattr(settings, "PAY_WEBHOOK_SECRET", "")),
        timeout_seconds=float(getattr(settings, "PAY_TIMEOUT_SECONDS", 10.0)),
    )


# --- Strict reading of Pay's JSON ---------------------------------------------------------------------


def _invalid(what: str) -> PaymentProviderResponseInvalidError:
    logger.warning("GOV.UK Pay answered with a body it does not document: %s", what)
    return PaymentProviderResponseInvalidError(
        _("The payment service gave an answer we could not read. Try again later."), detail=what
    )


def _obj(data: Any, key: str, where: str) -> Mapping[str, Any]:
    value = data.get(key) if isinstance(data, Mapping) else None
    if not isinstance(value, Mapping):
        raise _invalid(f"{where}.{key} is not an object")
    return value


def _str(data: Mapping[str, Any], key: str, where: str, *, optional: bool = False) -> str:
    value = data.get(key)
    if value is None and optional:
        return ""
    if not isinstance(value, str) or (not optional and not value):
        raise _invalid(f"{where}.{key} is not a string")
    return value


def _int(data: Mapping[str, Any], key: str, where: str, *, optional: bool = False) -> int:
    value = data.get(key)
    if value is None and optional:
        return 0
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise _invalid(f"{where}.{key} is not a whole number")
    return value


def _datetime(data: Mapping[str, Any], key: str, where: str) -> dt.datetime:
    text = _str(data, key, where)
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise _invalid(f"{where}.{key} is not an ISO 8601 date and time") from None
    if value.tzinfo is None:
        raise _invalid(f"{where}.{key} has no time zone")
    return value


def _href(data: Mapping[str, Any], link: str) -> str | None:
    links = data.get("_links")
    target = links.get(link) if isinstance(links, Mapping) else None
    if target is None:
        return None
    if not isinstance(target, Mapping) or not isinstance(target.get("href"), str):
        raise _invalid(f"_links.{link}.href is not a string")
    return str(target["href"])


def payment_from_json(data: Any) -> ProviderPayment:
    """Return the payment a Pay payment object describes; raise PaymentProviderResponseInvalidError if malformed."""
    if not isinstance(data, Mapping):
        raise _invalid("the payment is not an object")
    state = _obj(data, "state", "payment")
    try:
        status = PaymentState(_str(state, "status", "payment.state"))
    except ValueError:
        raise _invalid("payment.state.status is not a known state") from None
    refund_summary = data.get("refund_summary") or {}
    if not isinstance(refund_summary, Mapping):
        raise _invalid("payment.refund_summary is not an object")
    card = data.get("card_details") or {}
    if not isinstance(card, Mapping):
        raise _invalid("payment.card_details is not an object")
    metadata = data.get("metadata") or {}
    if not isinstance(metadata, Mapping):
        raise _invalid("payment.metadata is not an object")
    return ProviderPayment(
        provider_id=_str(data, "payment_id", "payment"),
        state=status,
        amount_minor=_int(data, "amount", "payment"),
        reference=_str(data, "reference", "payment"),
        created_at=_datetime(data, "created_date", "payment"),
        next_url=None if status.finished else _href(data, "next_url"),
        failure_code=_str(state, "code", "payment.state", optional=True),
        failure_message=_str(state, "message", "payment.state", optional=True),
        refund_amount_available_minor=_int(refund_summary, "amount_available", "refund_summary", optional=True),
        refund_amount_submitted_minor=_int(refund_summary, "amount_submitted", "refund_summary", optional=True),
        card_brand=_str(card, "card_brand", "card_details", optional=True),
        last_digits=_str(card, "last_digits_card_number", "card_details", optional=True),
        metadata={str(key): str(value) for key, value in metadata.items()},
    )


def refund_from_json(data: Any, payment_provider_id: str) -> ProviderRefund:
    """Return the refund a Pay refund object describes; raise PaymentProviderResponseInvalidError if malformed."""
    if not isinstance(data, Mapping):
        raise _invalid("the refund is not an object")
    try:
        status = RefundState(_str(data, "status", "refund"))
    except ValueError:
        raise _invalid("refund.status is not a known state") from None
    return ProviderRefund(
        provider_id=_str(data, "refund_id", "refund"),
        payment_provider_id=payment_provider_id,
        amount_minor=_int(data, "amount", "refund"),
        state=status,
        created_at=_datetime(data, "created_date", "refund"),
    )


def webhook_signature(body: bytes, secret: str) -> str:
    """Return the ``Pay-Signature`` value of ``body``: hex HMAC-SHA256 keyed with the signing secret."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _pay_time(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        msg = "search dates must be aware"
        raise ValueError(msg)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- The adapter ----------------------------------------------------------------------------------------


class GovukPayProvider:
    """GOV.UK Pay behind :class:`~govserve.payments.providers.base.PaymentProvider` (module docstring).

    ``transport`` is for tests only (an ``httpx.MockTransport``); the fake Pay
    server (:mod:`govserve.payments.providers.fake_pay`) is reached over real HTTP.
    """

    name = "govukpay"

    def __init__(self, *, config: GovukPayConfig, transport: httpx.BaseTransport | None = None) -> None:
        self.config = config
        self._transport = transport

    # The one place HTTP happens.
    def _call(
        self,
        method: str,
        path_or_url: str,
        *,
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        headers = {"Authorization": f"Bearer {self.config.api_key}", "Accept": "application/json"}
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        url = path_or_url if path_or_url.startswith(("http://", "https://")) else self.config.base_url + path_or_url
        try:
            with httpx.Client(timeout=self.config.timeout_seconds, transport=self._transport) as client:
                response = client.request(method, url, json=body, params=params, headers=headers)
        except httpx.HTTPError as error:  # connection refused, DNS, timeouts, protocol errors
            logger.warning("GOV.UK Pay unreachable: %s %s: %s", method, path_or_url, type(error).__name__)
            raise PaymentProviderUnavailableError(
                _("The payment service is not available at the moment. Try again later."),
                provider_code="network",
                reason=type(error).__name__,
            ) from error
        return self._answer(method, path_or_url, response)

    def _answer(self, method: str, path: str, response: httpx.Response) -> Any:
        status = response.status_code
        if status < HTTP_CLIENT_ERROR:
            if status == 204 or not response.content:
                return None
            try:
                return response.json()
            except ValueError:
                raise _invalid(f"{method} {path}: {status} with a body that is not JSON") from None
        code, description = _error_of(response)
        logger.warning("GOV.UK Pay refused %s %s: %s %s %s", method, path, status, code, description)
        if status == HTTP_RATE_LIMITED or status >= HTTP_SERVER_ERROR:
            raise PaymentProviderUnavailableError(
                _("The payment service is busy or not working at the moment. Try again later."),
                provider_code=code,
                http_status=status,
            )
        raise PaymentProviderRefusedError(
            _("The payment service refused the request (%(code)s).") % {"code": code},
            provider_code=code,
            http_status=status,
            description=description,
        )

    def payment_create(self, request: PaymentRequest) -> ProviderPayment:
        """Create the payment (``Idempotency-Key`` = the request's key); return it with its ``next_url``."""
        body: dict[str, Any] = {
            "amount": request.amount_minor,
            "reference": request.reference,
            "description": request.description,
            "return_url": request.return_url,
            "language": request.language,
        }
        if request.email:
            body["email"] = request.email
        if request.metadata:
            body["metadata"] = dict(request.metadata)
        data = self._call("POST", "/v1/payments", body=body, idempotency_key=request.idempotency_key)
        payment = payment_from_json(data)
        if payment.next_url is None and not payment.state.finished:
            raise _invalid("a new payment has no _links.next_url")
        return payment

    def payment_get(self, provider_id: str) -> ProviderPayment:
        """Return the payment's current state (``GET /v1/payments/{id}``)."""
        return payment_from_json(self._call("GET", f"/v1/payments/{_segment(provider_id)}"))

    def payment_cancel(self, provider_id: str) -> None:
        """Cancel an unfinished payment (204); Pay refuses a finished one (PaymentProviderRefusedError)."""
        self._call("POST", f"/v1/payments/{_segment(provider_id)}/cancel")

    def payments_search(self, *, from_date: dt.datetime, to_date: dt.datetime) -> Iterator[ProviderPayment]:
        """Yield every payment created in [from_date, to_date), following ``_links.next_page``."""
        params = {
            "from_date": _pay_time(from_date),
            "to_date": _pay_time(to_date),
            "page": "1",
            "display_size": str(min(self.config.search_page_size, SEARCH_PAGE_SIZE_MAX)),
        }
        data = self._call("GET", "/v1/payments", params=params)
        pages = 1
        while True:
            if not isinstance(data, Mapping) or not isinstance(data.get("results"), list):
                raise _invalid("search.results is not a list")
            for item in data["results"]:
                yield payment_from_json(item)
            next_page = _href(data, "next_page")
            if next_page is None:
                return
            pages += 1
            if pages > 10_000:
                raise _invalid("search has more than 10000 pages")
            if not next_page.startswith(self.config.base_url + "/"):  # the key only ever goes to Pay itself
                raise _invalid("search next_page points away from the configured base URL")
            data = self._call("GET", next_page)

    def refund_create(
        self, provider_id: str, *, amount_minor: int, refund_amount_available_minor: int, idempotency_key: str
    ) -> ProviderRefund:
        """Refund ``amount_minor``; Pay refuses (412 P0604) when ``refund_amount_available`` no longer matches."""
        data = self._call(
            "POST",
            f"/v1/payments/{_segment(provider_id)}/refunds",
            body={"amount": amount_minor, "refund_amount_available": refund_amount_available_minor},
            idempotency_key=idempotency_key,
        )
        return refund_from_json(data, provider_id)

    def refund_get(self, provider_id: str, refund_provider_id: str) -> ProviderRefund:
        """Return the refund's current state."""
        data = self._call("GET", f"/v1/payments/{_segment(provider_id)}/refunds/{_segment(refund_provider_id)}")
        return refund_from_json(data, provider_id)

    def webhook_verify(self, body: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        """Check ``Pay-Signature`` against the body; return the event, or raise PaymentWebhookInvalidError."""
        refused = PaymentWebhookInvalidError(_("The webhook's signature does not match its body"))
        secret = self.config.webhook_secret
        if not secret:
            logger.error("A GOV.UK Pay webhook arrived but PAY_WEBHOOK_SECRET is not set: refused")
            raise refused
        signature = next(
            (value for name, value in headers.items() if name.lower() == SIGNATURE_HEADER.lower()), ""
        ).strip()
        if not signature or not hmac.compare_digest(signature.encode(), webhook_signature(body, secret).encode()):
            raise refused
        try:
            data = json.loads(body)
        except ValueError:
            raise PaymentWebhookInvalidError(_("The webhook's body is not JSON")) from None
        try:
            if not isinstance(data, Mapping) or data.get("resource_type") != "payment":
                raise _invalid("webhook.resource_type is not payment")
            return WebhookEvent(
                event_id=_str(data, "webhook_message_id", "webhook"),
                event_type=_str(data, "event_type", "webhook"),
                payment_provider_id=_str(data, "resource_id", "webhook"),
            )
        except PaymentProviderResponseInvalidError as error:
            raise PaymentWebhookInvalidError(_("The webhook's body is not a payment event")) from error


def _segment(identifier: str) -> str:
    """Return ``identifier`` if it is safe as one path segment (Pay's ids are alphanumeric)."""
    if not identifier or not identifier.isascii() or not identifier.isalnum() or len(identifier) > 64:
        raise PaymentProviderRefusedError(
            _("That is not a payment service identifier."), provider_code="invalid_id", http_status=0
        )
    return identifier


def _error_of(response: httpx.Response) -> tuple[str, str]:
    """Return Pay's error ``code`` and ``description``, or ``http_<status>`` when the body has none."""
    try:
        data = response.json()
    except ValueError:
        data = None
    code = data.get("code") if isinstance(data, Mapping) else None
    description = data.get("description") if isinstance(data, Mapping) else None
    return (
        code if isinstance(code, str) and code else f"http_{response.status_code}",
        description if isinstance(description, str) else "",
    )

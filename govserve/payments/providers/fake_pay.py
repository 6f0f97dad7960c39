"""A local fake of the GOV.UK Pay API for tests and local runs (loopback HTTP, random port, a thread).

::

    from govserve.payments.providers.fake_pay import fake_pay

    with fake_pay() as pay:
        provider = GovukPayProvider(config=pay.config())
        created = provider.payment_create(request)         # POST /v1/payments
        pay.complete(created.provider_id, "success")       # or drive pay.hosted_url(...)
        assert provider.payment_get(created.provider_id).state == PaymentState.SUCCESS

It follows Pay's documented behaviour closely enough for the adapter's tests
and for the journey's end-to-end tests:

- ``Authorization: Bearer <api_key>`` is checked (401 otherwise);
- ``POST /v1/payments`` validates the payload (``amount`` 1..10000000,
  ``reference`` and ``description`` 1..255 characters, ``return_url`` https —
  or http on loopback, as a test account allows — ``language`` en/cy, string
  ``metadata`` values): 400 ``P0101`` when a field is missing, 422 ``P0102``
  when one is invalid; the ``Idempotency-Key`` header returns the same payment
  for the same body and refuses another body (422 ``P0102``, ``header``);
- the hosted page (``_links.next_url``: ``GET /pay/{id}``) moves the payment
  to ``started`` and shows a card form; a POST with a test card number
  finishes it (``4444333322221111`` success, ``4000000000000002`` declined →
  failed ``P0010``, ``4000000000000119`` → error ``P0050``; the cancel
  button → cancelled ``P0030``) and redirects to the ``return_url``;
  :meth:`FakePay.complete` does the same without a browser;
- ``POST .../cancel`` answers 204 (409 ``P0502`` when finished);
- ``POST .../refunds`` checks ``refund_amount_available`` (412 ``P0604``
  when it does not match, 412 ``P0603`` when the payment cannot be refunded,
  422 ``P0602`` for an amount over what is left); refunds are ``submitted``
  until :meth:`FakePay.refund_settle` (or at once with ``refunds_settle_at_once``);
- ``GET /v1/payments`` searches by ``from_date``/``to_date`` (newest first)
  with ``page``/``display_size`` and ``_links.next_page``;
- webhooks: with ``webhook_url`` set, each change of a payment's finished
  state or refund is POSTed there, signed in ``Pay-Signature``
  (:meth:`FakePay.webhook_for` builds one without sending it);
- faults: :meth:`FakePay.fail_next` makes the next N API calls answer 500,
  429 (``P0900``), time out, or answer 200 with a malformed body.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import html
import json
import secrets
import threading
import time
import urllib.parse
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from govserve.payments.providers.govuk_pay import GovukPayConfig

AMOUNT_MAX = 10_000_000
TEXT_MAX = 255
CARD_SUCCESS = "4444333322221111"
CARD_DECLINED = "4000000000000002"
CARD_ERROR = "4000000000000119"
OUTCOMES = {
    "success": ("success", "", ""),
    "failed": ("failed", "P0010", "Payment method rejected"),
    "expired": ("failed", "P0020", "Payment expired"),
    "cancelled": ("cancelled", "P0030", "Payment was cancelled by the user"),
    "error": ("error", "P0050", "Payment provider returned an error"),
}
FINISHED = {"success", "failed", "cancelled", "error"}
EVENT_OF_STATUS = {
    "success": "card_payment_succeeded",
    "failed": "card_payment_failed",
    "cancelled": "card_payment_cancelled",
    "error": "card_payment_failed",
}


@dataclass
class FakeRefund:
    """One refund the fake holds."""

    refund_id: str
    amount: int
    status: str
    created_date: str


@dataclass
class FakePayment:
    """One payment the fake holds (its JSON is :meth:`FakePay.payment_json`)."""

    payment_id: str
    amount: int
    reference: str
    description: str
    return_url: str
    language: str
    email: str | None
    metadata: dict[str, Any]
    created_date: str
    status: str = "created"
    code: str = ""
    message: str = ""
    card_brand: str = ""
    last_digits: str = ""
    refunds: list[FakeRefund] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        """Return whether the state is final."""
        return self.status in FINISHED

    @property
    def refunded(self) -> int:
        """Return the amount refunded or being refunded (not refunds in error)."""
        return sum(refund.amount for refund in self.refunds if refund.status != "error")


@dataclass
class Fault:
    """The answer the next API calls get instead of the real one: 500, 429, ``timeout`` or ``malformed``."""

    kind: str
    remaining: int


class FakePay:
    """The fake's state and control methods (the HTTP handler calls the ``api_*`` methods under the lock)."""

    def __init__(self, *, api_key: str, webhook_secret: str, webhook_url: str | None = None) -> None:
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.webhook_url = webhook_url
        self.payments: dict[str, FakePayment] = {}
        self.idempotency: dict[str, tuple[str, str]] = {}  # key -> (body hash, payment id)
        self.refund_idempotency: dict[str, tuple[str, str]] = {}
        self.requests: list[tuple[str, str]] = []  # (method, path) of every API call, in order
        self.webhooks_sent: list[tuple[int, bytes]] = []
        self.refunds_settle_at_once = False
        self.timeout_seconds = 2.0  # how long a "timeout" fault holds the answer back
        self.faults: list[Fault] = []
        self.port = 0
        self.lock = threading.RLock()
        self._clock_offset = dt.timedelta()

    # --- Addresses and configuration

    @property
    def base_url(self) -> str:
        """Return the PAY_BASE_URL that reaches this server."""
        return f"http://127.0.0.1:{self.port}"

    def config(self, *, timeout_seconds: float = 1.0, search_page_size: int = 500) -> GovukPayConfig:
        """Return an adapter configuration that reaches this fake (short timeout for fault tests)."""
        return GovukPayConfig(
            api_key=self.api_key,
            base_url=self.base_url,
            webhook_secret=self.webhook_secret,
            timeout_seconds=timeout_seconds,
            search_page_size=search_page_size,
        )

    def hosted_url(self, payment_id: str) -> str:
        """Return the payment page (``_links.next_url``)."""
        return f"{self.base_url}/pay/{payment_id}"

    def now(self) -> dt.datetime:
        """Return the fake's clock (real time, moved by :meth:`advance`)."""
        return dt.datetime.now(tz=dt.UTC) + self._clock_offset

    def advance(self, delta: dt.timedelta) -> None:
        """Move the fake's clock (payments created later carry later ``created_date``)."""
        self._clock_offset += delta

    # --- Control methods (what a paying person or Pay itself would do)

    def fail_next(self, count: int, kind: str | int) -> None:
        """Answer the next ``count`` API calls with ``kind``: 500 (any 5xx), 429, "timeout" or "malformed"."""
        with self.lock:
            self.faults.append(Fault(kind=str(kind), remaining=count))

    def start(self, payment_id: str) -> None:
        """Mark the payment started (the person opened the payment page)."""
        with self.lock:
            payment = self.payments[payment_id]
            if payment.status == "created":
                payment.status = "started"

    def complete(self, payment_id: str, outcome: str = "success", *, send_webhook: bool = True) -> None:
        """Finish the payment as ``outcome`` (success, failed, expired, cancelled, error); send the webhook."""
        with self.lock:
            payment = self.payments[payment_id]
            if payment.finished:
                msg = f"payment {payment_id} is finished already ({payment.status})"
                raise ValueError(msg)
            status, code, message = OUTCOMES[outcome]
            payment.status, payment.code, payment.message = status, code, message
            if status in {"success", "failed"} and outcome != "expired":
                payment.card_brand, payment.last_digits = "Visa", "1111"
        if send_webhook:
            self.webhook_send(payment_id, EVENT_OF_STATUS[status])

    def refund_settle(self, payment_id: str, refund_id: str, status: str = "success") -> None:
        """Move a submitted refund to ``success`` or ``error``; send the webhook."""
        with self.lock:
            refund = next(r for r in self.payments[payment_id].refunds if r.refund_id == refund_id)
            refund.status = status
        if status == "success":
            self.webhook_send(payment_id, "card_payment_refunded")

    # --- Webhooks

    def webhook_for(self, payment_id: str, event_type: str) -> tuple[bytes, dict[str, str]]:
        """Return a signed webhook (body, headers) for the payment's current state, without sending it."""
        with self.lock:
            resource = self.payment_json(self.payments[payment_id])
        body = json.dumps(
            {
                "webhook_message_id": secrets.token_hex(13),
                "created_date": _iso(self.now()),
                "resource_id": payment_id,
                "api_version": 1,
                "resource_type": "payment",
                "event_type": event_type,
                "resource": resource,
            }
        ).encode()
        signature = hmac.new(self.webhook_secret.encode(), body, hashlib.sha256).hexdigest()
        return body, {"Content-Type": "application/json", "Pay-Signature": signature}

    def webhook_send(self, payment_id: str, event_type: str) -> None:
        """POST the webhook to ``webhook_url`` (when set) and record the answer's status (0 when unreachable)."""
        if not self.webhook_url:
            return
        body, headers = self.webhook_for(payment_id, event_type)
        try:
            status = httpx.post(self.webhook_url, content=body, headers=headers, timeout=5.0).status_code
        except httpx.HTTPError:
            status = 0
        with self.lock:
            self.webhooks_sent.append((status, body))

    # --- JSON in Pay's shapes

    def payment_json(self, payment: FakePayment) -> dict[str, Any]:
        """Return the payment as ``GET /v1/payments/{id}`` shows it."""
        state: dict[str, Any] = {"status": payment.status, "finished": payment.finished}
        if payment.code:
            state.update(code=payment.code, message=payment.message)
        if payment.status == "success":
            available = payment.amount - payment.refunded
            refund_status = "available" if available else "full"
        else:
            available, refund_status = 0, "pending" if not payment.finished else "unavailable"
        self_href = f"{self.base_url}/v1/payments/{payment.payment_id}"
        links: dict[str, Any] = {
            "self": {"href": self_href, "method": "GET"},
            "events": {"href": f"{self_href}/events", "method": "GET"},
            "refunds": {"href": f"{self_href}/refunds", "method": "GET"},
        }
        if not payment.finished:
            links["next_url"] = {"href": self.hosted_url(payment.payment_id), "method": "GET"}
            links["cancel"] = {"href": f"{self_href}/cancel", "method": "POST"}
        data: dict[str, Any] = {
            "payment_id": payment.payment_id,
            "amount": payment.amount,
            "description": payment.description,
            "reference": payment.reference,
            "language": payment.language,
            "state": state,
            "return_url": payment.return_url,
            "payment_provider": "sandbox",
            "created_date": payment.created_date,
            "delayed_capture": False,
            "moto": False,
            "refund_summary": {
                "status": refund_status,
                "amount_available": available,
                "amount_submitted": payment.refunded,
            },
            "_links": links,
        }
        if payment.email:
            data["email"] = payment.email
        if payment.metadata:
            data["metadata"] = payment.metadata
        if payment.card_brand:
            data["card_details"] = {
                "last_digits_card_number": payment.last_digits,
                "first_digits_card_number": "444433",
                "cardholder_name": "Test Person",
                "expiry_date": "12/30",
                "card_brand": payment.card_brand,
                "card_type": "debit",
            }
        return data

    def refund_json(self, payment: FakePayment, refund: FakeRefund) -> dict[str, Any]:
        """Return the refund as ``GET /v1/payments/{id}/refunds/{refund_id}`` shows it."""
        href = f"{self.base_url}/v1/payments/{payment.payment_id}/refunds/{refund.refund_id}"
        return {
            "refund_id": refund.refund_id,
            "created_date": refund.created_date,
            "amount": refund.amount,
            "status": refund.status,
            "_links": {
                "self": {"href": href, "method": "GET"},
                "payment": {"href": f"{self.base_url}/v1/payments/{payment.payment_id}", "method": "GET"},
            },
        }

    # --- The API (called by the handler; each returns (status, body or None))

    def api_create(self, body: Any, idempotency_key: str | None) -> tuple[int, Any]:
        """``POST /v1/payments``."""
        problem = _check_create(body)
        if problem is not None:
            return problem
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        if idempotency_key is not None:
            if not idempotency_key or len(idempotency_key) > TEXT_MAX:
                return 422, _error("P0102", "Invalid header value: Idempotency-Key", header="Idempotency-Key")
            known = self.idempotency.get(idempotency_key)
            if known is not None:
                if known[0] != digest:
                    return 422, _error(
                        "P0102",
                        "The Idempotency-Key header was used with a different request body",
                        header="Idempotency-Key",
                    )
                return 200, self.payment_json(self.payments[known[1]])
        payment = FakePayment(
            payment_id=_new_id(),
            amount=body["amount"],
            reference=body["reference"],
            description=body["description"],
            return_url=body["return_url"],
            language=body.get("language", "en"),
            email=body.get("email"),
            metadata=dict(body.get("metadata") or {}),
            created_date=_iso(self.now()),
        )
        self.payments[payment.payment_id] = payment
        if idempotency_key is not None:
            self.idempotency[idempotency_key] = (digest, payment.payment_id)
        return 201, self.payment_json(payment)

    def api_get(self, payment_id: str) -> tuple[int, Any]:
        """``GET /v1/payments/{id}``."""
        payment = self.payments.get(payment_id)
        if payment is None:
            return 404, _error("P0200", "Not found")
        return 200, self.payment_json(payment)

    def api_cancel(self, payment_id: str) -> tuple[int, Any]:
        """``POST /v1/payments/{id}/cancel``."""
        payment = self.payments.get(payment_id)
        if payment is None:
            return 404, _error("P0500", "Not found")
        if payment.finished:
            return 409, _error("P0502", "Cancellation of payment failed")
        payment.status, payment.code, payment.message = OUTCOMES["cancelled"]
        payment.message = "Payment was cancelled by the service"
        payment.code = "P0040"
        return 204, None

    def api_refund(  # noqa: PLR0911 - one answer per documented rule
        self, payment_id: str, body: Any, idempotency_key: str | None
    ) -> tuple[int, Any]:
        """``POST /v1/payments/{id}/refunds``."""
        payment = self.payments.get(payment_id)
        if payment is None:
            return 404, _error("P0600", "Not found")
        if not isinstance(body, dict) or "amount" not in body:
            return 400, _error("P0601", "Missing mandatory attribute: amount", field="amount")
        amount = body["amount"]
        if not isinstance(amount, int) or isinstance(amount, bool) or not 1 <= amount <= AMOUNT_MAX:
            return 422, _error("P0602", "Invalid attribute value: amount", field="amount")
        digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        if idempotency_key:
            known = self.refund_idempotency.get(idempotency_key)
            if known is not None:
                if known[0] != digest:
                    return 422, _error("P0602", "The Idempotency-Key header was used with a different request body")
                refund = next(r for r in payment.refunds if r.refund_id == known[1])
                return 200, self.refund_json(payment, refund)
        if payment.status != "success":
            return 412, _error("P0603", "The payment is not available for refund")
        available = payment.amount - payment.refunded
        expected = body.get("refund_amount_available")
        if expected is not None and expected != available:
            return 412, _error("P0604", "Refund amount available mismatch")
        if amount > available:
            return 422, _error("P0602", "Invalid attribute value: amount. Must be less than or equal to available")
        refund = FakeRefund(
            refund_id=_new_id(),
            amount=amount,
            status="success" if self.refunds_settle_at_once else "submitted",
            created_date=_iso(self.now()),
        )
        payment.refunds.append(refund)
        if idempotency_key:
            self.refund_idempotency[idempotency_key] = (digest, refund.refund_id)
        return 202, self.refund_json(payment, refund)

    def api_refund_get(self, payment_id: str, refund_id: str) -> tuple[int, Any]:
        """``GET /v1/payments/{id}/refunds/{refund_id}``."""
        payment = self.payments.get(payment_id)
        refund = next((r for r in payment.refunds if r.refund_id == refund_id), None) if payment else None
        if payment is None or refund is None:
            return 404, _error("P0700", "Not found")
        return 200, self.refund_json(payment, refund)

    def api_search(self, query: Mapping[str, list[str]]) -> tuple[int, Any]:
        """``GET /v1/payments`` (from_date, to_date, page, display_size; newest first)."""
        try:
            from_date = _parse_iso(query["from_date"][0]) if "from_date" in query else None
            to_date = _parse_iso(query["to_date"][0]) if "to_date" in query else None
            page = int(query.get("page", ["1"])[0])
            size = int(query.get("display_size", ["500"])[0])
        except (ValueError, IndexError):
            return 422, _error("P0401", "Invalid parameters: from_date, to_date, page, display_size")
        if page < 1 or not 1 <= size <= 500:
            return 422, _error("P0401", "Invalid parameters: page, display_size")
        matching = [
            payment
            for payment in self.payments.values()
            if (from_date is None or _parse_iso(payment.created_date) >= from_date)
            and (to_date is None or _parse_iso(payment.created_date) < to_date)
        ]
        matching.sort(key=lambda payment: payment.created_date, reverse=True)
        chunk = matching[(page - 1) * size : page * size]
        pages = max(1, -(-len(matching) // size))

        def link(number: int) -> dict[str, str]:
            params = {key: values[0] for key, values in query.items()} | {"page": str(number)}
            return {"href": f"{self.base_url}/v1/payments?{urllib.parse.urlencode(params)}"}

        links: dict[str, Any] = {"self": link(page), "first_page": link(1), "last_page": link(pages)}
        if page < pages:
            links["next_page"] = link(page + 1)
        if page > 1:
            links["prev_page"] = link(page - 1)
        return 200, {
            "total": len(matching),
            "count": len(chunk),
            "page": page,
            "results": [self.payment_json(payment) for payment in chunk],
            "_links": links,
        }

    def take_fault(self) -> str | None:
        """Return the fault the current call gets (and count it down), or None."""
        with self.lock:
            while self.faults:
                fault = self.faults[0]
                if fault.remaining <= 0:
                    self.faults.pop(0)
                    continue
                fault.remaining -= 1
                return fault.kind
        return None


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse_iso(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        msg = "no time zone"
        raise ValueError(msg)
    return value


def _new_id() -> str:
    return secrets.token_hex(13)  # 26 lowercase alphanumerics, like Pay's ids


def _error(code: str, description: str, **extra: str) -> dict[str, str]:
    return {"code": code, "description": description, **extra}


def _check_create(body: Any) -> tuple[int, Any] | None:  # noqa: PLR0911 - one answer per documented rule
    """Return Pay's refusal of a create payload, or None when it is acceptable."""
    if not isinstance(body, dict):
        return 400, _error("P0197", "Unable to parse JSON")
    for name in ("amount", "reference", "description", "return_url"):
        if name not in body:
            return 400, _error("P0101", f"Missing mandatory attribute: {name}", field=name)
    amount = body["amount"]
    if not isinstance(amount, int) or isinstance(amount, bool) or not 1 <= amount <= AMOUNT_MAX:
        return 422, _error(
            "P0102", f"Invalid attribute value: amount. Must be less than or equal to {AMOUNT_MAX}", field="amount"
        )
    for name in ("reference", "description"):
        value = body[name]
        if not isinstance(value, str) or not value.strip() or len(value) > TEXT_MAX:
            return 422, _error(
                "P0102", f"Invalid attribute value: {name}. Must be less than or equal to 255 characters", field=name
            )
    return_url = body["return_url"]
    parsed = urllib.parse.urlsplit(return_url) if isinstance(return_url, str) else None
    loopback = parsed is not None and parsed.scheme == "http" and parsed.hostname in {"127.0.0.1", "localhost"}
    if parsed is None or not ((parsed.scheme == "https" and parsed.hostname) or loopback) or len(return_url) > 2000:
        return 422, _error(
            "P0102", "Invalid attribute value: return_url. Must be a valid URL format", field="return_url"
        )
    if body.get("language", "en") not in {"en", "cy"}:
        return 422, _error("P0102", "Invalid attribute value: language. Must be `en` or `cy`", field="language")
    email = body.get("email")
    if email is not None and (not isinstance(email, str) or "@" not in email or len(email) > 254):
        return 422, _error("P0102", "Invalid attribute value: email. Must be a valid email address", field="email")
    metadata = body.get("metadata")
    if metadata is not None and (
        not isinstance(metadata, dict)
        or len(metadata) > 10
        or not all(isinstance(value, str | int | float | bool) for value in metadata.values())
    ):
        return 422, _error("P0102", "Invalid attribute value: metadata", field="metadata")
    allowed = {"amount", "reference", "description", "return_url", "language", "email", "metadata"}
    if set(body) - allowed:
        return 422, _error("P0102", f"Invalid attribute value: {sorted(set(body) - allowed)[0]}")
    return None


_CARD_OUTCOME = {CARD_SUCCESS: "success", CARD_DECLINED: "failed", CARD_ERROR: "error"}

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Enter card details - Fake GOV.UK Pay</title></head>
<body><main>
<h1>Enter card details</h1>
<p>{description}: £{amount}</p>
<form method="post" action="/pay/{payment_id}">
<label for="card-number">Card number</label>
<input id="card-number" name="card_number" type="text" inputmode="numeric" autocomplete="cc-number">
<button type="submit" name="action" value="pay">Continue</button>
<button type="submit" name="action" value="cancel">Cancel payment</button>
</form>
</main></body></html>
"""


def _handler(fake: FakePay) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _send(self, status: int, body: Any, *, content_type: str = "application/json") -> None:
            data = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
            self.send_response(status)
            if data:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length", "0") or "0"))

        def _api(self, method: str) -> None:  # noqa: PLR0912 - faults, auth, then one route per endpoint
            raw = self._body()
            url = urllib.parse.urlsplit(self.path)
            with fake.lock:
                fake.requests.append((method, url.path))
            fault = fake.take_fault()
            if fault == "timeout":
                time.sleep(fake.timeout_seconds)
                self._send(504, _error("P0999", "Gateway timeout"))
                return
            if fault == "malformed":
                self._send(200, {"payment_id": 42, "state": "nonsense"})
                return
            if fault is not None:
                status = int(fault)
                code = "P0900" if status == 429 else "P0999"
                self._send(status, _error(code, "Too many requests" if status == 429 else "Internal error"))
                return
            if self.headers.get("Authorization", "") != f"Bearer {fake.api_key}":
                self._send(401, {"description": "Credentials are required to access this resource"})
                return
            body: Any = None
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError:
                    self._send(400, _error("P0197", "Unable to parse JSON"))
                    return
            parts = url.path.strip("/").split("/")
            key = self.headers.get("Idempotency-Key")
            with fake.lock:
                match method, parts:
                    case "POST", ["v1", "payments"]:
                        answer = fake.api_create(body, key)
                    case "GET", ["v1", "payments"]:
                        answer = fake.api_search(urllib.parse.parse_qs(url.query))
                    case "GET", ["v1", "payments", payment_id]:
                        answer = fake.api_get(payment_id)
                    case "POST", ["v1", "payments", payment_id, "cancel"]:
                        answer = fake.api_cancel(payment_id)
                    case "POST", ["v1", "payments", payment_id, "refunds"]:
                        answer = fake.api_refund(payment_id, body, key)
                    case "GET", ["v1", "payments", payment_id, "refunds", refund_id]:
                        answer = fake.api_refund_get(payment_id, refund_id)
                    case _:
                        answer = (404, _error("P0200", "Not found"))
            self._send(*answer)

        def _hosted(self, method: str, payment_id: str) -> None:
            with fake.lock:
                payment = fake.payments.get(payment_id)
            if payment is None:
                self._send(404, b"Not found", content_type="text/plain")
                return
            if method == "GET":
                if payment.finished:
                    self._redirect(payment.return_url)
                    return
                fake.start(payment_id)
                page = _PAGE.format(
                    description=html.escape(payment.description),
                    amount=f"{payment.amount / 100:.2f}",
                    payment_id=payment_id,
                )
                self._send(200, page.encode(), content_type="text/html; charset=utf-8")
                return
            form = urllib.parse.parse_qs(self._body().decode())
            if not payment.finished:
                if form.get("action", [""])[0] == "cancel":
                    fake.complete(payment_id, "cancelled")
                else:
                    number = form.get("card_number", [""])[0].replace(" ", "")
                    fake.complete(payment_id, _CARD_OUTCOME.get(number, "failed"))
            self._redirect(payment.return_url)

        def _redirect(self, location: str) -> None:
            self.send_response(303)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _route(self, method: str) -> None:
            path = urllib.parse.urlsplit(self.path).path
            if path.startswith("/pay/"):
                self._hosted(method, path.removeprefix("/pay/"))
            else:
                self._api(method)

        def do_GET(self) -> None:
            self._route("GET")

        def do_POST(self) -> None:
            self._route("POST")

    return Handler


@contextmanager
def fake_pay(*, port: int | None = None, webhook_url: str | None = None) -> Iterator[FakePay]:
    """Run the fake Pay API on loopback for the duration of the block (on ``port``, or a free one)."""
    fake = FakePay(api_key=f"api_test_{secrets.token_hex(16)}", webhook_secret=secrets.token_hex(16))
    fake.webhook_url = webhook_url
    server = ThreadingHTTPServer(("127.0.0.1", port or 0), _handler(fake))
    server.daemon_threads = True
    fake.port = int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-pay", daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def main(argv: list[str] | None = None) -> None:
    """Run the fake on a fixed port until interrupted (local runs with ``PAYMENT_URL=govukpay://``).

    ``python -m govserve.payments.providers.fake_pay --port 8765 --webhook-url
    http://127.0.0.1:8000/api/payments/govukpay/webhooks`` prints the settings
    to export; pay on its page with the test cards.
    """
    import argparse  # noqa: PLC0415 - only for the command line
    import sys  # noqa: PLC0415

    parser = argparse.ArgumentParser(description="A local fake of the GOV.UK Pay API (loopback only).")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--webhook-url", default=None)
    options = parser.parse_args(argv)
    with fake_pay(port=options.port, webhook_url=options.webhook_url) as fake:
        sys.stdout.write(
            "PAYMENT_URL=govukpay://\n"
            f"PAY_BASE_URL={fake.base_url}\nPAY_API_KEY={fake.api_key}\nPAY_WEBHOOK_SECRET={fake.webhook_secret}\n"
            f"Test cards: {CARD_SUCCESS} succeeds, {CARD_DECLINED} is declined, {CARD_ERROR} errors. Ctrl-C stops.\n"
        )
        sys.stdout.flush()
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            return


if __name__ == "__main__":
    main()

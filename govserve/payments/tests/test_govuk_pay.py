"""The GOV.UK Pay adapter against the local fake of the Pay API (real HTTP on loopback, no database)."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from pytest_django.fixtures import Settings

from govserve.payments.errors import (
    PaymentProviderRefusedError,
    PaymentProviderResponseInvalidError,
    PaymentProviderUnavailableError,
    PaymentWebhookInvalidError,
)
from govserve.payments.providers.base import PaymentProvider, PaymentRequest, PaymentState, RefundState
from govserve.payments.providers.fake_pay import CARD_DECLINED, CARD_ERROR, CARD_SUCCESS, FakePay, fake_pay
from govserve.payments.providers.govuk_pay import (
    DEFAULT_BASE_URL,
    GovukPayConfig,
    GovukPayProvider,
    govuk_pay_config_from_settings,
    webhook_signature,
)
from govserve.payments.providers.govuk_pay import payment_from_json as parse_payment


@pytest.fixture
def pay() -> Iterator[FakePay]:
    with fake_pay() as fake:
        yield fake


@pytest.fixture
def provider(pay: FakePay) -> GovukPayProvider:
    return GovukPayProvider(config=pay.config(timeout_seconds=0.5))


def a_request(**changes: object) -> PaymentRequest:
    values: dict[str, object] = {
        "amount_minor": 12_50,
        "currency": "GBP",
        "reference": "WM-2026-000123",
        "description": "Street trading licence",
        "return_url": "http://127.0.0.1:8000/payments/return/abc",
        "idempotency_key": "attempt-1",
        "language": "en",
        "email": "ana@example.com",
        "metadata": {"payment_id": "7b0c"},
    }
    values.update(changes)
    return PaymentRequest(**values)  # type: ignore[arg-type]


def paid(pay: FakePay, provider: GovukPayProvider, amount_minor: int = 100_00) -> str:
    created = provider.payment_create(a_request(amount_minor=amount_minor, idempotency_key=f"k{time.monotonic_ns()}"))
    pay.complete(created.provider_id, "success")
    return created.provider_id


# --- Configuration


def test_the_adapter_satisfies_the_provider_protocol(provider: GovukPayProvider) -> None:
    as_protocol: PaymentProvider = provider
    assert as_protocol.name == "govukpay"


def test_config_from_settings_reads_the_pay_settings(settings: Settings) -> None:
    settings.PAY_API_KEY = "api_test_abc"
    settings.PAY_BASE_URL = "https://pay.example/"
    settings.PAY_WEBHOOK_SECRET = "whsec"
    config = govuk_pay_config_from_settings()
    assert (config.api_key, config.base_url, config.webhook_secret) == ("api_test_abc", "https://pay.example", "whsec")
    assert "api_test_abc" not in repr(config)
    assert "whsec" not in repr(config)


def test_config_from_settings_defaults_to_pays_public_api(settings: Settings) -> None:
    settings.PAY_BASE_URL = ""
    assert govuk_pay_config_from_settings().base_url == DEFAULT_BASE_URL


# --- Creating a payment


def test_create_sends_the_documented_payload_and_returns_the_next_url(pay: FakePay, provider: GovukPayProvider) -> None:
    created = provider.payment_create(a_request(language="cy"))

    assert created.state == PaymentState.CREATED
    assert created.amount_minor == 1250
    assert created.reference == "WM-2026-000123"
    assert created.next_url == pay.hosted_url(created.provider_id)
    assert created.metadata == {"payment_id": "7b0c"}
    assert created.created_at.tzinfo is not None
    stored = pay.payments[created.provider_id]
    assert (stored.language, stored.email, stored.description) == ("cy", "ana@example.com", "Street trading licence")


def test_create_with_the_same_idempotency_key_returns_the_same_payment(
    pay: FakePay, provider: GovukPayProvider
) -> None:
    first = provider.payment_create(a_request())
    second = provider.payment_create(a_request())

    assert second.provider_id == first.provider_id
    assert len(pay.payments) == 1


def test_create_with_the_same_key_and_another_body_is_refused(pay: FakePay, provider: GovukPayProvider) -> None:
    provider.payment_create(a_request())

    with pytest.raises(PaymentProviderRefusedError) as refused:
        provider.payment_create(a_request(amount_minor=99))

    assert refused.value.extra["provider_code"] == "P0102"
    assert refused.value.extra["http_status"] == 422
    assert len(pay.payments) == 1


@pytest.mark.parametrize(
    ("change", "code", "status"),
    [
        ({"amount_minor": 0}, "P0102", 422),
        ({"amount_minor": 10_000_001}, "P0102", 422),
        ({"reference": "R" * 256}, "P0102", 422),
        ({"description": "D" * 256}, "P0102", 422),
        ({"return_url": "http://westmoor.example/return"}, "P0102", 422),
        ({"language": "fr"}, "P0102", 422),
    ],
)
def test_create_refusals_carry_pays_code(
    pay: FakePay, provider: GovukPayProvider, change: dict[str, object], code: str, status: int
) -> None:
    with pytest.raises(PaymentProviderRefusedError) as refused:
        provider.payment_create(a_request(**change))

    assert (refused.value.extra["provider_code"], refused.value.extra["http_status"]) == (code, status)
    assert pay.payments == {}


def test_a_wrong_api_key_is_refused(pay: FakePay) -> None:
    provider = GovukPayProvider(config=GovukPayConfig(api_key="api_test_wrong", base_url=pay.base_url))

    with pytest.raises(PaymentProviderRefusedError) as refused:
        provider.payment_create(a_request())

    assert refused.value.extra["provider_code"] == "http_401"
    assert pay.payments == {}


# --- Reading a payment in every state


@pytest.mark.parametrize(
    ("outcome", "state", "code"),
    [
        ("success", PaymentState.SUCCESS, ""),
        ("failed", PaymentState.FAILED, "P0010"),
        ("expired", PaymentState.FAILED, "P0020"),
        ("cancelled", PaymentState.CANCELLED, "P0030"),
        ("error", PaymentState.ERROR, "P0050"),
    ],
)
def test_get_reports_every_finished_state(
    pay: FakePay, provider: GovukPayProvider, outcome: str, state: PaymentState, code: str
) -> None:
    created = provider.payment_create(a_request())
    pay.complete(created.provider_id, outcome)

    payment = provider.payment_get(created.provider_id)

    assert payment.state == state
    assert payment.state.finished
    assert payment.failure_code == code
    assert payment.next_url is None
    assert payment.refund_amount_available_minor == (1250 if state == PaymentState.SUCCESS else 0)


def test_get_reports_the_card_after_success(pay: FakePay, provider: GovukPayProvider) -> None:
    provider_id = paid(pay, provider)

    payment = provider.payment_get(provider_id)

    assert (payment.card_brand, payment.last_digits) == ("Visa", "1111")


@pytest.mark.parametrize(
    ("card", "state"),
    [(CARD_SUCCESS, PaymentState.SUCCESS), (CARD_DECLINED, PaymentState.FAILED), (CARD_ERROR, PaymentState.ERROR)],
)
def test_the_hosted_page_takes_test_cards_and_returns_to_the_service(
    pay: FakePay, provider: GovukPayProvider, card: str, state: PaymentState
) -> None:
    created = provider.payment_create(a_request())
    assert created.next_url is not None

    page = httpx.get(created.next_url)
    started = provider.payment_get(created.provider_id).state
    submitted = httpx.post(created.next_url, data={"card_number": card, "action": "pay"})

    assert page.status_code == 200
    assert "Card number" in page.text
    assert started == PaymentState.STARTED
    assert submitted.status_code == 303
    assert submitted.headers["Location"] == "http://127.0.0.1:8000/payments/return/abc"
    assert provider.payment_get(created.provider_id).state == state


def test_get_of_an_unknown_payment_is_refused_with_p0200(provider: GovukPayProvider) -> None:
    with pytest.raises(PaymentProviderRefusedError) as refused:
        provider.payment_get("nosuchpayment0000000000000")

    assert refused.value.extra["provider_code"] == "P0200"
    assert refused.value.extra["http_status"] == 404


def test_an_identifier_that_is_not_one_path_segment_never_reaches_pay(pay: FakePay, provider: GovukPayProvider) -> None:
    with pytest.raises(PaymentProviderRefusedError):
        provider.payment_get("../refunds")

    assert pay.requests == []


# --- Cancelling


def test_cancel_finishes_an_unfinished_payment(pay: FakePay, provider: GovukPayProvider) -> None:
    created = provider.payment_create(a_request())

    provider.payment_cancel(created.provider_id)

    assert provider.payment_get(created.provider_id).state == PaymentState.CANCELLED


def test_cancel_of_a_finished_payment_is_refused(pay: FakePay, provider: GovukPayProvider) -> None:
    provider_id = paid(pay, provider)

    with pytest.raises(PaymentProviderRefusedError) as refused:
        provider.payment_cancel(provider_id)

    assert refused.value.extra["provider_code"] == "P0502"
    assert provider.payment_get(provider_id).state == PaymentState.SUCCESS


# --- Refunds


def test_partial_then_full_refund(pay: FakePay, provider: GovukPayProvider) -> None:
    provider_id = paid(pay, provider, 100_00)

    first = provider.refund_create(
        provider_id, amount_minor=30_00, refund_amount_available_minor=100_00, idempotency_key="r1"
    )
    after_first = provider.payment_get(provider_id)
    second = provider.refund_create(
        provider_id, amount_minor=70_00, refund_amount_available_minor=70_00, idempotency_key="r2"
    )
    after_second = provider.payment_get(provider_id)

    assert (first.amount_minor, first.state, first.payment_provider_id) == (30_00, RefundState.SUBMITTED, provider_id)
    assert after_first.refund_amount_available_minor == 70_00
    assert after_first.refund_amount_submitted_minor == 30_00
    assert second.amount_minor == 70_00
    assert after_second.refund_amount_available_minor == 0
    assert after_second.refund_amount_submitted_minor == 100_00


def test_a_refund_whose_available_amount_no_longer_matches_is_refused(pay: FakePay, provider: GovukPayProvider) -> None:
    provider_id = paid(pay, provider, 100_00)
    provider.refund_create(provider_id, amount_minor=30_00, refund_amount_available_minor=100_00, idempotency_key="a")

    # A second operator still sees the amount before the first refund.
    with pytest.raises(PaymentProviderRefusedError) as refused:
        provider.refund_create(
            provider_id, amount_minor=30_00, refund_amount_available_minor=100_00, idempotency_key="b"
        )

    assert refused.value.extra["provider_code"] == "P0604"
    assert refused.value.extra["http_status"] == 412
    assert provider.payment_get(provider_id).refund_amount_available_minor == 70_00


def test_a_refund_over_what_is_left_is_refused(pay: FakePay, provider: GovukPayProvider) -> None:
    provider_id = paid(pay, provider, 10_00)

    with pytest.raises(PaymentProviderRefusedError) as refused:
        provider.refund_create(
            provider_id, amount_minor=11_00, refund_amount_available_minor=10_00, idempotency_key="x"
        )

    assert refused.value.extra["provider_code"] == "P0602"
    assert provider.payment_get(provider_id).refund_amount_available_minor == 10_00


def test_a_refund_of_a_failed_payment_is_refused(pay: FakePay, provider: GovukPayProvider) -> None:
    created = provider.payment_create(a_request())
    pay.complete(created.provider_id, "failed")

    with pytest.raises(PaymentProviderRefusedError) as refused:
        provider.refund_create(
            created.provider_id, amount_minor=1, refund_amount_available_minor=0, idempotency_key="x"
        )

    assert refused.value.extra["provider_code"] == "P0603"


def test_a_retried_refund_with_the_same_key_is_the_same_refund(pay: FakePay, provider: GovukPayProvider) -> None:
    provider_id = paid(pay, provider, 100_00)

    first = provider.refund_create(
        provider_id, amount_minor=5_00, refund_amount_available_minor=100_00, idempotency_key="k"
    )
    again = provider.refund_create(
        provider_id, amount_minor=5_00, refund_amount_available_minor=100_00, idempotency_key="k"
    )

    assert again.provider_id == first.provider_id
    assert provider.payment_get(provider_id).refund_amount_available_minor == 95_00


def test_refund_get_follows_the_refund_to_success(pay: FakePay, provider: GovukPayProvider) -> None:
    provider_id = paid(pay, provider, 100_00)
    refund = provider.refund_create(
        provider_id, amount_minor=5_00, refund_amount_available_minor=100_00, idempotency_key="k"
    )

    pay.refund_settle(provider_id, refund.provider_id, "success")

    assert provider.refund_get(provider_id, refund.provider_id).state == RefundState.SUCCESS


# --- Search


def test_search_follows_every_page_within_the_dates(pay: FakePay) -> None:
    provider = GovukPayProvider(config=pay.config(search_page_size=2))
    start = pay.now()
    created = []
    for number in range(5):
        created.append(provider.payment_create(a_request(idempotency_key=f"s{number}", reference=f"R{number}")))
        pay.advance(dt.timedelta(minutes=1))
    provider.payment_create(a_request(idempotency_key="later", reference="LATER"))  # after to_date

    found = list(provider.payments_search(from_date=start - dt.timedelta(seconds=1), to_date=pay.now()))

    assert sorted(payment.reference for payment in found) == ["R0", "R1", "R2", "R3", "R4"]
    assert {payment.provider_id for payment in found} == {payment.provider_id for payment in created}
    assert [path for method, path in pay.requests if method == "GET"] == ["/v1/payments"] * 3


def test_search_refuses_naive_dates(provider: GovukPayProvider) -> None:
    with pytest.raises(ValueError, match="aware"):
        list(provider.payments_search(from_date=dt.datetime(2026, 1, 1), to_date=dt.datetime(2026, 1, 2)))  # noqa: DTZ001


def test_search_never_sends_the_key_to_another_host() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, json={"results": [], "_links": {"next_page": {"href": "https://evil.example/v1/payments?page=2"}}}
        )

    provider = GovukPayProvider(
        config=GovukPayConfig(api_key="k", base_url="https://pay.example"), transport=httpx.MockTransport(answer)
    )
    now = dt.datetime.now(tz=dt.UTC)

    with pytest.raises(PaymentProviderResponseInvalidError):
        list(provider.payments_search(from_date=now - dt.timedelta(days=1), to_date=now))


# --- Faults


@pytest.mark.parametrize(("fault", "code"), [(500, "P0999"), (503, "P0999"), (429, "P0900")])
def test_5xx_and_429_are_unavailable(pay: FakePay, provider: GovukPayProvider, fault: int, code: str) -> None:
    pay.fail_next(1, fault)

    with pytest.raises(PaymentProviderUnavailableError) as unavailable:
        provider.payment_create(a_request())

    assert unavailable.value.extra["provider_code"] == code
    assert unavailable.value.extra["http_status"] == fault
    assert pay.payments == {}
    assert provider.payment_create(a_request()).state == PaymentState.CREATED  # the retry goes through


def test_a_timeout_is_unavailable(pay: FakePay, provider: GovukPayProvider) -> None:
    pay.timeout_seconds = 1.5
    pay.fail_next(1, "timeout")

    with pytest.raises(PaymentProviderUnavailableError) as unavailable:
        provider.payment_get("abc")

    assert unavailable.value.extra["provider_code"] == "network"
    assert unavailable.value.extra["reason"] == "ReadTimeout"


def test_a_closed_port_is_unavailable() -> None:
    with fake_pay() as gone:
        config = gone.config()
    provider = GovukPayProvider(config=config)

    with pytest.raises(PaymentProviderUnavailableError) as unavailable:
        provider.payment_get("abc")

    assert unavailable.value.extra["reason"] == "ConnectError"


def test_a_malformed_answer_is_a_typed_error(pay: FakePay, provider: GovukPayProvider) -> None:
    pay.fail_next(1, "malformed")

    with pytest.raises(PaymentProviderResponseInvalidError) as invalid:
        provider.payment_get("abc")

    assert invalid.value.status == 502
    assert isinstance(invalid.value, PaymentProviderUnavailableError)


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"<html>gateway</html>", "not JSON"),
        (json.dumps({"payment_id": "p1", "state": {"status": "paid"}}).encode(), "state.status"),
        (json.dumps({"payment_id": "p1", "state": {"status": "success"}}).encode(), "payment.amount"),
        (
            json.dumps(
                {"payment_id": "p1", "state": {"status": "success"}, "amount": 1, "reference": "r", "created_date": "x"}
            ).encode(),
            "created_date",
        ),
    ],
)
def test_a_body_pay_does_not_document_is_a_typed_error(body: bytes, detail: str) -> None:
    provider = GovukPayProvider(
        config=GovukPayConfig(api_key="k", base_url="https://pay.example"),
        transport=httpx.MockTransport(lambda request: httpx.Response(200, content=body)),
    )

    with pytest.raises(PaymentProviderResponseInvalidError) as invalid:
        provider.payment_get("p1")

    assert detail in invalid.value.extra["detail"]


def test_parsing_ignores_properties_pay_adds_later(pay: FakePay, provider: GovukPayProvider) -> None:
    created = provider.payment_create(a_request())
    data = pay.payment_json(pay.payments[created.provider_id]) | {"a_new_property": {"x": 1}}

    assert parse_payment(data).provider_id == created.provider_id


# --- Webhooks


def test_a_signed_webhook_is_verified(pay: FakePay, provider: GovukPayProvider) -> None:
    provider_id = paid(pay, provider)
    body, headers = pay.webhook_for(provider_id, "card_payment_succeeded")

    event = provider.webhook_verify(body, {name.lower(): value for name, value in headers.items()})

    assert event.payment_provider_id == provider_id
    assert event.event_type == "card_payment_succeeded"
    assert event.event_id == json.loads(body)["webhook_message_id"]


def test_a_webhook_with_a_wrong_signature_is_refused(pay: FakePay, provider: GovukPayProvider) -> None:
    provider_id = paid(pay, provider)
    body, headers = pay.webhook_for(provider_id, "card_payment_succeeded")

    with pytest.raises(PaymentWebhookInvalidError):
        provider.webhook_verify(body, headers | {"Pay-Signature": webhook_signature(body, "another-secret")})
    with pytest.raises(PaymentWebhookInvalidError):
        provider.webhook_verify(body, {"Content-Type": "application/json"})


def test_a_webhook_whose_body_was_changed_is_refused(pay: FakePay, provider: GovukPayProvider) -> None:
    provider_id = paid(pay, provider)
    body, headers = pay.webhook_for(provider_id, "card_payment_failed")

    tampered = body.replace(b"card_payment_failed", b"card_payment_succeeded")

    with pytest.raises(PaymentWebhookInvalidError):
        provider.webhook_verify(tampered, headers)


def test_a_webhook_is_refused_when_no_secret_is_configured(pay: FakePay) -> None:
    provider = GovukPayProvider(config=GovukPayConfig(api_key=pay.api_key, base_url=pay.base_url, webhook_secret=""))
    body = b'{"resource_type": "payment"}'

    with pytest.raises(PaymentWebhookInvalidError):
        provider.webhook_verify(body, {"Pay-Signature": webhook_signature(body, "")})


def test_a_signed_webhook_that_is_not_a_payment_event_is_refused(pay: FakePay, provider: GovukPayProvider) -> None:
    body = json.dumps({"webhook_message_id": "m", "resource_type": "agreement", "resource_id": "a"}).encode()

    with pytest.raises(PaymentWebhookInvalidError):
        provider.webhook_verify(body, {"Pay-Signature": webhook_signature(body, pay.webhook_secret)})


def test_the_fake_sends_signed_webhooks_to_the_configured_url(pay: FakePay, provider: GovukPayProvider) -> None:
    received: list[tuple[bytes, dict[str, str]]] = []

    class Receiver(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            return

        def do_POST(self) -> None:
            received.append((self.rfile.read(int(self.headers["Content-Length"])), dict(self.headers.items())))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        pay.webhook_url = f"http://127.0.0.1:{server.server_address[1]}/api/payments/govukpay/webhooks"
        created = provider.payment_create(a_request())
        pay.complete(created.provider_id, "success")
    finally:
        server.shutdown()
        server.server_close()

    [(body, headers)] = received
    event = provider.webhook_verify(body, headers)
    assert (event.payment_provider_id, event.event_type) == (created.provider_id, "card_payment_succeeded")
    assert pay.webhooks_sent == [(200, body)]


def test_the_fake_records_an_unreachable_webhook_url_and_carries_on(pay: FakePay, provider: GovukPayProvider) -> None:
    created = provider.payment_create(a_request())
    pay.webhook_url = "http://127.0.0.1:1/unreachable"

    pay.complete(created.provider_id, "success")

    assert [status for status, _body in pay.webhooks_sent] == [0]
    assert provider.payment_get(created.provider_id).state == PaymentState.SUCCESS

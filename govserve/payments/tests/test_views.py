"""The applicant's payment pages and the sandbox's payment page, through the test client (CSRF enforced)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from govserve.casework.models import CaseFile
from govserve.journeys.models import Application, ApplicationStatus
from govserve.journeys.tests.support import Browser, citizen_new, sign_in
from govserve.payments.models import Payment, SandboxPayment
from govserve.payments.tests.support import (
    DECLINED_CARD,
    ERROR_CARD,
    SUCCESS_CARD,
    sandbox_path,
    trading_awaiting_payment,
)

pytestmark = pytest.mark.usefixtures("examples")


def _signed_in(client: Browser) -> tuple[Browser, Application]:
    application, person = trading_awaiting_payment()
    assert person.citizen is not None
    sign_in(client, person.citizen)
    return client, application


def _to_sandbox(client: Browser, application_id: uuid.UUID) -> Payment:
    start = f"/payments/apply/{application_id}/pay"
    page = client.get(start)
    assert page.status_code == 200
    assert "Pay £300 now" in page.content.decode()
    response = client.post(start, {"when": "before_submission"})
    payment = Payment.objects.get(application_id=application_id, state="created")
    assert response.status_code == 302
    assert response["Location"] == payment.next_url
    assert client.get(sandbox_path(payment)).status_code == 200
    return payment


def test_confirmation_and_application_pages_offer_pay_now(client: Browser) -> None:
    # given
    client, application = _signed_in(client)

    # when
    confirmation = client.get(f"/apply/{application.id}/confirmation").content.decode()
    detail = client.get(f"/applications/{application.id}/").content.decode()

    # then
    link = f'href="/payments/apply/{application.id}/pay?when=before_submission"'
    assert link in confirmation
    assert "Pay £300 now" in confirmation
    assert link in detail
    assert "Pay £300 now" in detail


def test_paying_in_the_sandbox_comes_back_paid_and_submitted(client: Browser) -> None:
    # given
    client, application = _signed_in(client)
    payment = _to_sandbox(client, application.id)

    # when
    paid = client.post(sandbox_path(payment), {"card-number": "4444 3333 2222 1111", "action": "pay"})
    back = client.get(paid["Location"].removeprefix("http://testserver"))
    outcome = client.get(back["Location"])

    # then
    application.refresh_from_db()
    payment.refresh_from_db()
    body = outcome.content.decode()
    assert paid.status_code == 302
    assert back.status_code == 302
    assert outcome.status_code == 200
    assert back["Location"] == f"/payments/{payment.id}/"
    assert "Payment complete" in body
    assert payment.id.hex[:8].upper() in body
    assert "£300" in body
    assert payment.state == "success"
    assert application.status == ApplicationStatus.SUBMITTED
    assert CaseFile.objects.filter(application=application).count() == 1
    receipt = client.get(f"/payments/{payment.id}/receipt")
    assert receipt.status_code == 200
    assert "Licence fee" in receipt.content.decode()
    assert client.get(f"/payments/apply/{application.id}/pay").status_code == 409


@pytest.mark.parametrize(("card", "message"), [(DECLINED_CARD, "declined"), (ERROR_CARD, "problem")])
def test_a_failed_payment_says_so_and_offers_to_try_again(client: Browser, card: str, message: str) -> None:
    # given
    client, application = _signed_in(client)
    payment = _to_sandbox(client, application.id)

    # when
    paid = client.post(sandbox_path(payment), {"card-number": card, "action": "pay"})
    outcome = client.get(client.get(paid["Location"].removeprefix("http://testserver"))["Location"])

    # then
    body = outcome.content.decode()
    assert outcome.status_code == 200
    assert message in body
    assert "Try again" in body
    assert "You have not been charged" in body
    application.refresh_from_db()
    assert application.status == ApplicationStatus.AWAITING_PAYMENT


def test_cancelling_in_the_sandbox_comes_back_cancelled(client: Browser) -> None:
    # given
    client, application = _signed_in(client)
    payment = _to_sandbox(client, application.id)

    # when
    cancelled = client.post(sandbox_path(payment), {"card-number": "", "action": "cancel"})
    outcome = client.get(client.get(cancelled["Location"].removeprefix("http://testserver"))["Location"])

    # then
    assert "You cancelled the payment" in outcome.content.decode()
    payment.refresh_from_db()
    assert payment.state == "cancelled"


@pytest.mark.parametrize("typed", ["4111 1111 1111 1111", "", "x" * 5000, "4444333322221111\x00"])
def test_a_tampered_or_wrong_card_number_shows_an_error_and_changes_nothing(client: Browser, typed: str) -> None:
    # given
    client, application = _signed_in(client)
    payment = _to_sandbox(client, application.id)

    # when
    response = client.post(sandbox_path(payment), {"card-number": typed, "action": "pay"})

    # then
    assert response.status_code == 400
    assert "There is a problem" in response.content.decode()
    assert SandboxPayment.objects.get(pk=payment.provider_id).state == "started"


def test_unknown_ids_and_tokens_are_not_found(client: Browser) -> None:
    # given
    client, _application = _signed_in(client)

    # when / then
    assert client.get(f"/payments/{uuid.uuid4()}/").status_code == 404
    assert client.get(f"/payments/{uuid.uuid4()}/receipt").status_code == 404
    assert client.get("/payments/return/" + "a" * 43).status_code == 404
    assert client.get("/payments/return/short").status_code == 404
    assert client.get("/payments/sandbox/sbx_nope/").status_code == 404
    assert (
        client.post_crafted("/payments/sandbox/sbx_nope/", {"action": "pay", "card-number": SUCCESS_CARD}).status_code
        == 404
    )


def test_someone_elses_application_and_payment_are_not_found(client: Browser) -> None:
    # given: an application paid by its owner
    application, person = trading_awaiting_payment()
    owner = Browser()
    assert person.citizen is not None
    sign_in(owner, person.citizen)
    payment = _to_sandbox(owner, application.id)

    # when: another citizen asks for it
    sign_in(client, citizen_new("other@example.org"))

    # then
    assert client.get(f"/payments/apply/{application.id}/pay").status_code == 404
    assert client.post_crafted(f"/payments/apply/{application.id}/pay", {}).status_code == 404
    assert client.get(f"/payments/{payment.id}/").status_code == 404
    assert Payment.objects.filter(application=application).count() == 1


def test_the_sandbox_page_and_the_outcome_speak_welsh(client: Browser, settings: Any) -> None:
    # given
    client, application = _signed_in(client)
    payment = _to_sandbox(client, application.id)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "cy"

    # when
    card_page = client.get(sandbox_path(payment)).content.decode()
    refused = client.post(sandbox_path(payment), {"card-number": "1234", "action": "pay"}).content.decode()
    client.post(sandbox_path(payment), {"card-number": DECLINED_CARD, "action": "pay"})
    client.get(f"/payments/return/{payment.return_token}")
    outcome = client.get(f"/payments/{payment.id}/").content.decode()

    # then
    assert "Rhowch fanylion y cerdyn" in card_page
    assert "Rhowch un o rifau cerdyn prawf y blwch tywod" in refused
    assert "Methodd eich taliad" in outcome
    assert "Rhoi cynnig arall arni" in outcome


def test_the_provider_down_shows_a_problem_page_and_a_later_click_pays(
    client: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the payment provider cannot be reached
    from govserve.payments.errors import PaymentProviderUnavailableError  # noqa: PLC0415
    from govserve.payments.providers.sandbox import SandboxProvider  # noqa: PLC0415

    client, application = _signed_in(client)
    start = f"/payments/apply/{application.id}/pay"
    client.get(start)
    working = SandboxProvider.payment_create

    def down(self: SandboxProvider, request: Any) -> Any:
        raise PaymentProviderUnavailableError("timeout", extra={"provider_code": "network"})

    monkeypatch.setattr(SandboxProvider, "payment_create", down)

    # when
    response = client.post(start, {"when": "before_submission"})

    # then the person is told, nothing reached the provider, and the attempt waits to be reused
    assert response.status_code == 503
    assert "You have not been charged" in response.content.decode()
    assert SandboxPayment.objects.count() == 0
    attempt = Payment.objects.get(application=application)
    assert (attempt.state, attempt.provider_id) == ("created", "")

    # when the provider is back, the same attempt goes to the provider
    monkeypatch.setattr(SandboxProvider, "payment_create", working)
    again = client.post(start, {"when": "before_submission"})

    # then
    attempt.refresh_from_db()
    assert again.status_code == 302
    assert again["Location"] == attempt.next_url
    assert Payment.objects.filter(application=application).count() == 1
    assert SandboxPayment.objects.get(pk=attempt.provider_id).idempotency_key == attempt.idempotency_key

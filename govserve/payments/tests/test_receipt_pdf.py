"""The receipt of a successful payment downloads as a PDF with the amount and the references."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from govserve.journeys.tests.support import Browser, sign_in
from govserve.payments import services
from govserve.payments.models import Payment
from govserve.payments.receipts import payment_reference
from govserve.payments.tests.support import DECLINED_CARD, SUCCESS_CARD, pay_in_sandbox, trading_awaiting_payment

pytestmark = pytest.mark.usefixtures("examples")


def _paid(client: Browser, card: str = SUCCESS_CARD) -> Payment:
    application, who = trading_awaiting_payment()
    assert who.citizen is not None
    sign_in(client, who.citizen)
    payment = services.payment_start(application_id=application.id, applicant=who, language="en")
    pay_in_sandbox(payment, card)
    return services.payment_refresh(payment_id=payment.id)


def _text(content: bytes) -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages).split())


def test_the_receipt_page_links_the_pdf_which_has_the_amount_and_references(client: Browser) -> None:
    # given
    payment = _paid(client)

    # when
    page = client.get(f"/payments/{payment.id}/receipt").content.decode()
    download = client.get(f"/payments/{payment.id}/receipt.pdf")

    # then
    assert f'href="/payments/{payment.id}/receipt.pdf"' in page
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert f'filename="receipt-{payment_reference(payment)}.pdf"' in download["Content-Disposition"]
    text = _text(download.content)
    assert f"Receipt for payment {payment_reference(payment)}" in text
    assert "£300" in text
    assert payment.application.reference in text
    assert "Licence fee" in text
    assert "Ending 1111" in text


def test_a_welsh_applicant_gets_the_receipt_in_welsh(client: Browser, settings: object) -> None:
    payment = _paid(client)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "cy"  # type: ignore[attr-defined]

    text = _text(client.get(f"/payments/{payment.id}/receipt.pdf").content)

    assert "Ffi'r drwydded" in text
    assert "£300" in text


def test_no_pdf_for_a_declined_payment_or_someone_else(client: Browser) -> None:
    declined = _paid(client, DECLINED_CARD)

    assert client.get(f"/payments/{declined.id}/receipt.pdf").status_code == 404
    assert Browser().get(f"/payments/{declined.id}/receipt.pdf").status_code == 404

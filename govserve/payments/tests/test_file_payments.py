"""Casework's file view lists the file's payments (payments' provider hook), with the refund link for finance staff."""

from __future__ import annotations

import pytest

from govserve.accounts.tests.factories import institution_create
from govserve.audit.models import AuditEntry
from govserve.casework.models import Message, Note
from govserve.casework.tests.support import file_of
from govserve.casework.tests.test_views import person, signed_in, text_of
from govserve.payments import services
from govserve.payments.models import Payment
from govserve.payments.refunds import refund_create
from govserve.payments.tests.support import pay_in_sandbox, trading_awaiting_payment

pytestmark = pytest.mark.usefixtures("examples")

OFFICER = ("city-council", "licensing-officer")
FINANCE = ("city-council", "finance")


def _paid() -> Payment:
    application, who = trading_awaiting_payment()
    payment = services.payment_start(application_id=application.id, applicant=who, language="en")
    pay_in_sandbox(payment)
    return services.payment_refresh(payment_id=payment.id)


def test_a_caseworker_who_is_also_finance_staff_sees_the_payment_and_the_refund_link() -> None:
    # given a paid fee, £50 of it refunded
    payment = _paid()
    finance = person(OFFICER, FINANCE)
    refund_create(payment_id=payment.id, amount_minor=5000, reason="Shorter licence", user=finance)

    # when
    page = signed_in(finance).get(f"/staff/files/{file_of(payment.application).id}/")

    # then
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="payments"' in html
    assert f"£300 Paid {payment.provider_id} £50 Refund" in text_of(page)
    assert f'href="/staff/payments/{payment.id}/refund"' in html


def test_a_caseworker_sees_the_payment_without_the_refund_link() -> None:
    # given
    payment = _paid()

    # when
    page = signed_in(person(OFFICER)).get(f"/staff/files/{file_of(payment.application).id}/")

    # then
    html = page.content.decode()
    assert page.status_code == 200
    assert f"£300 Paid {payment.provider_id}" in text_of(page)
    assert "/refund" not in html
    assert "Provider reference" in html


def test_the_printable_file_lists_the_payment_without_links() -> None:
    payment = _paid()

    page = signed_in(person(OFFICER, FINANCE)).get(f"/staff/files/{file_of(payment.application).id}/print")

    assert f"£300 Paid {payment.provider_id}" in text_of(page)
    assert "/refund" not in page.content.decode()


def test_finance_staff_who_work_on_no_task_see_the_fees_and_payments_of_the_file_and_nothing_else() -> None:
    # given a paid fee and someone holding only the finance role of the service's owner
    payment = _paid()
    case_file = file_of(payment.application)
    finance = person(FINANCE)
    client = signed_in(finance)

    # when
    page = client.get(f"/staff/files/{case_file.id}/")
    printed = client.get(f"/staff/files/{case_file.id}/print")

    # then the summary, the fees and the payment with its refund link; no answer, document, message, note or task
    html = page.content.decode()
    assert page.status_code == 200
    assert payment.application.reference in text_of(page)
    assert 'id="fees"' in html
    assert f"£300 Paid {payment.provider_id}" in text_of(page)
    assert f'href="/staff/payments/{payment.id}/refund"' in html
    for hidden in ('id="answers"', 'id="documents"', 'id="notes"', 'id="history"', 'id="task"', "Ada Lovelace"):
        assert hidden not in html
        assert hidden not in printed.content.decode()
    assert printed.status_code == 200
    assert f"£300 Paid {payment.provider_id}" in text_of(printed)
    assert "/refund" not in printed.content.decode()
    viewed = AuditEntry.objects.filter(action="casework.file.viewed", actor_id=str(finance.pk)).order_by("id")
    assert [entry.details for entry in viewed] == [
        {"purpose": "view", "part": "fees"},
        {"purpose": "print", "part": "fees"},
    ]


def test_an_administrator_of_the_owner_sees_the_fees_and_finance_staff_elsewhere_see_nothing() -> None:
    payment = _paid()
    case_file = file_of(payment.application)
    institution_create(code="other-council", name="Other Council")
    elsewhere = person(("other-council", "finance"), name="far")

    administrator = signed_in(person(("city-council", "administrator"))).get(f"/staff/files/{case_file.id}/")
    outsider = signed_in(elsewhere).get(f"/staff/files/{case_file.id}/")
    outsider_print = signed_in(elsewhere).get(f"/staff/files/{case_file.id}/print")

    assert administrator.status_code == 200
    assert f'href="/staff/payments/{payment.id}/refund"' in administrator.content.decode()
    assert outsider.status_code == outsider_print.status_code == 404
    assert not AuditEntry.objects.filter(action="casework.file.viewed", actor_id=str(elsewhere.pk)).exists()


def test_finance_staff_still_cannot_write_on_the_file() -> None:
    payment = _paid()
    case_file = file_of(payment.application)
    client = signed_in(person(FINANCE))
    client.get(f"/staff/files/{case_file.id}/")

    empty_note = client.post_crafted(f"/staff/files/{case_file.id}/notes", {"note": ""})
    note = client.post_crafted(f"/staff/files/{case_file.id}/notes", {"note": "Paid at the counter"})
    message = client.post_crafted(f"/staff/files/{case_file.id}/messages", {"message": "Hello"})

    assert empty_note.status_code == note.status_code == message.status_code == 404
    assert not Note.objects.filter(case_file=case_file).exists()
    assert not Message.objects.filter(case_file=case_file).exists()

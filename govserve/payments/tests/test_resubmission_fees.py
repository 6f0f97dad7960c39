"""A paid fee recomputed on a resubmission, through the real pieces: sandbox payment, casework, payments' pages.

The street trading licence's £300 fee (5 days a week, 12 months) is paid in
the sandbox before the licensing officer sends the application back about the
days. A rise is paid as an increase once approved (payments takes one
successful payment per ``paid_when``); a fall is shown to finance on the file,
where they refund it.
"""

from __future__ import annotations

import html
import re

import pytest
from django.test import Client

from govserve.casework import services as casework
from govserve.casework.models import CaseFile
from govserve.casework.tests.support import open_task, staff
from govserve.casework.tests.test_views import person, signed_in, text_of
from govserve.journeys.access import Applicant
from govserve.journeys.models import Application, ApplicationFee, ApplicationStatus
from govserve.journeys.resubmission import application_resubmit, sent_back_answers_save
from govserve.journeys.tests.support import TRADING_FORMS, Browser
from govserve.payments import services
from govserve.payments.refunds import refund_create
from govserve.payments.selectors import fee_lines, payment_link_for
from govserve.payments.tests.support import pay_in_sandbox, signed_in_client, trading_awaiting_payment

pytestmark = pytest.mark.usefixtures("examples")

OFFICER = ("city-council", "licensing-officer")
MANAGER = ("city-council", "licensing-manager")


def _paid_then_sent_back() -> tuple[Application, Applicant]:
    """Pay the £300 fee and be sent back about the days."""
    application, applicant = trading_awaiting_payment()
    payment = services.payment_start(application_id=application.id, applicant=applicant, language="en")
    pay_in_sandbox(payment)
    services.payment_refresh(payment_id=payment.id, actor=applicant.actor)
    casework.decision_record(
        user=staff(OFFICER),
        task_id=open_task(application).id,
        decision="send_back",
        reason="Check how many days you will trade",
        flagged_fields=["days_per_week"],
    )
    return application, applicant


def _days_changed(application: Application, applicant: Applicant, days: str) -> None:
    sent_back_answers_save(
        application_id=application.id,
        applicant=applicant,
        page_id="pitch",
        data={**TRADING_FORMS["pitch"], "days_per_week": [days]},
        language="en",
    )


def _paid_then_resubmitted(days: str) -> tuple[Application, Applicant]:
    """Pay the £300 fee, be sent back about the days, give ``days`` and send the application again."""
    application, applicant = _paid_then_sent_back()
    _days_changed(application, applicant, days)
    application_resubmit(application_id=application.id, applicant=applicant, declaration_accepted=True, language="en")
    application.refresh_from_db()
    return application, applicant


def _approve(application: Application) -> None:
    casework.decision_record(
        user=staff(OFFICER), task_id=open_task(application).id, decision="approve", data={"pitch_inspected": ["yes"]}
    )
    casework.decision_record(user=staff(MANAGER), task_id=open_task(application).id, decision="approve")
    application.refresh_from_db()


def test_a_rise_after_payment_is_paid_as_an_increase_once_the_licence_is_approved() -> None:
    # given a paid £300 licence sent back and sent again for 7 days a week (£320)
    application, applicant = _paid_then_resubmitted("7")
    assert application.status == ApplicationStatus.IN_PROGRESS
    # nothing more to pay while it is being decided
    assert payment_link_for(application, "en") is None

    # when the licence is approved
    _approve(application)

    # then the applicant is asked for the £20 increase, named as such, and pays it
    assert application.status == ApplicationStatus.APPROVED
    link = payment_link_for(application, "en")
    assert link is not None
    assert (link.text, link.paid_when) == ("Pay £20 now", "after_decision")
    payment = services.payment_start(
        application_id=application.id, applicant=applicant, language="en", paid_when="after_decision"
    )
    assert [(line.name, line.amount_minor) for line in fee_lines(application, payment.fees.all(), "en")] == [
        ("Licence fee: increase after the application was changed", 2000)
    ]
    pay_in_sandbox(payment)
    paid = services.payment_refresh(payment_id=payment.id, actor=applicant.actor)
    assert (paid.state, paid.amount_minor) == ("success", 2000)
    assert list(
        ApplicationFee.objects.filter(application=application)
        .order_by("id")
        .values_list("kind", "amount_minor", "paid_when", "status")
    ) == [("fee", 30000, "before_submission", "paid"), ("increase", 2000, "after_decision", "paid")]
    assert payment_link_for(application, "en") is None


def test_a_fall_after_payment_is_shown_to_finance_on_the_file_and_refunded_from_the_payment() -> None:
    # given a paid £300 licence sent back and sent again for 2 days a week (£270)
    application, _ = _paid_then_resubmitted("2")
    finance = person(("city-council", "finance"))
    case_file = CaseFile.objects.get(application=application)

    # when finance staff open the file
    page = text_of(signed_in(finance).get(f"/staff/files/{case_file.id}/"))

    # then the fee says how much more was paid than it now costs, and the payment's refund gives it back
    assert "Licence fee Paid: £30 more than it now costs after the application was changed £300" in page
    payment = application.payments.get(state="success")
    refund = refund_create(payment_id=payment.id, amount_minor=1000, reason="Fewer trading days", user=finance)
    assert (refund.state, refund.amount_minor) == ("success", 1000)
    assert payment_link_for(application, "en") is None

    # and after a part of it is refunded the file asks only for the rest, then says it was refunded
    page = text_of(signed_in(finance).get(f"/staff/files/{case_file.id}/"))
    assert "Licence fee Paid: £20 more than it now costs after the application was changed; £10 refunded £300" in page
    refund_create(payment_id=payment.id, amount_minor=2000, reason="Fewer trading days", user=finance)
    page = text_of(signed_in(finance).get(f"/staff/files/{case_file.id}/"))
    assert "Licence fee Paid: £30 refunded after the application was changed £300" in page
    assert "more than it now costs" not in page


def _refunds_due_listed(client: Browser) -> str:
    """Return the text of the reconciliation page's refunds due (its table, or the sentence saying there are none)."""
    response = client.get("/staff/payments/reconciliation")
    assert response.status_code == 200
    found = re.search(r'<(table|p)\b[^>]*id="refunds-due"[^>]*>.*?</\1>', response.content.decode(), flags=re.DOTALL)
    assert found is not None
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", found.group(0)).split()))


def test_finance_find_the_applications_with_money_to_refund_on_the_reconciliation_page() -> None:
    # given a paid £300 licence changed to cost £270
    application, _ = _paid_then_resubmitted("2")
    finance_user = person(("city-council", "finance"))
    finance = signed_in(finance_user)
    case_file = CaseFile.objects.get(application=application)

    # then its finance staff find it with what is to refund, linked to the file (where the refund link is)
    response = finance.get("/staff/payments/reconciliation")
    assert f'<a class="govuk-link" href="/staff/files/{case_file.id}/">{application.reference}</a>' in (
        response.content.decode()
    )
    assert _refunds_due_listed(finance) == f"Reference Still to refund {application.reference} £30"

    # and what is left after a part is refunded, then nothing once all of it is
    payment = application.payments.get(state="success")
    refund_create(payment_id=payment.id, amount_minor=1000, reason="Fewer trading days", user=finance_user)
    assert _refunds_due_listed(finance) == f"Reference Still to refund {application.reference} £20"
    refund_create(payment_id=payment.id, amount_minor=2000, reason="Fewer trading days", user=finance_user)
    assert _refunds_due_listed(finance) == "No application has money to refund after it was changed."


def test_finance_staff_of_another_council_do_not_see_its_refunds_due() -> None:
    _paid_then_resubmitted("2")
    other = signed_in(person(("civil-registry", "finance")))

    assert _refunds_due_listed(other) == "No application has money to refund after it was changed."


def _fee_changes_shown(client: Client, application: Application) -> list[str]:
    """Return the fee lines of the applicant's changes page (none: the section is absent)."""
    page = client.get(f"/applications/{application.id}/changes").content.decode()
    found = re.search(r'<ul[^>]*id="fee-change-list"[^>]*>(.*?)</ul>', page, flags=re.DOTALL)
    if found is None:
        return []
    items = re.findall(r"<li>(.*?)</li>", found.group(1), flags=re.DOTALL)
    return [html.unescape(" ".join(re.sub(r"<[^>]+>", " ", item).split())) for item in items]


def test_the_applicant_sees_what_the_changes_mean_for_a_paid_fee_before_sending_again() -> None:
    # given a paid £300 licence sent back about the days
    application, applicant = _paid_then_sent_back()
    client = signed_in_client(Client(), applicant)
    assert _fee_changes_shown(client, application) == []

    # when the applicant changes to 7 days a week (£320), then to 2 (£270), then back to 5
    _days_changed(application, applicant, "7")
    rise = _fee_changes_shown(client, application)
    _days_changed(application, applicant, "2")
    fall = _fee_changes_shown(client, application)
    _days_changed(application, applicant, "5")
    same = _fee_changes_shown(client, application)

    # then the changes page says what each would mean, before anything is sent or recorded
    assert rise == ["Licence fee is now £320. You have paid £300, so you will pay £20 more after the decision."]
    assert fall == ["Licence fee is now £270. You have paid £300: the council will refund the £30 difference."]
    assert same == []
    assert list(ApplicationFee.objects.filter(application=application).values_list("amount_minor", "status")) == [
        (30000, "paid")
    ]

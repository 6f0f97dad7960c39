"""The reconciliation report (ledger vs fees vs the fake Pay's search), its command, and the refunds schedule."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from django.core.management import call_command

from govserve.audit.models import AuditEntry
from govserve.core import clock
from govserve.core.errors import PermissionDeniedError, ValidationError
from govserve.payments import refunds
from govserve.payments.models import Payment
from govserve.payments.providers.fake_pay import FakePay
from govserve.payments.reconciliation import (
    Problem,
    reconciliation_allowed,
    reconciliation_report,
    refunds_refresh_submitted,
    report_csv,
)
from govserve.payments.tests.govuk_pay_support import (  # noqa: F401 - fixture
    finance_staff,
    pay_fixture,
    payment_paid,
    payment_started,
)

pytestmark = pytest.mark.usefixtures("examples")


def _period() -> tuple[dt.datetime, dt.datetime]:
    now = clock.now()
    return now - dt.timedelta(hours=1), now + dt.timedelta(hours=1)


def test_payments_that_agree_reconcile(pay: FakePay) -> None:
    # given: one paid and refunded in part, one abandoned on the payment page
    paid = payment_paid(pay)
    refunds.refund_create(payment_id=paid.id, amount_minor=50_00, reason="Overpaid", user=finance_staff(paid))
    abandoned, _application = payment_started()
    start, end = _period()

    # when
    report = reconciliation_report(from_date=start, to_date=end)

    # then
    rows = {row.payment_id: row for row in report.rows}
    assert set(rows) == {str(paid.id), str(abandoned.id)}
    assert report.problem_rows == []
    assert (rows[str(paid.id)].settled, rows[str(paid.id)].fees_paid, rows[str(paid.id)].fees_minor) == (
        True,
        True,
        300_00,
    )
    assert (rows[str(paid.id)].refunded_minor, rows[str(paid.id)].provider_refunded_minor) == (50_00, 50_00)
    assert (rows[str(abandoned.id)].our_state, rows[str(abandoned.id)].provider_state) == ("created", "created")
    assert (report.settled_minor, report.refunded_minor) == (300_00, 50_00)
    assert AuditEntry.objects.filter(action="payments.reconciliation.reported").count() == 1


def test_every_disagreement_is_named(pay: FakePay) -> None:
    # given: a success whose webhook and return never reached us, a refund made in Pay's admin tool,
    # and a payment at Pay that we have no record of
    lost, _application = payment_started()
    pay.complete(lost.provider_id, "success", send_webhook=False)
    refunded_elsewhere = payment_paid(pay)
    pay.api_refund(refunded_elsewhere.provider_id, {"amount": 10_00}, None)
    stranger_status, stranger = pay.api_create(
        {"amount": 500, "reference": "NOT-OURS", "description": "x", "return_url": "https://example.org/"}, None
    )
    start, end = _period()

    # when
    report = reconciliation_report(from_date=start, to_date=end)

    # then
    problems = {row.provider_id: row.problems for row in report.problem_rows}
    assert stranger_status == 201
    assert problems == {
        lost.provider_id: (Problem.STATE_DIFFERS,),
        refunded_elsewhere.provider_id: (Problem.REFUNDS_DIFFER,),
        stranger["payment_id"]: (Problem.UNKNOWN_TO_US,),
    }


def test_a_payment_missing_at_the_provider_and_fees_left_due_are_named(pay: FakePay) -> None:
    paid = payment_paid(pay)
    del pay.payments[paid.provider_id]  # Pay lost it (or it was made with another account's key)
    paid.fees.update(status="due")
    start, end = _period()

    [row] = reconciliation_report(from_date=start, to_date=end).rows

    assert row.problems == (Problem.MISSING_AT_PROVIDER, Problem.FEES_NOT_PAID)


def test_finance_staff_see_the_report_and_caseworkers_do_not(pay: FakePay) -> None:
    paid = payment_paid(pay)
    start, end = _period()
    finance = finance_staff(paid)
    caseworker = finance_staff(paid, "licensing_officer")

    report = reconciliation_report(from_date=start, to_date=end, user=finance)

    assert [row.payment_id for row in report.rows] == [str(paid.id)]
    assert reconciliation_allowed(finance)
    assert not reconciliation_allowed(caseworker)
    with pytest.raises(PermissionDeniedError):
        reconciliation_report(from_date=start, to_date=end, user=caseworker)


@pytest.mark.parametrize(("hours_from", "hours_to"), [(1, 0), (0, 0), (0, 24 * 93)])
def test_a_period_reversed_empty_or_too_long_is_refused(pay: FakePay, hours_from: int, hours_to: int) -> None:
    now = clock.now()

    with pytest.raises(ValidationError):
        reconciliation_report(
            from_date=now + dt.timedelta(hours=hours_from), to_date=now + dt.timedelta(hours=hours_to)
        )


def test_the_command_writes_csv_and_exits_1_when_something_does_not_reconcile(pay: FakePay) -> None:
    paid = payment_paid(pay)
    lost, _application = payment_started()
    pay.complete(lost.provider_id, "success", send_webhook=False)
    start, end = _period()
    out, err = io.StringIO(), io.StringIO()

    with pytest.raises(SystemExit) as exited:
        call_command("payments_reconcile", "--from", start.isoformat(), "--to", end.isoformat(), stdout=out, stderr=err)

    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert exited.value.code == 1
    assert {(row["payment_id"], row["problems"]) for row in rows} == {
        (str(paid.id), ""),
        (str(lost.id), "state_differs"),
    }
    assert "1 of 2 payments do not reconcile" in err.getvalue()


def test_the_command_writes_json_and_exits_0_when_everything_reconciles(pay: FakePay) -> None:
    paid = payment_paid(pay)
    out = io.StringIO()

    call_command("payments_reconcile", "--from", "2000-01-01", "--to", "2000-03-01", "--format", "json", stdout=out)
    start, end = _period()
    call_command(
        "payments_reconcile",
        "--from",
        start.isoformat(),
        "--to",
        end.isoformat(),
        "--format",
        "json",
        stdout=(second := io.StringIO()),
    )

    assert json.loads(out.getvalue())["rows"] == []
    document = json.loads(second.getvalue())
    assert [row["payment_id"] for row in document["rows"]] == [str(paid.id)]
    assert (document["problem_rows"], document["settled_minor"]) == (0, 300_00)


def test_csv_cells_never_start_a_formula(pay: FakePay) -> None:
    pay.api_create(
        {"amount": 500, "reference": "=HYPERLINK(1)", "description": "x", "return_url": "https://example.org/"}, None
    )
    start, end = _period()

    text = report_csv(reconciliation_report(from_date=start, to_date=end))

    assert "'=HYPERLINK(1)" in text


def test_the_refunds_schedule_applies_refunds_the_provider_settled(pay: FakePay) -> None:
    paid = payment_paid(pay)
    refund = refunds.refund_create(payment_id=paid.id, amount_minor=1_00, reason="Overpaid", user=finance_staff(paid))
    pay.refund_settle(paid.provider_id, refund.provider_id, "success")

    asked = refunds_refresh_submitted()

    refund.refresh_from_db()
    assert (asked, refund.state) == (1, "success")
    assert refunds_refresh_submitted() == 0
    assert Payment.objects.get(pk=paid.pk).state == "success"

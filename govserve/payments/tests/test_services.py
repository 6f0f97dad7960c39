"""Payments' services against the sandbox: start, refresh, every finished state, retries, races, the ledger."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction

from govserve.audit.models import AuditEntry
from govserve.casework.models import CaseFile
from govserve.core import clock
from govserve.journeys.models import Application, ApplicationFee, ApplicationStatus, FeeStatus
from govserve.journeys.tests.support import applicant, citizen_new
from govserve.notifications.models import OutboundEmail
from govserve.payments import errors, hooks, services
from govserve.payments.models import LedgerKind, Payment, PaymentTransaction, SandboxPayment
from govserve.payments.providers.base import PaymentState
from govserve.payments.providers.sandbox import SandboxCardRefusedError, sandbox_payment_cancel_by_payer
from govserve.payments.tests.support import (
    DECLINED_CARD,
    ERROR_CARD,
    pay_in_sandbox,
    trading_awaiting_payment,
)

pytestmark = pytest.mark.usefixtures("examples")


def _ledger(payment: Payment) -> list[tuple[str, str, str, int]]:
    return list(
        PaymentTransaction.objects.filter(payment=payment)
        .order_by("id")
        .values_list("kind", "state", "provider_state", "amount_minor")
    )


def _fee_statuses(application: Application) -> list[str]:
    return list(ApplicationFee.objects.filter(application=application).values_list("status", flat=True))


def test_starting_creates_one_attempt_at_the_sandbox_with_its_payment_page() -> None:
    # given
    application, person = trading_awaiting_payment()

    # when
    payment = services.payment_start(application_id=application.id, applicant=person, language="en")

    # then
    assert (payment.amount_minor, payment.currency, payment.state, payment.provider) == (
        30000,
        "GBP",
        "created",
        "sandbox",
    )
    assert payment.next_url == f"http://testserver/payments/sandbox/{payment.provider_id}/"
    assert list(payment.fees.values_list("fee_id", flat=True)) == ["licence-fee"]
    sandbox = SandboxPayment.objects.get(pk=payment.provider_id)
    assert (sandbox.amount_minor, sandbox.reference, sandbox.idempotency_key) == (
        30000,
        application.reference,
        payment.idempotency_key,
    )
    assert sandbox.return_url == f"http://testserver/payments/return/{payment.return_token}"
    assert _ledger(payment) == [("created", "created", "", 30000), ("provider_created", "created", "created", 30000)]
    assert AuditEntry.objects.filter(action="payments.payment.started", subject_id=str(payment.id)).count() == 1


def test_a_successful_card_settles_the_fee_submits_the_application_and_opens_its_file() -> None:
    # given
    application, person = trading_awaiting_payment()
    payment = services.payment_start(application_id=application.id, applicant=person, language="en")
    pay_in_sandbox(payment)

    # when
    paid = services.payment_refresh(payment_id=payment.id, actor=person.actor)

    # then
    application.refresh_from_db()
    assert (paid.state, paid.card_brand, paid.last_digits, paid.failure_code) == ("success", "visa", "1111", "")
    assert paid.settled_at is not None
    assert paid.finished_at is not None
    assert application.status == ApplicationStatus.SUBMITTED
    assert _fee_statuses(application) == [FeeStatus.PAID]
    assert CaseFile.objects.filter(application=application).count() == 1
    assert [row[0] for row in _ledger(paid)] == ["created", "provider_created", "state_changed", "settled"]
    receipt = OutboundEmail.objects.get(idempotency_key=f"payments.receipt:{payment.id}")
    assert (receipt.template, receipt.purpose, receipt.language) == ("payments.receipt", "payment_receipt", "en")
    assert AuditEntry.objects.filter(action="payments.payment.succeeded", subject_id=str(payment.id)).count() == 1
    assert list(application.events.values_list("kind", "from_status", "to_status"))[-1] == (
        "status_changed",
        "awaiting_payment",
        "submitted",
    )


@pytest.mark.parametrize(
    ("card", "state", "code"),
    [(DECLINED_CARD, "failed", "P0010"), (ERROR_CARD, "error", "P0050")],
)
def test_a_declined_or_erroring_card_leaves_the_fee_due_and_the_application_waiting(
    card: str, state: str, code: str
) -> None:
    # given
    application, person = trading_awaiting_payment()
    payment = services.payment_start(application_id=application.id, applicant=person, language="en")
    pay_in_sandbox(payment, card)

    # when
    refreshed = services.payment_refresh(payment_id=payment.id)

    # then
    application.refresh_from_db()
    assert (refreshed.state, refreshed.failure_code, refreshed.settled_at) == (state, code, None)
    assert application.status == ApplicationStatus.AWAITING_PAYMENT
    assert _fee_statuses(application) == [FeeStatus.DUE]
    assert not CaseFile.objects.filter(application=application).exists()
    assert not OutboundEmail.objects.filter(idempotency_key=f"payments.receipt:{payment.id}").exists()
    assert [row[0] for row in _ledger(refreshed)] == ["created", "provider_created", "state_changed"]


def test_cancelling_on_the_payment_page_leaves_everything_due() -> None:
    # given
    application, person = trading_awaiting_payment()
    payment = services.payment_start(application_id=application.id, applicant=person, language="en")
    sandbox_payment_cancel_by_payer(payment.provider_id)

    # when
    refreshed = services.payment_refresh(payment_id=payment.id)

    # then
    application.refresh_from_db()
    assert (refreshed.state, refreshed.failure_code) == ("cancelled", "P0030")
    assert application.status == ApplicationStatus.AWAITING_PAYMENT
    assert _fee_statuses(application) == [FeeStatus.DUE]


def test_declined_then_retried_successfully_makes_a_second_attempt_that_settles() -> None:
    # given
    application, person = trading_awaiting_payment()
    first = services.payment_start(application_id=application.id, applicant=person, language="en")
    pay_in_sandbox(first, DECLINED_CARD)
    services.payment_refresh(payment_id=first.id)

    # when
    second = services.payment_start(application_id=application.id, applicant=person, language="en")
    pay_in_sandbox(second)
    services.payment_refresh(payment_id=second.id)

    # then
    application.refresh_from_db()
    assert second.id != first.id
    assert second.provider_id != first.provider_id
    assert list(
        Payment.objects.filter(application=application).order_by("created_at").values_list("state", flat=True)
    ) == [
        "failed",
        "success",
    ]
    assert application.status == ApplicationStatus.SUBMITTED
    assert _fee_statuses(application) == [FeeStatus.PAID]
    assert PaymentTransaction.objects.filter(payment__application=application, kind=LedgerKind.SETTLED).count() == 1


def test_pay_now_twice_before_opening_the_page_reuses_the_same_attempt() -> None:
    # given
    application, person = trading_awaiting_payment()
    first = services.payment_start(application_id=application.id, applicant=person, language="en")

    # when
    again = services.payment_start(application_id=application.id, applicant=person, language="en")

    # then
    assert (again.id, again.next_url) == (first.id, first.next_url)
    assert SandboxPayment.objects.count() == 1


def test_pay_now_after_opening_the_page_cancels_that_attempt_and_starts_a_new_one() -> None:
    # given
    application, person = trading_awaiting_payment()
    first = services.payment_start(application_id=application.id, applicant=person, language="en")
    from govserve.payments.providers.sandbox import sandbox_payment_open  # noqa: PLC0415

    sandbox_payment_open(first.provider_id)  # the person opened the page, then came back

    # when
    again = services.payment_start(application_id=application.id, applicant=person, language="en")

    # then
    first.refresh_from_db()
    assert again.id != first.id
    assert (first.state, first.failure_code) == ("cancelled", "P0040")
    assert SandboxPayment.objects.get(pk=first.provider_id).state == "cancelled"


def test_abandoned_then_completed_later_is_applied_by_the_refresh_of_unfinished_payments(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given: the person paid on the provider's page but never came back
    application, person = trading_awaiting_payment()
    payment = services.payment_start(application_id=application.id, applicant=person, language="en")
    pay_in_sandbox(payment)

    # when: ten minutes later the scheduled refresh runs
    later = clock.now() + dt.timedelta(minutes=10)
    monkeypatch.setattr(clock, "now", lambda: later)
    refreshed = services.payments_refresh_unfinished()

    # then
    application.refresh_from_db()
    payment.refresh_from_db()
    assert refreshed == 1
    assert payment.state == "success"
    assert application.status == ApplicationStatus.SUBMITTED
    assert CaseFile.objects.filter(application=application).count() == 1


def test_refreshing_twice_applies_the_success_once() -> None:
    # given
    application, person = trading_awaiting_payment()
    payment = services.payment_start(application_id=application.id, applicant=person, language="en")
    pay_in_sandbox(payment)
    services.payment_refresh(payment_id=payment.id)
    ledger_before = _ledger(payment)
    audit_before = AuditEntry.objects.count()

    # when
    again = services.payment_refresh(payment_id=payment.id)

    # then
    assert again.state == "success"
    assert _ledger(payment) == ledger_before
    assert AuditEntry.objects.count() == audit_before
    assert OutboundEmail.objects.filter(idempotency_key=f"payments.receipt:{payment.id}").count() == 1


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_return_and_a_webhook_refreshing_at_once_settle_once_and_open_one_file(examples: None) -> None:
    # PostgreSQL row locks with real transactions; SQLite runs every write transaction IMMEDIATE, so two
    # refreshes never interleave there (test_refreshing_twice_applies_the_success_once covers it).
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers (IMMEDIATE): two transactions cannot interleave")
    # given
    application, person = trading_awaiting_payment()
    payment = services.payment_start(application_id=application.id, applicant=person, language="en")
    pay_in_sandbox(payment)
    barrier = threading.Barrier(2)
    failures: list[BaseException] = []

    def refresh() -> None:
        try:
            barrier.wait(timeout=10)
            services.payment_refresh(payment_id=payment.id)
        except BaseException as error:
            failures.append(error)
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=refresh) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then
    application.refresh_from_db()
    assert failures == []
    assert application.status == ApplicationStatus.SUBMITTED
    assert CaseFile.objects.filter(application=application).count() == 1
    assert PaymentTransaction.objects.filter(payment=payment, kind=LedgerKind.STATE_CHANGED).count() == 1
    assert PaymentTransaction.objects.filter(payment=payment, kind=LedgerKind.SETTLED).count() == 1
    assert AuditEntry.objects.filter(action="payments.payment.succeeded").count() == 1


def test_paying_when_nothing_is_due_is_refused_and_changes_nothing() -> None:
    # given: paid already
    application, person = trading_awaiting_payment()
    payment = services.payment_start(application_id=application.id, applicant=person, language="en")
    pay_in_sandbox(payment)
    services.payment_refresh(payment_id=payment.id)
    count = Payment.objects.count()

    # when / then
    with pytest.raises(errors.PaymentNotDueError):
        services.payment_start(application_id=application.id, applicant=person, language="en")
    assert Payment.objects.count() == count


def test_someone_else_cannot_pay_for_an_application() -> None:
    # given
    application, _person = trading_awaiting_payment()
    stranger = applicant(citizen_new("stranger@example.org"))

    # when / then
    with pytest.raises(errors.PaymentNotFoundError):
        services.payment_start(application_id=application.id, applicant=stranger, language="en")
    assert not Payment.objects.exists()


def test_an_unknown_payment_cannot_be_refreshed() -> None:
    import uuid  # noqa: PLC0415

    with pytest.raises(errors.PaymentNotFoundError):
        services.payment_refresh(payment_id=uuid.uuid4())


def test_a_card_that_is_not_a_test_card_is_refused_and_changes_nothing() -> None:
    # given
    application, person = trading_awaiting_payment()
    payment = services.payment_start(application_id=application.id, applicant=person, language="en")

    # when / then
    for typed in ("4111111111111111", "4444-3333-2222-111x", "", "9" * 41, "٤٤٤٤٣٣٣٣٢٢٢٢١١١١"):
        with pytest.raises(SandboxCardRefusedError):
            pay_in_sandbox(payment, typed)
    assert SandboxPayment.objects.get(pk=payment.provider_id).state == "created"


def test_the_ledger_refuses_updates_whatever_the_caller() -> None:
    # given
    application, person = trading_awaiting_payment()
    payment = services.payment_start(application_id=application.id, applicant=person, language="en")

    # when / then
    with pytest.raises(IntegrityError), transaction.atomic():
        PaymentTransaction.objects.filter(payment=payment).update(amount_minor=1)
    assert sorted(PaymentTransaction.objects.filter(payment=payment).values_list("amount_minor", flat=True)) == [
        30000,
        30000,
    ]


def test_a_second_success_for_the_same_fees_is_refused_by_the_database() -> None:
    # given
    application, person = trading_awaiting_payment()
    payment = services.payment_start(application_id=application.id, applicant=person, language="en")
    pay_in_sandbox(payment)
    services.payment_refresh(payment_id=payment.id)

    # when / then
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.create(
            application=application,
            paid_when="before_submission",
            reference=application.reference,
            amount_minor=30000,
            currency="GBP",
            provider="sandbox",
            state=PaymentState.SUCCESS,
            idempotency_key="pay-duplicate",
            return_token="t" * 43,
        )


def test_the_payment_received_hooks_run_once_inside_the_transaction() -> None:
    # given
    application, person = trading_awaiting_payment()
    payment = services.payment_start(application_id=application.id, applicant=person, language="en")
    pay_in_sandbox(payment)
    seen: list[tuple[Any, bool]] = []

    def hook(received: Payment) -> None:
        seen.append((received.id, connection.in_atomic_block))

    hooks.payment_received_hook_register(hook)
    try:
        # when
        services.payment_refresh(payment_id=payment.id)
        services.payment_refresh(payment_id=payment.id)
    finally:
        hooks.payment_hook_unregister(hook)

    # then
    assert seen == [(payment.id, True)]


def test_a_fee_due_on_collection_is_payable_once_approved_and_leaves_the_status_alone() -> None:
    # given a birth registration with two extra certificates (£25, paid on collection), approved
    from govserve.casework.tests.support import newborn_submitted  # noqa: PLC0415
    from govserve.journeys.resubmission import application_status_record  # noqa: PLC0415
    from govserve.payments.selectors import payment_link_for  # noqa: PLC0415

    application, person = newborn_submitted()
    with pytest.raises(errors.PaymentNotDueError):
        services.payment_start(
            application_id=application.id, applicant=person, language="en", paid_when="on_collection"
        )
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=application.pk)
        application_status_record(locked, to_status=ApplicationStatus.APPROVED, actor_kind="system")
    application.refresh_from_db()
    link = payment_link_for(application, "en")
    assert link is not None
    assert (link.amount, link.text, link.paid_when) == ("£25", "Pay £25 now", "on_collection")

    # when
    payment = services.payment_start(
        application_id=application.id, applicant=person, language="en", paid_when="on_collection"
    )
    pay_in_sandbox(payment)
    paid = services.payment_refresh(payment_id=payment.id)

    # then
    application.refresh_from_db()
    assert (paid.state, paid.amount_minor, paid.paid_when) == ("success", 2500, "on_collection")
    assert application.status == ApplicationStatus.APPROVED
    assert _fee_statuses(application) == [FeeStatus.PAID]
    assert CaseFile.objects.filter(application=application).count() == 1
    assert payment_link_for(application, "en") is None


def test_an_attempt_left_unpaid_expires_after_90_minutes_and_a_new_one_can_be_made(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given an attempt whose payment page was never used
    application, person = trading_awaiting_payment()
    payment = services.payment_start(application_id=application.id, applicant=person, language="en")

    # when the scheduled refresh runs 91 minutes later
    later = clock.now() + dt.timedelta(minutes=91)
    monkeypatch.setattr(clock, "now", lambda: later)
    refreshed = services.payments_refresh_unfinished()

    # then the attempt failed as expired, nothing was settled, and paying again makes a new attempt
    payment.refresh_from_db()
    application.refresh_from_db()
    assert refreshed == 1
    assert (payment.state, payment.failure_code) == ("failed", "P0020")
    assert application.status == ApplicationStatus.AWAITING_PAYMENT
    again = services.payment_start(application_id=application.id, applicant=person, language="en")
    assert again.id != payment.id
    assert again.state == "created"


def test_attempts_older_than_a_week_are_left_to_reconciliation(monkeypatch: pytest.MonkeyPatch) -> None:
    # given an unfinished attempt from eight days ago
    application, person = trading_awaiting_payment()
    services.payment_start(application_id=application.id, applicant=person, language="en")
    later = clock.now() + dt.timedelta(days=8)
    monkeypatch.setattr(clock, "now", lambda: later)

    # when / then
    assert services.payments_refresh_unfinished() == 0


def test_paid_after_withdrawing_records_the_money_but_opens_no_file() -> None:
    # given the applicant withdrew while the payment page was open, then paid there anyway
    from govserve.journeys import services as journeys  # noqa: PLC0415

    application, person = trading_awaiting_payment()
    payment = services.payment_start(application_id=application.id, applicant=person, language="en")
    journeys.application_withdraw(application_id=application.id, applicant=person)
    pay_in_sandbox(payment)

    # when
    paid = services.payment_refresh(payment_id=payment.id)

    # then the money is in the ledger (finance refunds it), the application stays withdrawn, no file opens
    application.refresh_from_db()
    assert paid.state == "success"
    assert application.status == ApplicationStatus.WITHDRAWN
    assert not CaseFile.objects.filter(application=application).exists()
    assert PaymentTransaction.objects.filter(payment=payment, kind=LedgerKind.SETTLED).count() == 1
    entry = AuditEntry.objects.get(action="payments.payment.succeeded", subject_id=str(payment.id))
    assert (entry.details["application_status"], entry.details["file_opened"]) == ("withdrawn", False)

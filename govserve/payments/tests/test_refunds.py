"""Refunds from casework against the fake Pay API: partial then full, over-refund, P0604, races, permission."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from govserve.audit.actors import Actor
from govserve.audit.models import AuditEntry
from govserve.core.errors import PermissionDeniedError, ValidationError
from govserve.payments import errors, refunds
from govserve.payments.models import LedgerKind, Payment, PaymentTransaction, Refund
from govserve.payments.providers.base import RefundState
from govserve.payments.providers.fake_pay import FakePay
from govserve.payments.tests.govuk_pay_support import finance_staff, pay_fixture, payment_paid  # noqa: F401 - fixture

pytestmark = pytest.mark.usefixtures("examples")


def _refund_ledger(payment: Payment) -> list[tuple[str, int, str]]:
    return list(
        PaymentTransaction.objects.filter(payment=payment, refund__isnull=False)
        .order_by("id")
        .values_list("kind", "amount_minor", "provider_state")
    )


def _fees_refunded(payment: Payment) -> list[tuple[int, int]]:
    return list(payment.fees.order_by("id").values_list("amount_minor", "refunded_minor"))


def test_a_partial_then_a_full_refund(pay: FakePay) -> None:
    # given: a £300 payment
    payment = payment_paid(pay)
    officer = finance_staff(payment)

    # when
    first = refunds.refund_create(payment_id=payment.id, amount_minor=100_00, reason="Licence shortened", user=officer)
    left_after_first = refunds.refundable_minor(payment)
    fees_refunded_after_first = _fees_refunded(payment)
    second = refunds.refund_create(payment_id=payment.id, amount_minor=200_00, reason="Licence withdrawn", user=officer)

    # then
    assert (first.state, first.amount_minor, first.requested_by_id) == ("submitted", 100_00, officer.pk)
    assert first.provider_id
    assert second.provider_id
    assert left_after_first == 200_00
    assert refunds.refundable_minor(payment) == 0
    # the fees the payment paid say what was given back of them
    assert fees_refunded_after_first == [(300_00, 100_00)]
    assert _fees_refunded(payment) == [(300_00, 300_00)]
    assert pay.payments[payment.provider_id].refunded == 300_00
    assert _refund_ledger(payment) == [
        (LedgerKind.REFUND_REQUESTED, 100_00, ""),
        (LedgerKind.REFUND_REQUESTED, 200_00, ""),
    ]
    assert AuditEntry.objects.filter(action="payments.refund.requested").count() == 2


def test_an_over_refund_is_refused_with_what_is_left_and_changes_nothing(pay: FakePay) -> None:
    payment = payment_paid(pay)
    officer = finance_staff(payment)
    refunds.refund_create(payment_id=payment.id, amount_minor=250_00, reason="Part refund", user=officer)

    with pytest.raises(errors.RefundNotPossibleError) as refused:
        refunds.refund_create(payment_id=payment.id, amount_minor=50_01, reason="Too much", user=officer)

    assert str(refused.value) == "You can refund at most £50.00: £50.01 is more than is left of this payment"
    assert refused.value.extra["available_minor"] == 50_00
    assert Refund.objects.filter(payment=payment).count() == 1
    assert pay.payments[payment.provider_id].refunded == 250_00


def test_a_refund_made_at_pay_meanwhile_makes_ours_refused_with_p0604(pay: FakePay) -> None:
    # given: someone refunded £10 in Pay's own admin tool, which our ledger does not know
    payment = payment_paid(pay)
    officer = finance_staff(payment)
    pay.api_refund(payment.provider_id, {"amount": 10_00}, None)

    # when
    with pytest.raises(errors.RefundNotPossibleError) as refused:
        refunds.refund_create(payment_id=payment.id, amount_minor=300_00, reason="Withdrawn", user=officer)

    # then: nothing refunded twice, our refund recorded as failed with the code
    assert refused.value.extra["provider_code"] == "P0604"
    assert "nothing was refunded" in str(refused.value)
    [refund] = Refund.objects.filter(payment=payment)
    assert refund.state == RefundState.ERROR
    assert pay.payments[payment.provider_id].refunded == 10_00
    assert _refund_ledger(payment) == [
        (LedgerKind.REFUND_REQUESTED, 300_00, ""),
        (LedgerKind.REFUND_CHANGED, 300_00, "error"),
    ]
    assert refunds.refundable_minor(payment) == 300_00  # a failed refund gives nothing back
    assert _fees_refunded(payment) == [(300_00, 0)]


def test_pay_unreachable_marks_the_refund_failed_and_a_retry_refunds_once(pay: FakePay) -> None:
    payment = payment_paid(pay)
    officer = finance_staff(payment)
    pay.fail_next(1, 500)

    with pytest.raises(errors.PaymentProviderUnavailableError):
        refunds.refund_create(payment_id=payment.id, amount_minor=300_00, reason="Withdrawn", user=officer)
    retried = refunds.refund_create(payment_id=payment.id, amount_minor=300_00, reason="Withdrawn", user=officer)

    assert list(Refund.objects.filter(payment=payment).order_by("created_at").values_list("state", flat=True)) == [
        "error",
        "submitted",
    ]
    assert retried.provider_id
    assert pay.payments[payment.provider_id].refunded == 300_00


def test_a_refund_webhook_settles_the_refund(pay: FakePay) -> None:
    payment = payment_paid(pay)
    refund = refunds.refund_create(
        payment_id=payment.id, amount_minor=20_00, reason="Overpaid", user=finance_staff(payment)
    )
    pay.refund_settle(payment.provider_id, refund.provider_id, "success")

    [refreshed] = refunds.refunds_refresh(payment=payment, actor=Actor.system("payments"))
    again = refunds.refunds_refresh(payment=payment, actor=Actor.system("payments"))

    assert refreshed.state == RefundState.SUCCESS
    assert again == []
    assert _refund_ledger(payment)[-1] == (LedgerKind.REFUND_CHANGED, 20_00, "success")
    assert AuditEntry.objects.filter(action="payments.refund.changed", subject_id=str(refund.id)).count() == 1


@pytest.mark.parametrize(
    ("amount", "reason", "message"),
    [
        (0, "Why", "Enter an amount to refund of at least 1p"),
        (-5, "Why", "Enter an amount to refund of at least 1p"),
        (100, "  ", "Enter the reason for the refund, in 500 characters or fewer"),
        (100, "x" * 501, "Enter the reason for the refund, in 500 characters or fewer"),
    ],
)
def test_unusable_amounts_and_reasons_are_refused(pay: FakePay, amount: int, reason: str, message: str) -> None:
    payment = payment_paid(pay)

    with pytest.raises(ValidationError, match=message):
        refunds.refund_create(payment_id=payment.id, amount_minor=amount, reason=reason, user=finance_staff(payment))

    assert not Refund.objects.filter(payment=payment).exists()


@pytest.mark.parametrize("role", ["licensing_officer", "auditor"])
def test_only_finance_staff_or_administrators_may_refund(pay: FakePay, role: str) -> None:
    payment = payment_paid(pay)

    with pytest.raises(PermissionDeniedError):
        refunds.refund_create(payment_id=payment.id, amount_minor=100, reason="Why", user=finance_staff(payment, role))

    administrator = finance_staff(payment, "administrator")
    refunds.refund_create(payment_id=payment.id, amount_minor=100, reason="Why", user=administrator)
    assert Refund.objects.filter(payment=payment).count() == 1


def test_an_unfinished_payment_cannot_be_refunded(pay: FakePay) -> None:
    from govserve.payments.tests.govuk_pay_support import payment_started  # noqa: PLC0415

    payment, _application = payment_started()

    with pytest.raises(errors.RefundNotPossibleError, match="Only a successful payment can be refunded"):
        refunds.refund_create(payment_id=payment.id, amount_minor=100, reason="Why", user=finance_staff(payment))


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_full_refunds_exactly_one_succeeds(pay: FakePay) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks with real concurrent transactions (SQLite runs write transactions one at a time)")
    # given: two finance officers press "Refund £300" at the same moment
    payment = payment_paid(pay)
    officers = [finance_staff(payment), finance_staff(payment)]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def refund(officer: object) -> None:
        try:
            barrier.wait(timeout=10)
            refunds.refund_create(payment_id=payment.id, amount_minor=300_00, reason="Withdrawn", user=officer)  # type: ignore[arg-type]
            outcomes.append("refunded")
        except errors.RefundNotPossibleError:
            outcomes.append("refused")
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=refund, args=(officer,)) for officer in officers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # then
    assert sorted(outcomes) == ["refunded", "refused"]
    assert pay.payments[payment.provider_id].refunded == 300_00
    assert Refund.objects.filter(payment=payment).exclude(state=RefundState.ERROR).count() == 1

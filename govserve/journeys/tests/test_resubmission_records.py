"""A resubmission recomputes what the first submission recorded: registrations, fees, required documents.

The send-back itself is casework's; here a small send-back provider (journeys'
hook) says which answers were flagged, and the status is set as casework sets
it, so that these tests exercise journeys alone. The whole path through
casework and payments is in ``govserve/payments/tests/test_resubmission_fees.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction

from govserve.audit.models import AuditEntry
from govserve.journeys import errors, hooks
from govserve.journeys.access import Applicant
from govserve.journeys.models import Application, ApplicationDocument, ApplicationFee, ApplicationStatus, FeeStatus
from govserve.journeys.registrations import fee_summary
from govserve.journeys.resubmission import application_resubmit, application_status_record, sent_back_answers_save
from govserve.journeys.resubmission_records import fees_preview
from govserve.journeys.selectors import state_load
from govserve.journeys.tests.support import (
    NEWBORN,
    NEWBORN_FORMS,
    STREET_TRADING,
    TRADING_FORMS,
    applicant,
    citizen_new,
    example_text,
    fee_rows,
    publish_text,
)
from govserve.journeys.tests.test_services import fill_newborn, fill_trading, start, submit, upload_required

pytestmark = pytest.mark.usefixtures("examples")

_flagged: dict[str, tuple[str, ...]] = {}


@pytest.fixture(autouse=True)
def _send_back_provider() -> Iterator[None]:
    """Answer the journey's "what was flagged?" for the applications of these tests (casework answers None)."""

    def provider(application: Application) -> hooks.SendBackRequest | None:
        fields = _flagged.get(str(application.id))
        return None if fields is None else hooks.SendBackRequest(fields=fields, documents=())

    hooks.send_back_provider_register(provider)
    yield
    hooks.casework_hooks_unregister(provider)
    _flagged.clear()


def _send_back(application: Application, *fields: str) -> None:
    """Set ``application`` sent back with ``fields`` flagged, as casework's decision does."""
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=application.pk)
        application_status_record(locked, to_status=ApplicationStatus.SENT_BACK, actor_kind="user")
    _flagged[str(application.id)] = fields


def _change(application: Application, person: Applicant, page_id: str, form: dict[str, list[str]]) -> list[str]:
    return sent_back_answers_save(
        application_id=application.id, applicant=person, page_id=page_id, data=form, language="en"
    )


def _resubmit(application: Application, person: Applicant, **kwargs: Any) -> Application:
    """Send ``application`` again; first check that the applicant's fee preview says what the resubmission records."""
    kwargs.setdefault("declaration_accepted", True)
    state = state_load(application)
    preview = fees_preview(application, fee_summary(state.final_evaluator())) if state.complete else None
    resent = application_resubmit(application_id=application.id, applicant=person, language="en", **kwargs)
    if preview is not None:
        assert [change.as_details() for change in preview] == _resubmitted_details(resent).get("fees", [])
    return resent


def _newborn(person: Applicant | None = None) -> tuple[Application, Applicant]:
    """Return a sent birth registration with two extra certificates (£25, paid on collection)."""
    person = person or applicant(citizen_new("anne@example.org"))
    application = start(NEWBORN, person)
    fill_newborn(application, person)
    upload_required(application, person, "mother-identity-document", "birth-notification")
    return submit(application, person).application, person


def _trading_paid() -> tuple[Application, Applicant]:
    """Return a sent street trading application whose £300 licence fee is paid (as payments' settlement marks it)."""
    person = applicant(citizen_new("ada@example.org"))
    application = start(STREET_TRADING, person)
    fill_trading(application, person)
    upload_required(application, person, "public-liability-insurance")
    sent = submit(application, person).application
    assert sent.status == ApplicationStatus.AWAITING_PAYMENT
    ApplicationFee.objects.filter(application=sent).update(status=FeeStatus.PAID)
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=sent.pk)
        application_status_record(locked, to_status=ApplicationStatus.SUBMITTED, actor_kind="system")
    return sent, person


def _pitch(days: str) -> dict[str, list[str]]:
    return {**TRADING_FORMS["pitch"], "days_per_week": [days]}


def _resubmitted_details(application: Application) -> dict[str, Any]:
    entry = AuditEntry.objects.filter(action="journeys.application.resubmitted", subject_id=str(application.id)).last()
    assert entry is not None
    return dict(entry.details)


def test_a_fee_not_yet_paid_takes_the_amount_of_the_changed_answer() -> None:
    # given a birth registration owing £25 on collection for two extra certificates, sent back about them
    application, person = _newborn()
    fee_id = ApplicationFee.objects.get(application=application).id
    _send_back(application, "extra_certificates")

    # when the applicant asks for four and sends it again
    _change(application, person, "certificates", {"extra_certificates": ["4"]})
    resent = _resubmit(application, person)

    # then the same fee row asks £50, still on collection and to pay
    assert resent.status == ApplicationStatus.IN_PROGRESS
    assert fee_rows(application) == [("extra-certificates", "fee", 5000, "on_collection", "due", 0)]
    assert ApplicationFee.objects.get(application=application).id == fee_id
    assert _resubmitted_details(application)["fees"] == [
        {
            "registration": "birth-registration",
            "fee": "extra-certificates",
            "from_minor": 2500,
            "to_minor": 5000,
            "paid_minor": 0,
            "due_minor": 5000,
            "refund_due_minor": 0,
        }
    ]


def test_a_fee_whose_condition_no_longer_holds_goes_and_comes_back_when_it_holds_again() -> None:
    # given a birth registration owing £25 for extra certificates, sent back about them
    application, person = _newborn()
    _send_back(application, "extra_certificates")

    # when the applicant wants none (the fee's `when` no longer holds)
    _change(application, person, "certificates", {"extra_certificates": ["0"]})
    _resubmit(application, person)

    # then the fee is gone
    assert fee_rows(application) == []
    assert _resubmitted_details(application)["fees"][0]["to_minor"] == 0

    # and when sent back again and one certificate asked for, it is added (£12.50 on collection)
    _send_back(application, "extra_certificates")
    _change(application, person, "certificates", {"extra_certificates": ["1"]})
    _resubmit(application, person)
    assert fee_rows(application) == [("extra-certificates", "fee", 1250, "on_collection", "due", 0)]


def test_a_resubmission_that_changes_nothing_that_costs_keeps_the_fees_and_says_nothing_of_them() -> None:
    # given a birth registration sent back about the baby's names
    application, person = _newborn()
    before = fee_rows(application)
    _send_back(application, "baby_given_names")

    # when the names are corrected
    _change(application, person, "baby", {**NEWBORN_FORMS["baby"], "baby_given_names": ["Ada"]})
    _resubmit(application, person)

    # then
    assert fee_rows(application) == before
    assert "fees" not in _resubmitted_details(application)


def test_a_paid_fee_that_rose_keeps_what_was_paid_and_leaves_the_difference_due_after_the_decision() -> None:
    # given a street trading licence whose £300 fee (5 days a week) was paid, sent back about the days
    application, person = _trading_paid()
    paid_row = ApplicationFee.objects.get(application=application)
    _send_back(application, "days_per_week")

    # when the applicant trades 7 days a week (£320) and sends it again
    _change(application, person, "pitch", _pitch("7"))
    _resubmit(application, person)

    # then the paid fee stays as paid, and £20 more is due after the decision
    assert fee_rows(application) == [
        ("licence-fee", "fee", 30000, "before_submission", "paid", 0),
        ("licence-fee", "increase", 2000, "after_decision", "due", 0),
    ]
    assert ApplicationFee.objects.filter(application=application).order_by("id").first() == paid_row
    application.refresh_from_db()
    assert application.status == ApplicationStatus.IN_PROGRESS
    assert _resubmitted_details(application)["fees"] == [
        {
            "registration": "street-trading-licence",
            "fee": "licence-fee",
            "from_minor": 30000,
            "to_minor": 32000,
            "paid_minor": 30000,
            "due_minor": 2000,
            "refund_due_minor": 0,
        }
    ]


def test_a_paid_fee_that_fell_is_flagged_for_refund_and_every_resubmission_recomputes_the_difference() -> None:
    # given a street trading licence whose £300 fee was paid, sent back about the days
    application, person = _trading_paid()
    _send_back(application, "days_per_week")

    # when the applicant trades 2 days a week (£270)
    _change(application, person, "pitch", _pitch("2"))
    _resubmit(application, person)

    # then £30 of what was paid is to be refunded; nothing is due
    assert fee_rows(application) == [("licence-fee", "fee", 30000, "before_submission", "paid", 3000)]
    assert _resubmitted_details(application)["fees"][0]["refund_due_minor"] == 3000

    # when sent back again and 7 days given (£320): no refund, £20 due
    _send_back(application, "days_per_week")
    _change(application, person, "pitch", _pitch("7"))
    _resubmit(application, person)
    assert fee_rows(application) == [
        ("licence-fee", "fee", 30000, "before_submission", "paid", 0),
        ("licence-fee", "increase", 2000, "after_decision", "due", 0),
    ]

    # when sent back once more and 5 days given (£300, what was paid): neither
    _send_back(application, "days_per_week")
    _change(application, person, "pitch", _pitch("5"))
    _resubmit(application, person)
    assert fee_rows(application) == [("licence-fee", "fee", 30000, "before_submission", "paid", 0)]


def test_a_paid_fee_that_no_longer_applies_is_all_to_refund() -> None:
    # given a definition charging the licence fee only below 7 days a week, paid by a 5-day trader
    text = example_text(STREET_TRADING).replace(
        "        paid: before_submission\n", '        paid: before_submission\n        when: "days_per_week < 7"\n', 1
    )
    publish_text(text, "trading.yaml")
    application, person = _trading_paid()
    assert application.version_number == 2
    _send_back(application, "days_per_week")

    # when the change means the fee does not apply at all
    _change(application, person, "pitch", _pitch("7"))
    _resubmit(application, person)

    # then the paid row stays, all of it to refund
    assert fee_rows(application) == [("licence-fee", "fee", 30000, "before_submission", "paid", 30000)]
    assert _resubmitted_details(application)["fees"][0]["to_minor"] == 0


def test_a_fee_before_submission_that_now_applies_is_due_after_the_decision() -> None:
    # given a definition charging the licence fee only above 5 days a week, and a 5-day trader sent nothing to pay
    text = example_text(STREET_TRADING).replace(
        "        paid: before_submission\n", '        paid: before_submission\n        when: "days_per_week > 5"\n', 1
    )
    publish_text(text, "trading.yaml")
    person = applicant(citizen_new("ada@example.org"))
    application = start(STREET_TRADING, person)
    fill_trading(application, person)
    upload_required(application, person, "public-liability-insurance")
    sent = submit(application, person).application
    assert (sent.version_number, sent.status) == (2, ApplicationStatus.SUBMITTED)
    assert fee_rows(sent) == []
    _send_back(sent, "days_per_week")

    # when the trader now trades 6 days a week (£310)
    _change(sent, person, "pitch", _pitch("6"))
    resent = _resubmit(sent, person)

    # then it is not held for payment again: the fee is due after the decision
    assert resent.status == ApplicationStatus.IN_PROGRESS
    assert fee_rows(sent) == [("licence-fee", "fee", 31000, "after_decision", "due", 0)]


def test_a_refused_change_or_resubmission_leaves_the_fees_as_they_were() -> None:
    # given a birth registration owing £25, sent back about the extra certificates
    application, person = _newborn()
    before = fee_rows(application)
    _send_back(application, "extra_certificates")

    # when the applicant gives an impossible number
    with pytest.raises(errors.AnswersInvalidError):
        _change(application, person, "certificates", {"extra_certificates": ["eleven"]})
    # and then a valid one, but sends it without the declaration
    _change(application, person, "certificates", {"extra_certificates": ["4"]})
    with pytest.raises(errors.DeclarationRequiredError):
        _resubmit(application, person, declaration_accepted=False)

    # then nothing recorded at submission changed, and it is still waiting for the applicant
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SENT_BACK
    assert fee_rows(application) == before
    assert not AuditEntry.objects.filter(action="journeys.application.resubmitted").exists()


def test_the_registrations_and_required_documents_follow_the_changed_answers() -> None:
    # given a definition asking for a collection form at the counter when extra certificates are wanted
    text = example_text(NEWBORN).replace(
        "        delivery: sign_in_person\n    fees:\n",
        "        delivery: sign_in_person\n"
        "      - id: collection-form\n"
        "        name:\n"
        "          en: Certificate collection form\n"
        "          cy: Ffurflen casglu tystysgrifau\n"
        "        when: extra_certificates_fee_due\n"
        "        delivery: counter\n"
        "    fees:\n",
        1,
    )
    publish_text(text, "newborn.yaml")
    application, person = _newborn()
    assert application.version_number == 2
    assert application.registrations == ["birth-registration", "post-partum-care", "infant-care"]
    requirements = set(
        ApplicationDocument.objects.filter(application=application).values_list("requirement_id", flat=True)
    )
    assert "collection-form" in requirements
    _send_back(application, "extra_certificates", "optional_registrations")

    # when the applicant wants no extra certificate and no infant care
    _change(application, person, "certificates", {"extra_certificates": ["0"]})
    _change(application, person, "care-programmes", {})
    _resubmit(application, person)

    # then the optional registration and the counter document are no longer recorded
    application.refresh_from_db()
    assert application.registrations == ["birth-registration", "post-partum-care"]
    after = set(ApplicationDocument.objects.filter(application=application).values_list("requirement_id", flat=True))
    assert after == requirements - {"collection-form"}
    details = _resubmitted_details(application)
    assert details["registrations"] == ["birth-registration", "post-partum-care"]
    assert details["documents_removed"] == ["collection-form"]

    # and when sent back again and two certificates asked for, the counter document is asked for again
    _send_back(application, "extra_certificates")
    _change(application, person, "certificates", {"extra_certificates": ["2"]})
    _resubmit(application, person)
    document = ApplicationDocument.objects.get(application=application, requirement_id="collection-form")
    assert (document.delivery, document.document_id, document.registration_ids) == (
        "counter",
        None,
        ["birth-registration"],
    )
    assert _resubmitted_details(application)["documents_added"] == ["collection-form"]

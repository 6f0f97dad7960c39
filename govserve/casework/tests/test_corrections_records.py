"""A staff correction recomputes the fees, required documents and registrations, as a resubmission does.

The newborn registration's extra certificates (£12.50 each, paid on
collection: never paid while the file is open) and its optional infant care
registration (which asks for the birth certificate); the street trading
licence's fee, paid before submission (``(long_licence ? 25000 : 15000) +
1000 * days_per_week + (sells_food ? 4000 : 0)``: £300 for 5 days a week, 12
months).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from govserve.accounts.models import User
from govserve.audit.models import AuditEntry
from govserve.casework import errors, services
from govserve.casework.models import Correction
from govserve.casework.services import file_open as casework_file_open
from govserve.casework.tests.support import file_of, newborn_submitted, open_task, staff, trading_paid
from govserve.casework.tests.test_views import error_summary, person, signed_in, text_of
from govserve.journeys.models import (
    Answer,
    Application,
    ApplicationDocument,
    ApplicationFee,
    ApplicationStatus,
    FeeStatus,
)
from govserve.journeys.resubmission import application_status_record
from govserve.journeys.tests.conftest import jpeg_upload
from govserve.journeys.tests.support import (
    NEWBORN,
    STREET_TRADING,
    TRADING_FORMS,
    TRADING_PATH,
    applicant,
    citizen_new,
    example_text,
    fee_rows,
    publish_text,
)
from govserve.journeys.tests.test_services import save, start, submit, upload_required

pytestmark = pytest.mark.usefixtures("examples")

REGISTRAR = ("civil-registry", "registrar")
OFFICER = ("city-council", "licensing-officer")


def _documents(application: Application) -> list[str]:
    return sorted(ApplicationDocument.objects.filter(application=application).values_list("requirement_id", flat=True))


def _audited(application: Application) -> dict[str, Any]:
    entry = AuditEntry.objects.filter(action="casework.correction.made").order_by("-id").first()
    assert entry is not None
    assert entry.subject_id == str(file_of(application).id)
    return dict(entry.details)


# Infant care asks for the baby's red book at the counter (the example's birth certificate is issued by
# the birth registration, so never asked for).
_INFANT_CARE_DOCUMENT = (
    "    documents:\n      - id: birth-certificate\n        name:\n          en: Birth certificate\n"
    "          cy: Tystysgrif geni\n        delivery: upload\n",
    "    documents:\n      - id: red-book\n        name:\n          en: Personal child health record\n"
    "          cy: Cofnod iechyd personol y plentyn\n        delivery: counter\n",
)


def _newborn_for_correction() -> tuple[Application, User]:
    """Return a newborn registration (infant care, 2 extra certificates), the registrar's task claimed."""
    text = example_text(NEWBORN)
    assert text.count(_INFANT_CARE_DOCUMENT[0]) == 1
    publish_text(
        text.replace(*_INFANT_CARE_DOCUMENT).replace(
            "      sla_working_days: 5\n",
            "      sla_working_days: 5\n      corrects: [extra_certificates, optional_registrations]\n",
            1,
        ),
        "nb.yaml",
    )
    application, _ = newborn_submitted()
    registrar = staff(REGISTRAR)
    services.task_claim(user=registrar, task_id=open_task(application).id)
    return application, registrar


def _trading_paid_for_correction() -> tuple[Application, User]:
    """Return a street trading application whose £300 fee was paid (as payments records it), its task claimed."""
    publish_text(
        example_text(STREET_TRADING).replace(
            "      sees: [full_name,",
            "      corrects: [days_per_week, trading_type, goods_description]\n      sees: [full_name,",
            1,
        ),
        f"{STREET_TRADING}.yaml",
    )
    application, _ = trading_paid()
    assert ApplicationFee.objects.filter(application=application).update(status=FeeStatus.PAID) == 1
    officer = person(OFFICER)
    services.task_claim(user=officer, task_id=open_task(application).id)
    return application, officer


def _correct(user: User, application: Application, field_id: str, values: list[str]) -> Correction:
    return services.correction_make(
        user=user,
        file_id=file_of(application).id,
        field_id=field_id,
        data={field_id: values},
        reason="Confirmed by phone",
    )


def test_a_correction_gives_an_unpaid_fee_its_new_amount_and_audits_it() -> None:
    # given two extra certificates ordered (£25, paid on collection)
    application, registrar = _newborn_for_correction()
    assert fee_rows(application) == [("extra-certificates", "fee", 2500, "on_collection", "due", 0)]

    # when the registrar corrects them to 3
    _correct(registrar, application, "extra_certificates", ["3"])

    # then the same row costs £37.50, and the audit entry says so by ids and amounts
    assert fee_rows(application) == [("extra-certificates", "fee", 3750, "on_collection", "due", 0)]
    assert _audited(application) == {
        "field": "extra_certificates",
        "fees": [
            {
                "registration": "birth-registration",
                "fee": "extra-certificates",
                "from_minor": 2500,
                "to_minor": 3750,
                "paid_minor": 0,
                "due_minor": 3750,
                "refund_due_minor": 0,
            }
        ],
    }


def test_a_correction_removes_a_fee_that_no_longer_applies() -> None:
    application, registrar = _newborn_for_correction()

    _correct(registrar, application, "extra_certificates", ["0"])

    assert fee_rows(application) == []
    assert _audited(application)["fees"] == [
        {
            "registration": "birth-registration",
            "fee": "extra-certificates",
            "from_minor": 2500,
            "to_minor": 0,
            "paid_minor": 0,
            "due_minor": 0,
            "refund_due_minor": 0,
        }
    ]


def test_a_correction_brings_the_registrations_and_documents_along() -> None:
    # given a registration with the optional infant care (which asks for the red book at the counter)
    application, registrar = _newborn_for_correction()
    assert application.registrations == ["birth-registration", "post-partum-care", "infant-care"]
    assert "red-book" in _documents(application)

    # when the registrar corrects it to no optional programme
    _correct(registrar, application, "optional_registrations", [])

    # then infant care and its document are no longer recorded; the fees are as they were
    application.refresh_from_db()
    assert application.registrations == ["birth-registration", "post-partum-care"]
    assert _documents(application) == ["birth-notification", "mother-identity-document", "registration-signature"]
    assert fee_rows(application) == [("extra-certificates", "fee", 2500, "on_collection", "due", 0)]
    audited = _audited(application)
    assert audited["registrations"] == ["birth-registration", "post-partum-care"]
    assert audited["documents_removed"] == ["red-book"]
    assert "fees" not in audited

    # and corrected back, they are recorded again
    _correct(registrar, application, "optional_registrations", ["infant-care"])
    application.refresh_from_db()
    assert application.registrations == ["birth-registration", "post-partum-care", "infant-care"]
    assert _audited(application)["documents_added"] == ["red-book"]
    assert ApplicationDocument.objects.get(application=application, requirement_id="red-book").registration_ids == [
        "infant-care"
    ]


def test_a_rise_of_a_paid_fee_is_an_increase_due_after_the_decision() -> None:
    # given a paid £300 licence (5 days a week)
    application, officer = _trading_paid_for_correction()

    # when the officer corrects it to 7 days a week (£320)
    _correct(officer, application, "days_per_week", ["7"])

    # then the paid row stays as paid and £20 is due after the decision
    assert fee_rows(application) == [
        ("licence-fee", "fee", 30000, "before_submission", "paid", 0),
        ("licence-fee", "increase", 2000, "after_decision", "due", 0),
    ]
    assert _audited(application)["fees"] == [
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


def test_a_fall_of_a_paid_fee_is_shown_on_the_file_as_paid_beyond_what_it_costs() -> None:
    # given a paid £300 licence, corrected up to 7 days a week (an increase of £20 due)
    application, officer = _trading_paid_for_correction()
    _correct(officer, application, "days_per_week", ["7"])

    # when it is corrected again to 2 days a week (£270)
    _correct(officer, application, "days_per_week", ["2"])

    # then the increase goes, £30 of what was paid is to refund, and the file's fees say so
    assert fee_rows(application) == [("licence-fee", "fee", 30000, "before_submission", "paid", 3000)]
    assert _audited(application)["fees"][0]["refund_due_minor"] == 3000
    page = text_of(signed_in(officer).get(f"/staff/files/{file_of(application).id}/"))
    assert "Licence fee Paid: £30 more than it now costs after the application was changed £300" in page


def test_a_correction_that_changes_nothing_costly_changes_no_fee_or_document_row() -> None:
    application, officer = _trading_paid_for_correction()
    fees = list(ApplicationFee.objects.filter(application=application).values())
    documents = list(ApplicationDocument.objects.filter(application=application).values())

    _correct(officer, application, "goods_description", ["Cut flowers, bouquets and wreaths"])
    _correct(officer, application, "trading_type", ["services"])

    assert list(ApplicationFee.objects.filter(application=application).values()) == fees
    assert list(ApplicationDocument.objects.filter(application=application).values()) == documents
    assert AuditEntry.objects.filter(action="casework.correction.made").count() == 2
    assert all(
        set(entry.details) == {"field"} for entry in AuditEntry.objects.filter(action="casework.correction.made")
    )


def test_a_correction_leaving_a_question_unanswered_is_refused_and_changes_nothing() -> None:
    # given a paid licence to sell goods
    application, officer = _trading_paid_for_correction()
    fees = fee_rows(application)
    documents = _documents(application)

    # when the officer corrects it to food, which asks for a food business number the applicant never gave
    with pytest.raises(errors.CorrectionInvalidError) as refused:
        _correct(officer, application, "trading_type", ["food"])

    # then the correction is refused and nothing changed
    assert "send the application back" in refused.value.message
    assert not refused.value.extra.get("errors")
    assert fee_rows(application) == fees
    assert _documents(application) == documents
    assert not Correction.objects.exists()
    assert Answer.objects.get(application=application, field_id="trading_type").field_id == "trading_type"
    assert not AuditEntry.objects.filter(action="casework.correction.made").exists()


def test_the_correction_page_says_why_a_correction_leaving_a_question_unanswered_is_refused() -> None:
    application, officer = _trading_paid_for_correction()
    url = f"/staff/files/{file_of(application).id}/answers/trading_type/correct"

    client = signed_in(officer)
    client.get(url)

    response = client.post(url, {"trading_type": "food", "reason": "Phoned the applicant"})

    assert response.status_code == 400
    assert error_summary(response) == [
        "This answer changes which questions the application asks or ends it: "
        "send the application back to the applicant instead"
    ]
    assert not Correction.objects.exists()


def test_an_invalid_correction_changes_no_fee() -> None:
    application, registrar = _newborn_for_correction()

    with pytest.raises(errors.CorrectionInvalidError):
        _correct(registrar, application, "extra_certificates", ["many"])

    assert fee_rows(application) == [("extra-certificates", "fee", 2500, "on_collection", "due", 0)]
    assert not Correction.objects.exists()
    assert not AuditEntry.objects.filter(action="casework.correction.made").exists()


def test_no_correction_and_no_fee_change_once_the_file_is_decided() -> None:
    # given a newborn registration rejected by the registrar (the file closed)
    application, registrar = _newborn_for_correction()
    services.decision_record(
        user=registrar, task_id=open_task(application).id, decision="reject", reason="Registered elsewhere"
    )

    # when the registrar tries to correct the certificates
    with pytest.raises(errors.FileNotOpenError):
        _correct(registrar, application, "extra_certificates", ["5"])

    # then the fee is as it was
    assert fee_rows(application) == [("extra-certificates", "fee", 2500, "on_collection", "due", 0)]
    assert not Correction.objects.exists()


def _trading_food_paid_for_correction(*, food_page_always: bool = False) -> tuple[Application, User]:
    """Return a paid street trading licence to sell food (its food business page answered), its task claimed.

    ``food_page_always``: the definition asks the food business page of every trader (so a correction to
    food brings no new page onto the path, only the food hygiene certificate to upload).
    """
    text = example_text(STREET_TRADING).replace(
        "      sees: [full_name,",
        "      corrects: [days_per_week, trading_type, goods_description]\n      sees: [full_name,",
        1,
    )
    if food_page_always:
        assert text.count("    when: sells_food\n    fields:") == 1
        text = text.replace("    when: sells_food\n    fields:", "    fields:", 1)
    publish_text(text, f"{STREET_TRADING}.yaml")
    trader = applicant(citizen_new("food-trader@example.org"))
    application = start(STREET_TRADING, trader)
    kind = "goods" if food_page_always else "food"
    for page_id in TRADING_PATH:
        if page_id == "photo":
            save(application, trader, "photo", {}, files={"photo": jpeg_upload()})
            continue
        form = TRADING_FORMS[page_id]
        save(application, trader, page_id, {**form, "trading_type": [kind]} if page_id == "trading-type" else form)
        if page_id == "trading-type":
            save(application, trader, "food-business", TRADING_FORMS["food-business"])
    upload_required(
        application, trader, "public-liability-insurance", *(() if food_page_always else ("food-hygiene-certificate",))
    )
    sent = submit(application, trader).application
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=sent.pk)
        application_status_record(locked, to_status=ApplicationStatus.SUBMITTED, actor_kind="system")
        casework_file_open(locked)
    assert ApplicationFee.objects.filter(application=sent).update(status=FeeStatus.PAID) == 1
    officer = person(OFFICER)
    services.task_claim(user=officer, task_id=open_task(sent).id)
    return sent, officer


def test_a_correction_taking_a_page_off_the_path_deletes_its_answers_as_a_submission_does() -> None:
    # given a paid licence to sell food (£340), with its food business number and food hygiene certificate
    application, officer = _trading_food_paid_for_correction()
    assert Answer.objects.filter(application=application, field_id="food_registration_number").exists()
    assert "food-hygiene-certificate" in _documents(application)

    # when the officer corrects it to goods
    _correct(officer, application, "trading_type", ["goods"])

    # then the food business page's answer goes (the page is no longer asked), and so does its document;
    # the £40 food supplement was paid and is now to refund; the audit entry names the answer removed, not its value
    assert not Answer.objects.filter(application=application, field_id="food_registration_number").exists()
    assert "food-hygiene-certificate" not in _documents(application)
    assert fee_rows(application) == [("licence-fee", "fee", 34000, "before_submission", "paid", 4000)]
    audited = _audited(application)
    assert audited["answers_removed"] == ["food_registration_number"]
    assert audited["documents_removed"] == ["food-hygiene-certificate"]
    assert "FB123456" not in str(audited)


def test_a_correction_asking_for_an_upload_the_application_lacks_is_refused_and_changes_nothing() -> None:
    # given a paid licence to sell goods, on a definition that asks every trader the food business page
    application, officer = _trading_food_paid_for_correction(food_page_always=True)
    fees = fee_rows(application)
    documents = _documents(application)

    # when the officer corrects it to food, which needs a food hygiene certificate the applicant never uploaded
    with pytest.raises(errors.CorrectionInvalidError) as refused:
        _correct(officer, application, "trading_type", ["food"])

    # then the correction is refused, saying what is missing, and nothing changed
    assert refused.value.message == (
        "With this answer the application is not complete (Upload food hygiene certificate (level 2 or above)): "
        "send the application back to the applicant instead"
    )
    assert fee_rows(application) == fees
    assert _documents(application) == documents
    assert Answer.objects.get(application=application, field_id="trading_type").field_id == "trading_type"
    assert not Correction.objects.exists()
    assert not AuditEntry.objects.filter(action="casework.correction.made").exists()

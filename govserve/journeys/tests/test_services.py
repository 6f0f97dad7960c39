"""The journey's services on the published examples: start, save, groups, submit, withdraw, delete, expire."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from django.db import IntegrityError

from govserve.audit.models import AuditEntry
from govserve.catalogue.services import service_retire
from govserve.core import clock
from govserve.journeys import errors, selectors, services
from govserve.journeys.access import Applicant, token_hash
from govserve.journeys.models import (
    Answer,
    Application,
    ApplicationDocument,
    ApplicationEvent,
    ApplicationFee,
    ApplicationStatus,
    JourneyEvent,
)
from govserve.journeys.tests.conftest import jpeg_upload, pdf_upload
from govserve.journeys.tests.support import (
    LIGHT_FORMS,
    LIGHT_PATH,
    NEWBORN,
    NEWBORN_FORMS,
    NEWBORN_PATH,
    STREET_LIGHT,
    STREET_TRADING,
    TRADING_FORMS,
    TRADING_PATH,
    applicant,
    citizen_new,
    date_form,
    example_text,
    publish_text,
)
from govserve.notifications.models import OutboundEmail
from govserve.privacy.crypto import unseal_text
from govserve.privacy.models import DataKey

pytestmark = pytest.mark.usefixtures("examples")

KEY = "submit-key-0001"


def start(service_id: str = STREET_TRADING, who: Applicant | None = None, **kwargs: Any) -> Application:
    person = who or applicant(citizen_new())
    return services.application_start(service_id=service_id, applicant=person, language="en", **kwargs).application


def save(application: Application, who: Applicant, page_id: str, form: dict[str, list[str]], **kwargs: Any) -> Any:
    return services.page_answers_save(
        application_id=application.id, applicant=who, page_id=page_id, data=form, language="en", **kwargs
    )


def fill_trading(application: Application, who: Applicant, *, upload_photo: bool = True) -> None:
    for page_id in TRADING_PATH:
        if page_id == "photo":
            save(application, who, "photo", {}, files={"photo": jpeg_upload()} if upload_photo else {})
        else:
            save(application, who, page_id, TRADING_FORMS[page_id])


def fill_newborn(application: Application, who: Applicant) -> None:
    today = clock.now().date()
    save(application, who, "baby-date-of-birth", date_form("baby_date_of_birth", today - dt.timedelta(days=3)))
    for page_id in NEWBORN_PATH[1:]:
        save(application, who, page_id, NEWBORN_FORMS[page_id])


def upload_required(application: Application, who: Applicant, *document_ids: str) -> None:
    for document_id in document_ids:
        services.requirement_upload(
            application_id=application.id, applicant=who, document_id=document_id, upload=pdf_upload()
        )


def submit(application: Application, who: Applicant, key: str = KEY, **kwargs: Any) -> services.SubmitResult:
    kwargs.setdefault("declaration_accepted", True)
    return services.application_submit(
        application_id=application.id, applicant=who, idempotency_key=key, language="en", **kwargs
    )


# --- starting ---------------------------------------------------------------------------------------------


def test_a_signed_in_citizen_starts_a_draft_pinned_to_the_latest_version() -> None:
    citizen = citizen_new()

    result = services.application_start(service_id=STREET_TRADING, applicant=applicant(citizen), language="cy")

    application = result.application
    assert result.created
    assert result.access_token is None
    assert application.status == ApplicationStatus.DRAFT
    assert application.version_number == 1
    assert application.service_version.number == 1
    assert application.citizen == citizen
    assert application.language == "cy"
    assert application.access_token_hash is None
    assert len(application.reference) == 9
    assert application.expires_at is not None
    assert application.expires_at - application.created_at == dt.timedelta(days=28)
    assert list(application.events.values_list("kind", "to_status")) == [("started", "draft")]
    assert AuditEntry.objects.filter(action="journeys.application.started", subject_id=str(application.id)).count() == 1
    assert JourneyEvent.objects.filter(kind="started", application_id=application.id).count() == 1


def test_a_sign_in_service_refuses_an_anonymous_start() -> None:
    with pytest.raises(errors.SignInRequiredError):
        services.application_start(
            service_id=STREET_TRADING, applicant=Applicant(), language="en", contact_email="a@example.org"
        )

    assert Application.objects.count() == 0


def test_an_anonymous_start_emails_the_link_and_keeps_only_the_token_hash() -> None:
    result = services.application_start(
        service_id=STREET_LIGHT, applicant=Applicant(), language="en", contact_email="Charles@Example.org "
    )

    application = result.application
    assert result.access_token is not None
    assert application.citizen is None
    assert application.access_token_hash == token_hash(result.access_token)
    assert result.access_token not in application.access_token_hash
    assert application.contact_email_sealed is not None
    assert services.applicant_email(application) == "Charles@example.org"
    assert application.expires_at is not None
    assert application.expires_at - application.created_at == dt.timedelta(days=7)
    emails = OutboundEmail.objects.filter(purpose="resume_application")
    assert emails.count() == 1


def test_an_anonymous_start_needs_a_valid_email_address() -> None:
    with pytest.raises(errors.ContactEmailInvalidError):
        services.application_start(service_id=STREET_LIGHT, applicant=Applicant(), language="en", contact_email="nope")

    assert Application.objects.count() == 0
    assert OutboundEmail.objects.count() == 0


def test_the_same_start_key_twice_gives_one_application() -> None:
    who = applicant(citizen_new())

    first = services.application_start(service_id=STREET_TRADING, applicant=who, language="en", start_key="k" * 32)
    second = services.application_start(service_id=STREET_TRADING, applicant=who, language="en", start_key="k" * 32)

    assert second.application.id == first.application.id
    assert not second.created
    assert Application.objects.count() == 1


def test_another_citizens_start_key_starts_a_new_application_without_the_key() -> None:
    # given an application started with a key
    owner = applicant(citizen_new())
    first = services.application_start(service_id=STREET_TRADING, applicant=owner, language="en", start_key="c" * 32)

    # when someone else sends the same key (a copied form)
    other = applicant(citizen_new("copier@example.org"))
    second = services.application_start(service_id=STREET_TRADING, applicant=other, language="en", start_key="c" * 32)

    # then they get an application of their own, which does not take the key; the first keeps it
    assert second.created
    assert second.application.id != first.application.id
    assert other.citizen is not None
    assert second.application.citizen_id == other.citizen.id
    assert Application.objects.get(id=second.application.id).start_key is None
    assert Application.objects.get(id=first.application.id).start_key == "c" * 32
    assert Application.objects.count() == 2


def test_a_retired_service_takes_no_new_applications_but_drafts_finish() -> None:
    who = applicant(citizen_new())
    draft = start(STREET_TRADING, who)
    service_retire(service_id=STREET_TRADING, actor=None, reason="closing")

    with pytest.raises(errors.ServiceClosedError):
        start(STREET_TRADING, who)

    fill_trading(draft, who)
    upload_required(draft, who, "public-liability-insurance")
    result = submit(draft, who)
    assert result.application.status == ApplicationStatus.AWAITING_PAYMENT
    assert Application.objects.count() == 1


def test_a_draft_stays_on_its_version_when_a_new_one_is_published() -> None:
    who = applicant(citizen_new())
    draft = start(STREET_TRADING, who)
    # v2 asks for a trading name after the name page
    text = example_text(STREET_TRADING).replace(
        "  - id: contact-details\n",
        "  - id: trading-name\n    title: What is your trading name?\n    fields:\n"
        "      - id: trading_name\n        type: text\n        label: Trading name\n        classification: public\n"
        "  - id: contact-details\n",
        1,
    )
    publish_text(text, "street-trading-licence.yaml")

    newer = start(STREET_TRADING, who)
    save(draft, who, "age", TRADING_FORMS["age"])
    result = save(draft, who, "your-name", TRADING_FORMS["your-name"])

    assert newer.version_number == 2
    assert result.application.version_number == 1
    assert result.state.path[-1] == "contact-details"
    save(newer, who, "age", TRADING_FORMS["age"])
    assert save(newer, who, "your-name", TRADING_FORMS["your-name"]).state.path[-1] == "trading-name"


# --- saving pages -----------------------------------------------------------------------------------------


def test_saving_a_page_seals_the_answers_and_moves_the_path_on() -> None:
    who = applicant(citizen_new())
    application = start(STREET_TRADING, who)

    result = save(application, who, "age", TRADING_FORMS["age"])

    assert result.changed == ["date_of_birth"]
    assert result.state.path == ["age", "your-name"]
    assert result.application.pages_completed == ["age"]
    stored = Answer.objects.get(application=application, field_id="date_of_birth")
    assert b"1990" not in bytes(stored.value_sealed)
    assert selectors.state_load(application).answers == {"date_of_birth": dt.date(1990, 3, 27)}


def test_an_invalid_page_saves_nothing_and_records_only_field_ids_and_codes() -> None:
    who = applicant(citizen_new())
    application = start(STREET_TRADING, who)
    save(application, who, "age", TRADING_FORMS["age"])
    save(application, who, "your-name", TRADING_FORMS["your-name"])
    before = list(Answer.objects.filter(application=application).values_list("field_id", "value_sealed"))

    with pytest.raises(errors.AnswersInvalidError) as raised:
        save(application, who, "contact-details", {"email": ["not an email"], "phone": ["07700 900123"]})

    assert [(error.field_id, error.code) for error in raised.value.errors] == [("email", "format")]
    assert list(Answer.objects.filter(application=application).values_list("field_id", "value_sealed")) == before
    event = JourneyEvent.objects.get(kind="validation_error", application_id=application.id)
    assert event.page_id == "contact-details"
    assert event.details == {"errors": [{"field": "email", "code": "format"}]}
    assert "not an email" not in str(event.details)
    assert "contact-details" not in Application.objects.get(pk=application.pk).pages_completed


def test_skipping_ahead_to_a_page_not_on_the_path_is_refused() -> None:
    who = applicant(citizen_new())
    application = start(STREET_TRADING, who)

    with pytest.raises(errors.PageNotFoundError):
        save(application, who, "pitch", TRADING_FORMS["pitch"])

    assert Answer.objects.filter(application=application).count() == 0


def test_another_citizen_cannot_save_into_an_application() -> None:
    owner = applicant(citizen_new("owner@example.org"))
    other = applicant(citizen_new("other@example.org"))
    application = start(STREET_TRADING, owner)

    with pytest.raises(errors.ApplicationNotFoundError):
        save(application, other, "age", TRADING_FORMS["age"])

    assert Answer.objects.filter(application=application).count() == 0


def test_a_hidden_field_is_neither_validated_nor_saved() -> None:
    who = applicant(None)
    application = services.application_start(
        service_id=STREET_LIGHT, applicant=Applicant(), language="en", contact_email="c@example.org"
    ).application
    who = applicant(None, application.id)
    save(application, who, "private-land", LIGHT_FORMS["private-land"])

    # "exposed_wires" is asked only for a damaged light: a tampered value for it is ignored
    result = save(application, who, "problem", {"problem": ["out"], "exposed_wires": ["maybe"]})

    assert result.changed == ["problem"]
    assert not Answer.objects.filter(application=application, field_id="exposed_wires").exists()


def test_a_tampered_option_value_is_an_error_not_an_answer() -> None:
    who = applicant(citizen_new())
    application = start(STREET_TRADING, who)
    for page_id in TRADING_PATH[:4]:
        save(application, who, page_id, TRADING_FORMS[page_id])

    with pytest.raises(errors.AnswersInvalidError) as raised:
        save(application, who, "trading-type", {"trading_type": ["weapons"], "goods_description": ["x"]})

    assert [error.field_id for error in raised.value.errors] == ["trading_type"]
    assert not Answer.objects.filter(application=application, field_id="trading_type").exists()


# --- repeating groups ------------------------------------------------------------------------------------


def _to_assistants(who: Applicant) -> Application:
    application = start(STREET_TRADING, who)
    for page_id in TRADING_PATH[:6]:
        save(application, who, page_id, TRADING_FORMS[page_id])
    return application


def assistant_form(name: str, born: dt.date) -> dict[str, list[str]]:
    return {"assistant_name": [name], **date_form("assistant_date_of_birth", born)}


def test_group_items_are_added_changed_and_removed() -> None:
    who = applicant(citizen_new())
    application = _to_assistants(who)

    first = services.group_item_save(
        application_id=application.id,
        applicant=who,
        page_id="assistants",
        group_id="assistants",
        item_id=None,
        data=assistant_form("Grace Hopper", dt.date(1980, 12, 9)),
        language="en",
    )
    second = services.group_item_save(
        application_id=application.id,
        applicant=who,
        page_id="assistants",
        group_id="assistants",
        item_id=None,
        data=assistant_form("Alan Turing", dt.date(1982, 6, 23)),
        language="en",
    )
    services.group_item_save(
        application_id=application.id,
        applicant=who,
        page_id="assistants",
        group_id="assistants",
        item_id=first,
        data=assistant_form("Grace Brewster Hopper", dt.date(1980, 12, 9)),
        language="en",
    )
    save(application, who, "assistants", {})
    services.group_item_remove(
        application_id=application.id, applicant=who, page_id="assistants", group_id="assistants", item_id=second
    )

    application.refresh_from_db()
    state = selectors.state_load(application)
    assert state.answers["assistants"] == [
        {"_id": first, "assistant_name": "Grace Brewster Hopper", "assistant_date_of_birth": dt.date(1980, 12, 9)}
    ]
    # removing an item asks the applicant to confirm the list again
    assert state.first_unanswered == "assistants"


def test_a_group_item_rule_reads_the_sibling_answer() -> None:
    who = applicant(citizen_new())
    application = _to_assistants(who)
    young = clock.now().date().replace(year=clock.now().year - 15)

    with pytest.raises(errors.AnswersInvalidError) as raised:
        services.group_item_save(
            application_id=application.id,
            applicant=who,
            page_id="assistants",
            group_id="assistants",
            item_id=None,
            data=assistant_form("Young Person", young),
            language="en",
        )

    assert [(error.field_id, error.code, error.message) for error in raised.value.errors] == [
        ("assistant_date_of_birth", "rule_0", "Assistants must be 16 or older")
    ]
    assert not Answer.objects.filter(application=application, field_id="assistants").exists()


def test_a_group_refuses_more_than_max_items() -> None:
    who = applicant(citizen_new())
    application = _to_assistants(who)
    for number in range(4):
        services.group_item_save(
            application_id=application.id,
            applicant=who,
            page_id="assistants",
            group_id="assistants",
            item_id=None,
            data=assistant_form(f"Assistant {number}", dt.date(1980, 1, 1)),
            language="en",
        )

    with pytest.raises(errors.AnswersInvalidError) as raised:
        services.group_item_save(
            application_id=application.id,
            applicant=who,
            page_id="assistants",
            group_id="assistants",
            item_id=None,
            data=assistant_form("One too many", dt.date(1980, 1, 1)),
            language="en",
        )

    assert [error.code for error in raised.value.errors] == ["max_items"]
    assert len(selectors.state_load(application).answers["assistants"]) == 4


def test_removing_an_unknown_item_is_refused() -> None:
    who = applicant(citizen_new())
    application = _to_assistants(who)

    with pytest.raises(errors.GroupItemNotFoundError):
        services.group_item_remove(
            application_id=application.id, applicant=who, page_id="assistants", group_id="assistants", item_id="nope"
        )


# --- submitting ------------------------------------------------------------------------------------------


def test_the_street_trading_licence_waits_for_payment_with_its_fee_recorded() -> None:
    who = applicant(citizen_new())
    application = start(STREET_TRADING, who)
    fill_trading(application, who)
    upload_required(application, who, "public-liability-insurance")

    result = submit(application, who)

    sent = result.application
    assert not result.replayed
    assert sent.status == ApplicationStatus.AWAITING_PAYMENT
    assert sent.submitted_at is not None
    assert sent.expires_at is None
    assert sent.registrations == ["street-trading-licence"]
    assert list(ApplicationFee.objects.filter(application=sent).values_list("fee_id", "amount_minor", "paid_when")) == [
        ("licence-fee", 30000, "before_submission")
    ]
    documents = ApplicationDocument.objects.filter(application=sent).order_by("id")
    assert [(doc.requirement_id, doc.delivery, doc.document_id is not None) for doc in documents] == [
        ("public-liability-insurance", "upload", True),
        ("licence-declaration", "sign_in_person", False),
    ]
    assert list(sent.events.values_list("kind", "from_status", "to_status")) == [
        ("started", "", "draft"),
        ("submitted", "draft", "awaiting_payment"),
    ]
    assert OutboundEmail.objects.filter(purpose="submission_confirmation").count() == 1


def test_the_newborn_registration_is_submitted_with_fees_due_on_collection() -> None:
    who = applicant(citizen_new())
    application = start(NEWBORN, who)
    fill_newborn(application, who)
    upload_required(application, who, "mother-identity-document", "birth-notification")

    sent = submit(application, who).application

    assert sent.status == ApplicationStatus.SUBMITTED
    assert sent.registrations == ["birth-registration", "post-partum-care", "infant-care"]
    assert list(ApplicationFee.objects.filter(application=sent).values_list("fee_id", "amount_minor", "paid_when")) == [
        ("extra-certificates", 2500, "on_collection")
    ]
    assert list(
        ApplicationDocument.objects.filter(application=sent).values_list("requirement_id", "registration_ids")
    ) == [
        ("mother-identity-document", ["birth-registration", "post-partum-care"]),
        ("birth-notification", ["birth-registration"]),
        ("registration-signature", ["birth-registration"]),
    ]


def test_the_anonymous_street_light_report_is_submitted_and_confirmed_by_email() -> None:
    started = services.application_start(
        service_id=STREET_LIGHT, applicant=Applicant(), language="en", contact_email="charles@example.org"
    )
    application = started.application
    who = applicant(None, application.id)
    for page_id in LIGHT_PATH:
        save(application, who, page_id, LIGHT_FORMS[page_id])

    sent = submit(application, who).application

    assert sent.status == ApplicationStatus.SUBMITTED
    assert OutboundEmail.objects.filter(purpose="submission_confirmation").count() == 1
    assert JourneyEvent.objects.filter(kind="submission", application_id=application.id).count() == 1


def test_submitting_without_the_declaration_changes_nothing() -> None:
    who = applicant(citizen_new())
    application = start(NEWBORN, who)
    fill_newborn(application, who)
    upload_required(application, who, "mother-identity-document", "birth-notification")

    with pytest.raises(errors.DeclarationRequiredError):
        submit(application, who, declaration_accepted=False)

    assert Application.objects.get(pk=application.pk).status == ApplicationStatus.DRAFT
    assert OutboundEmail.objects.filter(purpose="submission_confirmation").count() == 0


def test_submitting_an_unfinished_application_names_the_first_page_to_answer() -> None:
    who = applicant(citizen_new())
    application = start(STREET_TRADING, who)
    save(application, who, "age", TRADING_FORMS["age"])

    with pytest.raises(errors.SubmissionIncompleteError) as raised:
        submit(application, who)

    assert [(problem.where, problem.code) for problem in raised.value.problems] == [("your-name", "unanswered")]
    assert Application.objects.get(pk=application.pk).status == ApplicationStatus.DRAFT


def test_submitting_without_a_required_upload_is_refused() -> None:
    who = applicant(citizen_new())
    application = start(STREET_TRADING, who)
    fill_trading(application, who)

    with pytest.raises(errors.SubmissionIncompleteError) as raised:
        submit(application, who)

    assert [(problem.where, problem.code, problem.message) for problem in raised.value.problems] == [
        ("documents", "document_missing", "Upload proof of public liability insurance")
    ]
    assert ApplicationFee.objects.count() == 0


def test_a_document_waiting_for_its_scan_blocks_submission(settings: Any) -> None:
    who = applicant(citizen_new())
    application = start(STREET_TRADING, who)
    fill_trading(application, who)
    settings.GOVSERVE_SCANNER = "clamd://127.0.0.1:9"  # nothing listens: the upload is stored pending
    upload_required(application, who, "public-liability-insurance")

    with pytest.raises(errors.SubmissionIncompleteError) as raised:
        submit(application, who)

    assert [(problem.where, problem.code) for problem in raised.value.problems] == [
        ("documents", "document_scan_pending")
    ]


def test_answers_off_the_path_are_deleted_at_submission() -> None:
    who = applicant(citizen_new())
    application = start(STREET_TRADING, who)
    for page_id in TRADING_PATH[:4]:
        save(application, who, page_id, TRADING_FORMS[page_id])
    save(application, who, "trading-type", {"trading_type": ["food"], "goods_description": ["Hot dogs"]})
    save(application, who, "food-business", TRADING_FORMS["food-business"])
    fill_trading(application, who)  # back to goods
    upload_required(application, who, "public-liability-insurance")
    assert Answer.objects.filter(application=application, field_id="food_registration_number").exists()

    submit(application, who)

    assert not Answer.objects.filter(application=application, field_id="food_registration_number").exists()
    assert set(Answer.objects.filter(application=application).values_list("field_id", flat=True)) == {
        "date_of_birth",
        "full_name",
        "email",
        "phone",
        "home_address",
        "trading_type",
        "goods_description",
        "pitch_location",
        "days_per_week",
        "licence_length",
        "assistants",
        "photo",
    }


def test_the_same_submit_key_twice_sends_once() -> None:
    who = applicant(citizen_new())
    application = start(NEWBORN, who)
    fill_newborn(application, who)
    upload_required(application, who, "mother-identity-document", "birth-notification")

    first = submit(application, who)
    second = submit(application, who)

    assert not first.replayed
    assert second.replayed
    assert second.application.reference == first.application.reference
    assert ApplicationEvent.objects.filter(application=application, kind="submitted").count() == 1
    assert OutboundEmail.objects.filter(purpose="submission_confirmation").count() == 1
    assert AuditEntry.objects.filter(action="journeys.application.submitted").count() == 1
    assert ApplicationFee.objects.filter(application=application).count() == 1


def test_another_key_on_a_sent_application_is_refused_without_change() -> None:
    who = applicant(citizen_new())
    application = start(NEWBORN, who)
    fill_newborn(application, who)
    upload_required(application, who, "mother-identity-document", "birth-notification")
    submit(application, who)

    with pytest.raises(errors.ApplicationAlreadySubmittedError):
        submit(application, who, key="another-key-0002")

    assert ApplicationEvent.objects.filter(application=application, kind="submitted").count() == 1


def test_a_malformed_submit_key_is_refused() -> None:
    who = applicant(citizen_new())
    application = start(NEWBORN, who)

    with pytest.raises(errors.SubmissionIncompleteError) as raised:
        submit(application, who, key="<script>")

    assert [problem.code for problem in raised.value.problems] == ["submit_key_invalid"]


# --- withdrawing, deleting, expiring -----------------------------------------------------------------------


def test_a_sent_application_can_be_withdrawn_once() -> None:
    who = applicant(citizen_new())
    application = start(NEWBORN, who)
    fill_newborn(application, who)
    upload_required(application, who, "mother-identity-document", "birth-notification")
    submit(application, who)

    withdrawn = services.application_withdraw(application_id=application.id, applicant=who)

    assert withdrawn.status == ApplicationStatus.WITHDRAWN
    assert withdrawn.withdrawn_at is not None
    with pytest.raises(errors.NotWithdrawableError):
        services.application_withdraw(application_id=application.id, applicant=who)
    assert ApplicationEvent.objects.filter(application=application, kind="withdrawn").count() == 1


def test_a_draft_cannot_be_withdrawn() -> None:
    who = applicant(citizen_new())
    application = start(NEWBORN, who)

    with pytest.raises(errors.NotWithdrawableError):
        services.application_withdraw(application_id=application.id, applicant=who)

    assert Application.objects.get(pk=application.pk).status == ApplicationStatus.DRAFT


def test_deleting_a_draft_removes_it_and_shreds_its_key() -> None:
    who = applicant(citizen_new())
    application = start(STREET_TRADING, who)
    save(application, who, "age", TRADING_FORMS["age"])

    services.application_draft_delete(application_id=application.id, applicant=who)

    assert not Application.objects.filter(pk=application.pk).exists()
    assert not Answer.objects.filter(application_id=application.pk).exists()
    assert DataKey.objects.get(owner=f"application:{application.id}").destroyed_at is not None
    assert AuditEntry.objects.filter(action="journeys.application.draft_deleted").count() == 1


def test_a_sent_application_cannot_be_deleted() -> None:
    who = applicant(citizen_new())
    application = start(NEWBORN, who)
    fill_newborn(application, who)
    upload_required(application, who, "mother-identity-document", "birth-notification")
    submit(application, who)

    with pytest.raises(errors.NotDeletableError):
        services.application_draft_delete(application_id=application.id, applicant=who)

    assert Application.objects.filter(pk=application.pk).exists()


def test_drafts_past_their_expiry_are_expired_and_emptied(monkeypatch: pytest.MonkeyPatch) -> None:
    who = applicant(citizen_new())
    old = start(STREET_TRADING, who)
    save(old, who, "age", TRADING_FORMS["age"])
    fresh = start(NEWBORN, who)
    later = clock.now() + dt.timedelta(days=29)
    monkeypatch.setattr(clock, "now", lambda: later)

    expired = services.drafts_expire()

    assert expired == 1
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.status == ApplicationStatus.EXPIRED
    assert fresh.status == ApplicationStatus.DRAFT
    assert not Answer.objects.filter(application=old).exists()
    assert list(old.events.values_list("kind", flat=True)) == ["started", "expired"]
    with pytest.raises(errors.ApplicationNotEditableError):
        save(old, who, "your-name", TRADING_FORMS["your-name"])


def test_the_expiry_job_works_through_a_backlog_in_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    drafts = [start(STREET_LIGHT, applicant(citizen_new(f"person{number}@example.org"))) for number in range(3)]
    later = clock.now() + dt.timedelta(days=8)
    monkeypatch.setattr(clock, "now", lambda: later)

    assert services.drafts_expire(batch=1) == 3

    assert set(Application.objects.filter(pk__in=[draft.pk for draft in drafts]).values_list("status", flat=True)) == {
        "expired"
    }
    assert services.drafts_expire(batch=1) == 0


def test_a_draft_past_its_expiry_cannot_be_changed_before_the_job_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    who = applicant(citizen_new())
    application = start(STREET_LIGHT, who)
    later = clock.now() + dt.timedelta(days=8)
    monkeypatch.setattr(clock, "now", lambda: later)

    with pytest.raises(errors.ApplicationNotEditableError):
        save(application, who, "private-land", LIGHT_FORMS["private-land"])


# --- anonymous links -------------------------------------------------------------------------------------


def test_the_emailed_token_opens_the_application_and_a_resend_replaces_it() -> None:
    started = services.application_start(
        service_id=STREET_LIGHT, applicant=Applicant(), language="en", contact_email="charles@example.org"
    )
    token = started.access_token
    assert token is not None
    assert services.access_link_use(token=token).id == started.application.id

    services.access_link_resend(
        application_id=started.application.id, applicant=applicant(None, started.application.id)
    )

    with pytest.raises(errors.AccessLinkInvalidError):
        services.access_link_use(token=token)
    assert OutboundEmail.objects.filter(purpose="resume_application").count() == 2


def test_a_reference_or_a_random_token_opens_nothing() -> None:
    started = services.application_start(
        service_id=STREET_LIGHT, applicant=Applicant(), language="en", contact_email="charles@example.org"
    )

    for guess in (started.application.reference, uuid.uuid4().hex, "x"):
        with pytest.raises(errors.AccessLinkInvalidError):
            services.access_link_use(token=guess)


# --- satisfaction -------------------------------------------------------------------------------------------


def test_satisfaction_is_recorded_with_the_comment_sealed() -> None:
    feedback = services.satisfaction_record(
        service_id=STREET_LIGHT,
        version=1,
        page_id="confirmation",
        rating=4,
        comment="The map was confusing for Babbage Street",
        application=None,
        language="en",
    )

    assert feedback.rating == 4
    assert feedback.comment_sealed is not None
    assert b"Babbage" not in bytes(feedback.comment_sealed)
    comment = unseal_text(owner=feedback.crypto_owner, field=feedback.comment_field, sealed=feedback.comment_sealed)
    assert comment == "The map was confusing for Babbage Street"
    event = JourneyEvent.objects.get(kind="feedback")
    assert event.details == {"rating": 4, "comment": True}


@pytest.mark.parametrize("rating", [0, 6, -1, True])
def test_a_rating_outside_one_to_five_is_refused(rating: Any) -> None:
    with pytest.raises(errors.FeedbackInvalidError):
        services.satisfaction_record(
            service_id=STREET_LIGHT,
            version=1,
            page_id="confirmation",
            rating=rating,
            comment="",
            application=None,
            language="en",
        )

    assert JourneyEvent.objects.filter(kind="feedback").count() == 0


@pytest.mark.parametrize("start_key", [None, "start-key-collide-0001"], ids=["no-start-key", "start-key"])
def test_a_reference_already_taken_is_drawn_again(monkeypatch: pytest.MonkeyPatch, start_key: str | None) -> None:
    # given an application holding a reference
    who = applicant(citizen_new())
    first = start(STREET_TRADING, who)
    drawn = iter([first.reference, "ZZZZ-ZZZZ"])
    monkeypatch.setattr(services, "new_reference", lambda: next(drawn))

    # when the next start draws that reference first
    second = services.application_start(
        service_id=STREET_TRADING, applicant=who, language="en", start_key=start_key
    ).application

    # then it draws again and is stored once, with the second reference
    assert second.reference == "ZZZZ-ZZZZ"
    assert Application.objects.filter(pk=second.pk).count() == 1
    assert Application.objects.get(pk=second.pk).reference == "ZZZZ-ZZZZ"
    assert Application.objects.count() == 2


def test_no_free_reference_is_an_error_not_a_half_started_application(monkeypatch: pytest.MonkeyPatch) -> None:
    who = applicant(citizen_new())
    first = start(STREET_TRADING, who)
    monkeypatch.setattr(services, "new_reference", lambda: first.reference)

    with pytest.raises(IntegrityError):
        start(STREET_TRADING, who)

    assert Application.objects.count() == 1

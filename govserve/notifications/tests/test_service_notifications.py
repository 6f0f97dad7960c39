"""Service event notifications: the definition's templates sent on journeys' and casework's events.

The street light report (anonymous, English and Welsh) is published again
with text messages to ``reporter_phone`` and templates for more events; the
applications go through the real journey and casework services, so these
tests also prove the hooks are wired.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from pytest_django.fixtures import Settings

from govserve.casework import selectors as casework_selectors
from govserve.casework import services as casework
from govserve.casework.results.models import IssuedResult
from govserve.casework.tests.support import newborn_submitted, open_task, staff
from govserve.core import clock
from govserve.core.jobs import run_pending
from govserve.journeys import services as journeys
from govserve.journeys.models import Application
from govserve.journeys.selectors import state_cache_clear
from govserve.journeys.tests.support import LIGHT_FORMS, LIGHT_PATH, applicant, example_text, publish_text
from govserve.notifications.email import FIELD_BODY, FIELD_RECIPIENT, FIELD_SUBJECT
from govserve.notifications.jobs import drafts_expiring_notify
from govserve.notifications.models import OutboundEmail, OutboundSms
from govserve.notifications.selectors import application_deliveries
from govserve.notifications.services import service_notification_send
from govserve.notifications.sms import FIELD_BODY as SMS_BODY
from govserve.notifications.sms import FIELD_RECIPIENT as SMS_RECIPIENT
from govserve.notifications.testing import FakeNotify, SmtpSink
from govserve.privacy.crypto import data_key_destroy, unseal_text

pytestmark = pytest.mark.usefixtures("examples")

LIGHT = "report-street-light"
ENGINEER = ("city-council", "street-lighting-engineer")
MORE_TEMPLATES = """
  message_received:
    email:
      subject:
        en: "New message about your report ((reference))"
        cy: "Neges newydd am eich adroddiad ((reference))"
      body:
        en: "Read it at ((link))"
        cy: "Darllenwch hi yn ((link))"
    sms:
      body:
        en: "Westmoor: a new message about report ((reference))."
        cy: "Westmoor: neges newydd am adroddiad ((reference))."
  draft_expiring:
    email:
      subject: "Your street light report will be deleted on ((expires_on))"
      body: "Finish it at ((link)) before ((expires_on)). ((dangerous??Tell us quickly: the wires are exposed.))"
    sms:
      body: "Westmoor: your unfinished report will be deleted on ((expires_on))."
"""
SUBMITTED_SMS = """  submitted:
    sms:
      body:
        en: "Westmoor: report ((reference)) received, ((reporter_name)). ((dangerous??An engineer is on the way.))"
        cy: "Westmoor: adroddiad ((reference)) wedi dod i law, ((reporter_name))."
"""


@pytest.fixture
def texts(examples: None) -> None:
    """Publish version 2 of the street light report: text messages to ``reporter_phone``, more events."""
    text = example_text(LIGHT)
    text = text.replace("notifications:\n  submitted:\n", "notifications:\n  sms_to: reporter_phone\n  submitted:\n", 1)
    text = text.replace("  submitted:\n    email:", SUBMITTED_SMS + "    email:", 1)
    # The templates go inside the notifications section, wherever it is in the file (other sections follow it).
    text = text.replace(
        "notifications:\n  sms_to: reporter_phone\n", "notifications:\n  sms_to: reporter_phone" + MORE_TEMPLATES, 1
    )
    publish_text(text, f"{LIGHT}.yaml")


def _draft(*, language: str = "en", phone: str = "07700 900123", forms: dict[str, Any] | None = None) -> Application:
    started = journeys.application_start(
        service_id=LIGHT, applicant=applicant(), language=language, contact_email="charles@example.org"
    )
    who = applicant(None, started.application.id)
    answers = {**LIGHT_FORMS, **(forms or {})}
    answers["your-details"] = {**answers["your-details"], "reporter_phone": [phone]}
    for page_id in LIGHT_PATH:
        journeys.page_answers_save(
            application_id=started.application.id,
            applicant=who,
            page_id=page_id,
            data=answers[page_id],
            language=language,
        )
    return Application.objects.get(pk=started.application.id)


def _sent(**kwargs: Any) -> Application:
    application = _draft(**kwargs)
    journeys.application_submit(
        application_id=application.id,
        applicant=applicant(None, application.id),
        idempotency_key=f"notify-{uuid.uuid4().hex}",
        declaration_accepted=True,
        language=application.language,
    )
    return Application.objects.get(pk=application.id)


def _email_text(email: OutboundEmail) -> tuple[str, str, str]:
    return (
        unseal_text(owner=email.owner, field=FIELD_RECIPIENT, sealed=bytes(email.recipient_sealed)),
        unseal_text(owner=email.owner, field=FIELD_SUBJECT, sealed=bytes(email.subject_sealed)),
        unseal_text(owner=email.owner, field=FIELD_BODY, sealed=bytes(email.body_sealed)),
    )


def _sms_text(sms: OutboundSms) -> tuple[str, str]:
    return (
        unseal_text(owner=sms.owner, field=SMS_RECIPIENT, sealed=bytes(sms.recipient_sealed)),
        unseal_text(owner=sms.owner, field=SMS_BODY, sealed=bytes(sms.body_sealed)),
    )


def _engineer_task(application: Application) -> Any:
    run_pending()  # the triage bot decides in the worker
    return open_task(application)


@pytest.mark.usefixtures("texts")
def test_submission_sends_the_text_message_and_journeys_the_one_confirmation_email() -> None:
    application = _sent()

    [sms] = OutboundSms.objects.filter(owner=application.crypto_owner)
    assert sms.purpose == "submitted"
    assert _sms_text(sms) == (
        "+447700900123",
        f"Westmoor: report {application.reference} received, Charles Babbage. An engineer is on the way.",
    )
    emails = OutboundEmail.objects.filter(owner=application.crypto_owner)
    assert [email.purpose for email in emails.order_by("created_at")] == [
        "resume_application",
        "submission_confirmation",
    ]


@pytest.mark.usefixtures("texts")
def test_the_text_message_is_in_welsh_for_a_welsh_applicant() -> None:
    application = _sent(language="cy")

    [sms] = OutboundSms.objects.filter(owner=application.crypto_owner)
    assert sms.language == "cy"
    assert _sms_text(sms)[1] == f"Westmoor: adroddiad {application.reference} wedi dod i law, Charles Babbage."


@pytest.mark.usefixtures("texts")
def test_without_a_phone_answer_no_text_message_is_sent() -> None:
    application = _sent(phone="")

    assert not OutboundSms.objects.filter(owner=application.crypto_owner).exists()


def test_a_definition_without_sms_to_sends_no_text_message_even_with_a_phone_answer() -> None:
    application = _sent()

    assert not OutboundSms.objects.exists()
    assert OutboundEmail.objects.filter(owner=application.crypto_owner).count() == 2  # resume link, confirmation


def test_the_decision_made_email_goes_when_the_engineer_decides() -> None:
    application = _sent()
    engineer = staff(ENGINEER)
    task = _engineer_task(application)

    casework.decision_record(user=engineer, task_id=task.id, decision="reject", reason="It was already repaired")

    [email] = OutboundEmail.objects.filter(owner=application.crypto_owner, purpose="decision_made")
    recipient, subject, body = _email_text(email)
    assert recipient == "charles@example.org"
    assert subject == f"Update on your street light report {application.reference}"
    assert body == f"Your report {application.reference} has been rejected.\nIt was already repaired\n"
    assert email.template == f"notifications.service:{LIGHT}:1:decision_made"
    assert email.template_origin == "service"


def test_the_decision_is_worded_in_welsh_for_a_welsh_applicant() -> None:
    application = _sent(language="cy")
    engineer = staff(ENGINEER)
    task = _engineer_task(application)

    casework.decision_record(user=engineer, task_id=task.id, decision="approve", data={"repair_notes": ["New lamp"]})

    [email] = OutboundEmail.objects.filter(owner=application.crypto_owner, purpose="decision_made")
    _, subject, body = _email_text(email)
    assert email.language == "cy"
    assert subject == f"Diweddariad ar eich adroddiad golau stryd {application.reference}"
    assert body.startswith(f"Mae eich adroddiad {application.reference} wedi cael ei cymeradwyo.")


@pytest.mark.usefixtures("texts")
def test_a_message_from_staff_sends_email_and_text_and_each_message_its_own() -> None:
    application = _sent()
    engineer = staff(ENGINEER)
    task = _engineer_task(application)
    casework.task_claim(user=engineer, task_id=task.id)

    casework.message_send_staff(user=engineer, file_id=task.case_file_id, body="Is the lamp post on the corner?")
    casework.message_send_staff(user=engineer, file_id=task.case_file_id, body="Thank you")

    emails = OutboundEmail.objects.filter(owner=application.crypto_owner, purpose="message_received")
    texts = OutboundSms.objects.filter(owner=application.crypto_owner, purpose="message_received")
    assert emails.count() == 2
    assert texts.count() == 2
    _, subject, body = _email_text(emails.first())  # type: ignore[arg-type]
    assert subject == f"New message about your report {application.reference}"
    assert (
        body == f"Read it at {settings.PUBLIC_BASE_URL}{reverse('journeys:application_detail', args=[application.id])}"
    )
    assert {_sms_text(sms)[1] for sms in texts} == {f"Westmoor: a new message about report {application.reference}."}


@pytest.mark.usefixtures("texts")
def test_the_same_event_occurrence_is_sent_once() -> None:
    application = _sent()
    before = (OutboundEmail.objects.count(), OutboundSms.objects.count())

    for _ in range(2):
        with transaction.atomic():
            service_notification_send(application, "message_received", occurrence="event-1")

    assert (OutboundEmail.objects.count(), OutboundSms.objects.count()) == (before[0] + 1, before[1] + 1)


def test_an_event_without_templates_sends_nothing() -> None:
    application = _sent()
    before = OutboundEmail.objects.count()

    with transaction.atomic():
        sent = service_notification_send(application, "payment_received", context={"amount": "£10"})

    assert (sent.email, sent.sms) == (None, None)
    assert OutboundEmail.objects.count() == before


def test_unknown_channels_are_refused() -> None:
    application = _sent()

    with pytest.raises(ValueError, match="unknown channels"), transaction.atomic():
        service_notification_send(application, "submitted", channels=("pigeon",))


@pytest.mark.usefixtures("texts")
def test_drafts_about_to_expire_get_one_reminder_per_expiry_time(settings: Settings) -> None:
    settings.NOTIFICATION_DRAFT_EXPIRING_DAYS = 3
    soon = _draft()
    later = _draft()
    now = clock.now()
    Application.objects.filter(pk=soon.pk).update(expires_at=dt.datetime(2030, 5, 3, 11, 0, tzinfo=dt.UTC))
    Application.objects.filter(pk=later.pk).update(expires_at=dt.datetime(2030, 5, 20, 11, 0, tzinfo=dt.UTC))
    moment = dt.datetime(2030, 5, 1, 9, 0, tzinfo=dt.UTC)

    assert drafts_expiring_notify(now=moment) == 1
    assert drafts_expiring_notify(now=moment + dt.timedelta(hours=1)) == 0

    [email] = OutboundEmail.objects.filter(purpose="draft_expiring")
    [sms] = OutboundSms.objects.filter(purpose="draft_expiring")
    assert email.owner == sms.owner == soon.crypto_owner
    _, subject, body = _email_text(email)
    assert subject == "Your street light report will be deleted on 3 May 2030"
    assert body.endswith("before 3 May 2030. Tell us quickly: the wires are exposed.")
    assert _sms_text(sms)[1] == "Westmoor: your unfinished report will be deleted on 3 May 2030."
    # Saved again, the draft expires later: a new reminder in time.
    Application.objects.filter(pk=soon.pk).update(expires_at=dt.datetime(2030, 5, 9, 11, 0, tzinfo=dt.UTC))
    assert drafts_expiring_notify(now=dt.datetime(2030, 5, 7, 9, 0, tzinfo=dt.UTC)) == 1
    assert now <= clock.now()


@pytest.mark.usefixtures("texts")
def test_staff_see_the_delivery_records_of_an_application_without_content(notify: FakeNotify) -> None:
    application = _sent()
    run_pending()

    records = application_deliveries(crypto_owner=application.crypto_owner)

    assert [(record.channel, record.purpose, record.status, record.delivery_status) for record in records] == [
        ("email", "resume_application", "sent", "sending"),
        ("email", "submission_confirmation", "sent", "sending"),
        ("sms", "submitted", "sent", "sending"),
    ]
    assert all(record.provider == "notify" for record in records)
    assert "charles" not in repr(records)
    assert len(notify.received) == 3


@pytest.mark.parametrize(
    ("language", "received_subject", "decided_subject", "decided_body"),
    [
        (
            "en",
            "Street light report received: {reference}",
            "Update on your street light report {reference}",
            "Your report {reference} has been approved.",
        ),
        (
            "cy",
            "Adroddiad golau stryd wedi dod i law: {reference}",
            "Diweddariad ar eich adroddiad golau stryd {reference}",
            "Mae eich adroddiad {reference} wedi cael ei cymeradwyo.",
        ),
    ],
)
def test_a_report_sent_and_decided_reaches_a_real_smtp_server_in_the_applicants_language(
    sink: SmtpSink, language: str, received_subject: str, decided_subject: str, decided_body: str
) -> None:
    application = _sent(language=language)
    engineer = staff(ENGINEER)
    task = _engineer_task(application)  # delivers the confirmation too
    casework.decision_record(user=engineer, task_id=task.id, decision="approve", data={"repair_notes": ["New lamp"]})

    run_pending()

    reference = application.reference
    by_subject = {item.message["Subject"]: item for item in sink.received}
    assert received_subject.format(reference=reference) in by_subject
    decided = by_subject[decided_subject.format(reference=reference)]
    assert decided.rcpt_tos == ("charles@example.org",)
    assert decided.body.startswith(decided_body.format(reference=reference))
    assert decided.message["Content-Language"] == language
    email = OutboundEmail.objects.get(owner=application.crypto_owner, purpose="decision_made")
    assert decided.message["Message-ID"] == email.message_id


@pytest.mark.usefixtures("texts")
def test_an_application_whose_data_was_erased_gets_nothing_and_the_caller_goes_on() -> None:
    application = _sent()
    data_key_destroy(owner=application.crypto_owner)
    state_cache_clear()
    before = (OutboundEmail.objects.count(), OutboundSms.objects.count())

    with transaction.atomic():
        sent = service_notification_send(application, "message_received", occurrence="after-erasure")

    assert (sent.email, sent.sms) == (None, None)
    assert (OutboundEmail.objects.count(), OutboundSms.objects.count()) == before


def test_the_staff_file_view_lists_what_was_sent_to_the_applicant() -> None:
    application = _sent()
    engineer = staff(ENGINEER)
    task = _engineer_task(application)  # delivers the resume link and the confirmation (log provider)

    view = casework_selectors.file_view(user=engineer, file_id=task.case_file_id)

    assert [(record.channel, record.purpose, record.delivery_status) for record in view.deliveries] == [
        ("email", "resume_application", "delivered"),
        ("email", "submission_confirmation", "delivered"),
    ]


def test_each_result_is_announced_once_when_its_pdf_can_be_downloaded(sink: SmtpSink) -> None:
    application, _ = newborn_submitted()
    registrar, visitor = staff(("civil-registry", "registrar")), staff(("health-agency", "health-visitor"))
    casework.decision_record(
        user=registrar,
        task_id=open_task(application).id,
        decision="approve",
        data={"register_entry_number": ["B-2026-000123"]},
    )
    visit = clock.now().date() + dt.timedelta(days=2)
    casework.decision_record(
        user=visitor,
        task_id=open_task(application).id,
        decision="approve",
        data={
            "first_visit_date-day": [str(visit.day)],
            "first_visit_date-month": [str(visit.month)],
            "first_visit_date-year": [str(visit.year)],
        },
    )
    assert not OutboundEmail.objects.filter(purpose="result_issued").exists()  # nothing to download yet
    assert not OutboundEmail.objects.filter(purpose="decision_made").exists()  # the newborn has no such template

    run_pending()  # renders the PDFs, then delivers
    run_pending()

    results = {row.number: row for row in IssuedResult.objects.filter(application=application)}
    emails = OutboundEmail.objects.filter(owner=application.crypto_owner, purpose="result_issued")
    assert emails.count() == len(results) == 3
    received = {item.message["Subject"]: item for item in sink.received if "is ready" in item.message["Subject"]}
    assert set(received) == {
        "Your Birth certificate is ready",
        "Your Post-partum care plan is ready",
        "Your Infant care enrolment is ready",
    }
    birth = received["Your Birth certificate is ready"]
    [birth_row] = [row for row in results.values() if row.result_id == "birth-certificate"]
    page = reverse("journeys:application_detail", args=[application.id])
    verify = reverse("casework_results:verify_code", args=[birth_row.code])
    assert birth.body.strip() == (
        f"Download it at {settings.PUBLIC_BASE_URL}{page}. "
        f"Check that it is genuine at {settings.PUBLIC_BASE_URL}{verify}."
    )
    # Rendering again (a retried job) announces nothing more.
    run_pending()
    assert OutboundEmail.objects.filter(owner=application.crypto_owner, purpose="result_issued").count() == 3

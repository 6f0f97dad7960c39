"""The confirmation email: the service definition's own ``submitted`` email, in the applicant's language.

Falls back to the platform's ``submission_confirmation`` when the definition
has none. Checked on what is stored for delivery (unsealed), as the applicant
would receive it.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from govserve.journeys import emails, services
from govserve.journeys.models import Application
from govserve.journeys.selectors import state_load
from govserve.journeys.tests.support import LIGHT_FORMS, LIGHT_PATH, applicant, example_text, publish_text
from govserve.notifications.email import FIELD_BODY, FIELD_SUBJECT, email_template_get
from govserve.notifications.models import OutboundEmail
from govserve.privacy.crypto import unseal_text

pytestmark = pytest.mark.usefixtures("examples")

LIGHT = "report-street-light"


def _report_sent(*, language: str = "en", forms: dict[str, Any] | None = None) -> Application:
    """Start an anonymous street light report, answer it and send it; return it."""
    started = services.application_start(
        service_id=LIGHT, applicant=applicant(), language=language, contact_email="charles@example.org"
    )
    application_id = started.application.id
    who = applicant(None, application_id)
    answers = {**LIGHT_FORMS, **(forms or {})}
    for page_id in LIGHT_PATH:
        services.page_answers_save(
            application_id=application_id, applicant=who, page_id=page_id, data=answers[page_id], language=language
        )
    services.application_submit(
        application_id=application_id,
        applicant=who,
        idempotency_key=f"email-test-{uuid.uuid4().hex}",
        declaration_accepted=True,
        language=language,
    )
    return Application.objects.get(pk=application_id)


def _confirmation(application: Application) -> tuple[OutboundEmail, str, str]:
    email = OutboundEmail.objects.get(purpose="submission_confirmation", owner=application.crypto_owner)
    subject = unseal_text(owner=email.owner, field=FIELD_SUBJECT, sealed=bytes(email.subject_sealed))
    body = unseal_text(owner=email.owner, field=FIELD_BODY, sealed=bytes(email.body_sealed))
    return email, subject, body


def test_the_confirmation_is_the_definitions_submitted_email_with_the_answers() -> None:
    # given a report of a damaged light with exposed wires (the `dangerous` determinant)

    # when it is sent
    application = _report_sent()

    # then the email is the service's own, filled with the answers, the reference and the flag's text
    email, subject, body = _confirmation(application)
    assert email.template == f"journeys.service:{LIGHT}:1:submitted"
    assert email.template_origin == "service"
    assert email.language == "en"
    assert subject == f"Street light report received: {application.reference}"
    assert body == (
        "Thank you, Charles Babbage. We have received your report about the light on Babbage Street.\n"
        f"Your reference is {application.reference}.\n"
        "Because you saw exposed wires, an engineer will attend within 2 hours.\n"
        "\n"
        "Follow your report, and read our messages about it, at "
        f"http://127.0.0.1:8000/applications/{application.id}/\n"
    )


def test_optional_text_is_left_out_when_its_flag_is_false() -> None:
    # given a light that only flickers (not dangerous)
    application = _report_sent(forms={"problem": {"problem": ["flickering"]}})

    # then the email has no line about an engineer
    _email, _subject, body = _confirmation(application)
    assert body.rstrip() == (
        "Thank you, Charles Babbage. We have received your report about the light on Babbage Street.\n"
        f"Your reference is {application.reference}.\n"
        "\n"
        "Follow your report, and read our messages about it, at "
        f"http://127.0.0.1:8000/applications/{application.id}/"
    )


def test_the_confirmation_is_in_the_applicants_language() -> None:
    # given a report made in Welsh
    application = _report_sent(language="cy")

    # then the service's Welsh email is sent
    email, subject, body = _confirmation(application)
    assert email.language == "cy"
    assert subject == f"Adroddiad golau stryd wedi dod i law: {application.reference}"
    assert body.startswith("Diolch, Charles Babbage. Rydym wedi derbyn eich adroddiad am y golau ar Babbage Street.\n")
    assert "bydd peiriannydd yn dod o fewn 2 awr." in body


def test_without_a_submitted_email_the_platform_confirmation_is_sent() -> None:
    # given a new version of the service whose definition has no `submitted` email
    text = example_text(LIGHT)
    start = text.index("  submitted:\n", text.index("\nnotifications:"))
    end = text.index("  decision_made:\n", start)
    publish_text(text[:start] + text[end:], f"{LIGHT}.yaml")

    # when a report is sent on it
    application = _report_sent()

    # then the platform's confirmation goes, naming the service and the reference
    assert application.version_number == 2
    email, subject, body = _confirmation(application)
    assert email.template == "submission_confirmation"
    assert email.template_origin == "platform"
    assert application.reference in subject + body
    assert "Report a problem with a street light" in subject + body


def test_a_version_keeps_its_own_email_when_a_new_one_is_published() -> None:
    # given a report started on version 1, then version 2 publishes a different submitted email
    started = services.application_start(
        service_id=LIGHT, applicant=applicant(), language="en", contact_email="charles@example.org"
    )
    publish_text(
        example_text(LIGHT).replace("Street light report received:", "We have your street light report:"),
        f"{LIGHT}.yaml",
    )
    who = applicant(None, started.application.id)
    for page_id in LIGHT_PATH:
        services.page_answers_save(
            application_id=started.application.id,
            applicant=who,
            page_id=page_id,
            data=LIGHT_FORMS[page_id],
            language="en",
        )

    # when it is sent
    services.application_submit(
        application_id=started.application.id,
        applicant=who,
        idempotency_key="email-version-pinned",
        declaration_accepted=True,
        language="en",
    )

    # then the email is version 1's
    application = Application.objects.get(pk=started.application.id)
    email, subject, _body = _confirmation(application)
    assert email.template == f"journeys.service:{LIGHT}:1:submitted"
    assert subject == f"Street light report received: {application.reference}"


@pytest.mark.parametrize(
    "name",
    [
        "submission_confirmation",
        "journeys.service",
        f"journeys.service:{LIGHT}",
        f"journeys.service:{LIGHT}:x:submitted",
        f"journeys.service:{LIGHT}:9:submitted",
        "journeys.service:no-such-service:1:submitted",
        f"journeys.service:{LIGHT}:1:payment_received",
        f"journeys.service:{LIGHT}:1:no_such_event",
        f"other:{LIGHT}:1:submitted",
    ],
)
def test_the_lookup_answers_only_names_of_definition_emails_that_exist(name: str) -> None:
    # then anything else is left to the next lookup or the platform's templates
    assert emails.service_templates(name, "en") is None


def test_the_lookup_is_registered_with_the_email_kernel() -> None:
    # given the name of version 1's submitted email
    name = emails.service_template_name(service_id=LIGHT, version=1, event="submitted")

    # when the kernel is asked for it, in Welsh and in English
    welsh = email_template_get(name=name, language="cy")
    english = email_template_get(name=name, language="en")

    # then the definition's texts come back, each in its language
    assert (welsh.language, welsh.origin) == ("cy", "service")
    assert welsh.subject.source == "Adroddiad golau stryd wedi dod i law: ((reference))"
    assert english.subject.source == "Street light report received: ((reference))"
    assert {"reporter_name", "street", "reference", "dangerous"} <= english.names
    assert settings.LANGUAGE_CODE == "en"


def test_the_confirmation_takes_the_version_the_submission_holds_without_reading_it_again() -> None:
    # given the journey state of a sent report (its version loaded)
    application = _report_sent()
    state = state_load(application)

    # when its confirmation is chosen
    with CaptureQueriesContext(connection) as captured:
        chosen = emails.submission_email(state=state, reference=application.reference, link="/x", language="en")

    # then it is the version's own email, and no version row is read for it
    assert chosen.template == f"journeys.service:{LIGHT}:1:submitted"
    assert chosen.loaded is not None
    assert "Street light report received" in chosen.loaded.subject.source
    assert not [query for query in captured.captured_queries if "catalogue_serviceversion" in query["sql"]]
    # and outside it the lookup reads the version named again (none at hand)
    with CaptureQueriesContext(connection) as captured:
        assert emails.service_templates(chosen.template, "en") is not None
    assert [query for query in captured.captured_queries if "catalogue_serviceversion" in query["sql"]]

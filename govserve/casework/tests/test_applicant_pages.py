"""The applicant's side of casework on the journey's pages: changes asked for, sending again, messages."""

from __future__ import annotations

import pytest
from django.urls import reverse

from govserve.accounts.models import User
from govserve.casework import services
from govserve.casework.models import Message
from govserve.casework.tests.support import file_of, newborn_submitted, open_task, staff
from govserve.journeys.models import Answer, Application, ApplicationStatus
from govserve.journeys.tests.support import Browser, sign_in

pytestmark = pytest.mark.usefixtures("examples")

REGISTRAR = ("civil-registry", "registrar")


def _sent_back() -> tuple[Browser, Application, User]:
    application, person = newborn_submitted()
    registrar = staff(REGISTRAR)
    services.decision_record(
        user=registrar,
        task_id=open_task(application).id,
        decision="send_back",
        reason="Names differ from the notification",
        message="Please check the baby's given names.",
        flagged_fields=["baby_given_names"],
    )
    client = Browser()
    assert person.citizen is not None
    sign_in(client, person.citizen)
    return client, application, registrar


def test_the_applicant_changes_the_flagged_answer_and_sends_the_application_again() -> None:
    client, application, _ = _sent_back()
    detail = reverse("journeys:application_detail", args=[application.id])
    changes = reverse("journeys:application_changes", args=[application.id])
    baby = reverse("journeys:changes_page", args=[application.id, "baby"])

    shown = client.get(detail).content.decode()
    overview = client.get(changes).content.decode()
    form = client.get(baby).content.decode()
    invalid = client.post(baby, {"baby_given_names": ""})
    saved = client.post(baby, {"baby_given_names": "Augusta Ada Lovelace"})
    refused = client.post(changes, {})
    resent = client.post(changes, {"declaration": "yes"})

    assert 'id="changes-needed"' in shown
    assert 'id="changes-link" href="/applications/' in shown  # a real link, not escaped markup
    assert "Please check the baby&#39;s given names." in overview or "Please check the baby's given names." in overview
    assert 'id="flagged-answers"' in overview
    assert 'name="baby_given_names"' in form
    assert 'name="baby_family_name"' not in form  # only what was flagged
    assert invalid.status_code == 400
    assert saved.status_code == 302
    assert refused.status_code == 400
    assert resent.status_code == 302
    application.refresh_from_db()
    assert application.status == ApplicationStatus.IN_PROGRESS
    assert open_task(application).role_id == "registrar"
    assert Answer.objects.filter(application=application, field_id="baby_given_names").count() == 1
    assert client.get(changes).status_code == 302  # nothing left to change


def test_the_applicant_reads_and_answers_messages_on_the_application_page() -> None:
    client, application, _ = _sent_back()
    detail = reverse("journeys:application_detail", args=[application.id])
    client.get(detail)

    write = reverse("journeys:application_message", args=[application.id])
    sent = client.post(write, {"message": "Done, thanks"})
    empty = client.post(write, {"message": " "})
    page = client.get(detail).content.decode()

    assert sent.status_code == empty.status_code == 302
    assert "message_error=message_invalid" in empty["Location"]
    assert "Done, thanks" in page
    assert "The team" in page
    assert Message.objects.filter(case_file=file_of(application), sender="applicant").count() == 1


def test_another_citizen_cannot_open_the_changes_page() -> None:
    from govserve.journeys.tests.support import citizen_new  # noqa: PLC0415

    _, application, _ = _sent_back()
    stranger = Browser()
    sign_in(stranger, citizen_new("stranger@example.org"))

    response = stranger.get(reverse("journeys:application_changes", args=[application.id]))

    assert response.status_code == 404

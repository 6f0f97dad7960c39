"""Assisted digital through the journey's own pages: a staff session fills in the application it started."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from govserve.audit.models import AuditEntry
from govserve.casework import services
from govserve.casework.tests.test_views import person, signed_in
from govserve.core import clock
from govserve.journeys.models import Answer, ApplicationEvent
from govserve.journeys.tests.support import NEWBORN, date_form

pytestmark = pytest.mark.usefixtures("examples")


def test_a_staff_session_fills_in_only_the_application_it_is_helping_with() -> None:
    registrar = person(("civil-registry", "registrar"))
    client = signed_in(registrar)
    started = services.assisted_application_start(
        user=registrar, service_id=NEWBORN, citizen_email="helped@example.org"
    )
    other = services.assisted_application_start(user=registrar, service_id=NEWBORN, citizen_email="other@example.org")
    application = started.application
    born = clock.now().date() - dt.timedelta(days=3)

    before = client.get(f"/apply/{application.id}/")
    client.get(reverse("casework:assisted_continue", args=[application.id]))
    resumed = client.get(f"/apply/{application.id}/")
    first_page = client.get(f"/apply/{application.id}/baby-date-of-birth")
    saved = client.post(
        f"/apply/{application.id}/baby-date-of-birth",
        {key: values[0] for key, values in date_form("baby_date_of_birth", born).items()},
    )
    not_this_one = client.get(f"/apply/{other.application.id}/baby-date-of-birth")

    assert before.status_code in {403, 404}  # before the staff page opened it for this session
    assert resumed.status_code == 302
    assert first_page.status_code == 200
    assert saved.status_code == 302, saved.content.decode()[:500]
    assert Answer.objects.filter(application=application, field_id="baby_date_of_birth").exists()
    entry = AuditEntry.objects.filter(action="journeys.application.answers_saved", subject_id=str(application.id)).get()
    assert (entry.actor_kind, entry.actor_id) == ("user", str(registrar.pk))
    assert not_this_one.status_code in {403, 404}
    assert not ApplicationEvent.objects.filter(application=other.application, kind="submitted").exists()

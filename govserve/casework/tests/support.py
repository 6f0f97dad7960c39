"""Test data of casework: staff with roles, and example applications submitted through the real journey."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from govserve.accounts.models import Institution, RoleAssignment, Unit, User
from govserve.casework import services
from govserve.casework.models import CaseFile, Task, TaskStatus
from govserve.journeys import services as journeys
from govserve.journeys.access import Applicant
from govserve.journeys.models import Application, ApplicationStatus
from govserve.journeys.resubmission import application_status_record
from govserve.journeys.tests.support import (
    LIGHT_FORMS,
    LIGHT_PATH,
    NEWBORN,
    STREET_LIGHT,
    STREET_TRADING,
    applicant,
    citizen_new,
)
from govserve.journeys.tests.test_services import fill_newborn, fill_trading, start, submit, upload_required

_counter = {"n": 0}


def staff(*roles: tuple[str, str], unit: Unit | None = None, name: str | None = None) -> User:
    """Create an active staff account holding ``roles`` ((institution code, role id) pairs)."""
    _counter["n"] += 1
    username = name or f"staff{_counter['n']}"
    user = User.objects.create(username=username, first_name=username.title(), unit=unit, is_active=True)
    for code, role in roles:
        RoleAssignment.objects.create(user=user, institution=Institution.objects.get(code=code), role=role)
    return user


def unit_of(code: str, unit_code: str = "team") -> Unit:
    """Return (creating it) a unit of the institution ``code``."""
    unit, _ = Unit.objects.get_or_create(
        institution=Institution.objects.get(code=code), code=unit_code, defaults={"name": unit_code.title()}
    )
    return unit


def newborn_submitted(who: Applicant | None = None) -> tuple[Application, Applicant]:
    """Return a submitted newborn registration (its file opened by the submission hook) and its applicant."""
    _counter["n"] += 1
    person = who or applicant(citizen_new(f"parent{_counter['n']}@example.org"))
    application = start(NEWBORN, person)
    fill_newborn(application, person)
    upload_required(application, person, "mother-identity-document", "birth-notification")
    sent = submit(application, person).application
    return sent, person


def light_submitted(forms: dict[str, Any] | None = None) -> tuple[Application, Applicant]:
    """Return a submitted anonymous street light report and its applicant."""
    started = journeys.application_start(
        service_id=STREET_LIGHT, applicant=Applicant(), language="en", contact_email="charles@example.org"
    )
    application = started.application
    person = applicant(None, application.id)
    for page_id in LIGHT_PATH:
        form = (forms or {}).get(page_id, LIGHT_FORMS[page_id])
        journeys.page_answers_save(
            application_id=application.id, applicant=person, page_id=page_id, data=form, language="en"
        )
    return submit(application, person).application, person


def trading_paid() -> tuple[Application, Applicant]:
    """Return a street trading application whose fee was paid (as payments will do: submitted, then file_open)."""
    _counter["n"] += 1
    person = applicant(citizen_new(f"trader{_counter['n']}@example.org"))
    application = start(STREET_TRADING, person)
    fill_trading(application, person)
    upload_required(application, person, "public-liability-insurance")
    sent = submit(application, person).application
    assert sent.status == ApplicationStatus.AWAITING_PAYMENT
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=sent.pk)
        application_status_record(locked, to_status=ApplicationStatus.SUBMITTED, actor_kind="system")
        services.file_open(locked)
    sent.refresh_from_db()
    return sent, person


def open_task(application: Application) -> Task:
    """Return the open task of ``application``'s file."""
    return Task.objects.get(case_file__application=application, status__in=[TaskStatus.PENDING, TaskStatus.CLAIMED])


def file_of(application: Application) -> CaseFile:
    """Return the case file of ``application``."""
    return CaseFile.objects.get(application=application)


def statuses(application: Application) -> list[tuple[str, str, str]]:
    """Return the applicant's history as (kind, from, to)."""
    return list(application.events.order_by("occurred_at", "id").values_list("kind", "from_status", "to_status"))


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    """Return ``day`` at ``hour`` UTC (for moving the clock)."""
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC)

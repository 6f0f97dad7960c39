"""Test data of the privacy operations: two people with applications across services, and staff who read them."""

from __future__ import annotations

from dataclasses import dataclass

from govserve.accounts.models import Citizen, User
from govserve.casework.selectors import file_view
from govserve.casework.services import message_send_staff
from govserve.casework.tests.support import file_of, staff
from govserve.journeys import services as journeys
from govserve.journeys.access import Applicant
from govserve.journeys.models import Application
from govserve.journeys.tests.support import (
    LIGHT_FORMS,
    LIGHT_PATH,
    NEWBORN,
    STREET_LIGHT,
    STREET_TRADING,
    applicant,
    citizen_new,
)
from govserve.journeys.tests.test_services import fill_newborn, fill_trading, save, start, submit, upload_required

SUBJECT_EMAIL = "ada.subject@example.org"
OTHER_EMAIL = "georgiana.other@example.org"
SUBJECT_MOTHER = "Anne Isabella Milbanke"
OTHER_MOTHER = "Georgiana Whitmore Other"
SUBJECT_REPORTER = "Ada Subject Reporter"
STAFF_MESSAGE = "Please bring the original hospital letter 7Q4Z"


@dataclass
class People:
    """The subject (three applications: two signed in, one anonymous), another person, and a registrar."""

    subject: Citizen
    subject_who: Applicant
    newborn: Application
    trading: Application
    light: Application
    light_token: str
    other: Citizen
    other_newborn: Application
    registrar: User
    engineer: User


def _newborn(who: Applicant, key: str, mother: str) -> Application:
    application = start(NEWBORN, who)
    fill_newborn(application, who)
    if mother != SUBJECT_MOTHER:
        form = {
            "mother_full_name": [mother],
            "mother_date_of_birth-day": ["3"],
            "mother_date_of_birth-month": ["4"],
            "mother_date_of_birth-year": ["1990"],
            "mother_nhs_number": ["943 476 5919"],
            "home_address-line1": ["1 Other Road"],
            "home_address-town": ["Elsewhere"],
            "home_address-postcode": ["WM9 9ZZ"],
        }
        save(application, who, "mother", form)
    upload_required(application, who, "mother-identity-document", "birth-notification")
    return submit(application, who, key=key).application


def _light(email: str, key: str) -> tuple[Application, str]:
    started = journeys.application_start(
        service_id=STREET_LIGHT, applicant=Applicant(), language="en", contact_email=email
    )
    application = started.application
    who = applicant(None, application.id)
    for page_id in LIGHT_PATH:
        form = dict(LIGHT_FORMS[page_id])
        if page_id == "your-details":
            form = {**form, "reporter_name": [SUBJECT_REPORTER], "reporter_email": [email]}
        save(application, who, page_id, form)
    assert started.access_token is not None  # an anonymous application has an emailed link
    return submit(application, who, key=key).application, started.access_token


def people_create() -> People:
    """Return the people, with the registrar having looked at the subject's birth registration and written."""
    subject = citizen_new(SUBJECT_EMAIL)
    subject_who = applicant(subject)
    newborn = _newborn(subject_who, "sar-newborn-1", SUBJECT_MOTHER)
    trading = start(STREET_TRADING, subject_who)
    fill_trading(trading, subject_who)
    upload_required(trading, subject_who, "public-liability-insurance")
    trading = submit(trading, subject_who, key="sar-trading-1").application
    light, light_token = _light(SUBJECT_EMAIL, "sar-light-1")
    other = citizen_new(OTHER_EMAIL)
    other_newborn = _newborn(applicant(other), "sar-newborn-2", OTHER_MOTHER)
    registrar = staff(("civil-registry", "registrar"), name="registrar-sar")
    engineer = staff(("city-council", "street-lighting-engineer"), name="engineer-sar")
    file_view(user=registrar, file_id=file_of(newborn).id)
    file_view(user=registrar, file_id=file_of(other_newborn).id)
    message_send_staff(user=registrar, file_id=file_of(newborn).id, body=STAFF_MESSAGE)
    return People(
        subject=subject,
        subject_who=subject_who,
        newborn=newborn,
        trading=trading,
        light=light,
        light_token=light_token,
        other=other,
        other_newborn=other_newborn,
        registrar=registrar,
        engineer=engineer,
    )

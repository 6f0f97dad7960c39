"""The privacy pages: the applicant's "who has seen it", the officer's subject access and data-protection pages.

Refusals are the ordinary 404 (nothing says the page, a service's report or
someone else's application exists) and change nothing; staff sign in
through the real pages.
"""

from __future__ import annotations

import datetime as dt

import pytest

from govserve.accounts.models import User
from govserve.audit.models import AuditEntry
from govserve.casework.tests.test_views import person, signed_in, text_of
from govserve.journeys.tests.conftest import _fresh_compiled_cache, media_root  # noqa: F401 - fixtures reused
from govserve.journeys.tests.support import Browser, examples_publish, sign_in
from govserve.privacy.access_report import DATA_PROTECTION_OFFICER_ROLE
from govserve.privacy.tests.subject_support import (
    SUBJECT_EMAIL,
    People,
    people_create,
)

COUNCIL_DPO = ("city-council", DATA_PROTECTION_OFFICER_ROLE)
REGISTRY_DPO = ("civil-registry", DATA_PROTECTION_OFFICER_ROLE)


@pytest.fixture
def people(db: None) -> People:
    examples_publish()
    return people_create()


def _citizen(people: People, *, other: bool = False) -> Browser:
    client = Browser()
    sign_in(client, people.other if other else people.subject)
    return client


def test_the_applicant_sees_institution_and_role_but_never_the_name(people: People) -> None:
    client = _citizen(people)

    detail = client.get(f"/applications/{people.newborn.id}/")
    response = client.get(f"/applications/{people.newborn.id}/who-has-seen-it")

    assert f'href="/applications/{people.newborn.id}/who-has-seen-it"' in detail.content.decode()
    assert response.status_code == 200
    text = text_of(response)
    assert "Who has seen your application" in text
    assert "Civil Registration Office Registrar Looked at your application" in text
    assert people.registrar.first_name not in text
    assert people.registrar.username not in text


def test_an_application_nobody_has_opened_says_so(people: People) -> None:
    response = _citizen(people).get(f"/applications/{people.trading.id}/who-has-seen-it")

    assert response.status_code == 200
    assert "No member of staff has looked at your application yet." in text_of(response)


def test_the_page_is_in_welsh(people: People) -> None:
    client = _citizen(people)
    client.cookies["django_language"] = "cy"

    response = client.get(f"/applications/{people.newborn.id}/who-has-seen-it", headers={"Accept-Language": "cy"})

    assert response.status_code == 200
    text = text_of(response)
    assert "Pwy sydd wedi gweld eich cais" in text
    assert "Cofrestrydd Wedi edrych ar eich cais" in text


def test_someone_elses_application_is_not_found(people: People) -> None:
    response = _citizen(people, other=True).get(f"/applications/{people.newborn.id}/who-has-seen-it")

    assert response.status_code == 404
    assert "Registrar" not in text_of(response)


def test_an_anonymous_applicant_reaches_the_page_with_their_emailed_link_and_nobody_else_does(people: People) -> None:
    client = Browser()
    client.get(f"/apply/resume/{people.light_token}")
    opened = client.post(f"/apply/resume/{people.light_token}")  # the button on the emailed link's page

    response = client.get(f"/applications/{people.light.id}/who-has-seen-it")
    stranger = Browser().get(f"/applications/{people.light.id}/who-has-seen-it")

    assert opened.status_code == 302
    assert response.status_code == 200
    assert "No member of staff has looked at your application yet." in text_of(response)
    assert stranger.status_code == 403
    assert "Sign in to continue" in text_of(stranger)
    assert people.light.reference not in text_of(stranger)


def test_a_bad_email_address_is_an_error_on_the_form_and_nothing_is_exported(people: People) -> None:
    client = signed_in(person(REGISTRY_DPO, name="rita"))
    client.get("/staff/privacy/subject-access")
    before = AuditEntry.objects.filter(action="privacy.subject_access.exported").count()

    response = client.post("/staff/privacy/subject-access", {"email": "not an address"})

    assert response.status_code == 400
    assert "Enter an email address in the correct format" in text_of(response)
    assert AuditEntry.objects.filter(action="privacy.subject_access.exported").count() == before


@pytest.mark.parametrize(
    "path",
    ["/staff/privacy/subject-access", "/staff/privacy/services/", "/staff/privacy/services/register-newborn/"],
    ids=["subject-access", "reports", "report"],
)
def test_staff_without_the_role_get_not_found(people: People, path: str) -> None:
    client = signed_in(person(("civil-registry", "registrar"), name="reggie"))
    before = AuditEntry.objects.filter(action="privacy.subject_access.exported").count()

    response = client.get(path)
    posted = client.post_crafted("/staff/privacy/subject-access", {"email": SUBJECT_EMAIL})

    assert response.status_code == 404
    assert posted.status_code == 404
    assert AuditEntry.objects.filter(action="privacy.subject_access.exported").count() == before


def test_an_officer_who_signed_in_a_while_ago_confirms_it_is_them_first(
    people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = signed_in(person(COUNCIL_DPO, name="della"))
    client.get("/staff/privacy/subject-access")
    later = dt.datetime.now(tz=dt.UTC) + dt.timedelta(minutes=6)
    monkeypatch.setattr("govserve.core.clock.now", lambda: later)
    before = AuditEntry.objects.filter(action="privacy.subject_access.exported").count()

    response = client.post("/staff/privacy/subject-access", {"email": SUBJECT_EMAIL})

    assert response.status_code == 302
    assert response["Location"].startswith("/staff/confirm-it-is-you?next=")
    assert AuditEntry.objects.filter(action="privacy.subject_access.exported").count() == before


def test_a_visitor_who_is_not_signed_in_is_sent_to_sign_in(people: People) -> None:
    response = Browser().get("/staff/privacy/subject-access")

    assert response.status_code == 302
    assert response["Location"].startswith("/staff/sign-in")


def test_the_data_protection_report_page_lists_fields_basis_retention_and_processors(people: People) -> None:
    client = signed_in(person(REGISTRY_DPO, name="rhian"))

    listing = client.get("/staff/privacy/services/")
    response = client.get("/staff/privacy/services/register-newborn/")

    assert listing.status_code == 200
    assert 'href="/staff/privacy/services/register-newborn/"' in listing.content.decode()
    assert "/staff/privacy/services/street-trading-licence/" not in listing.content.decode()
    assert response.status_code == 200
    text = text_of(response)
    assert "Legal obligation (article 6(1)(c))" in text
    assert "75 years after the file is closed" in text
    assert "Mother's NHS number (mother_nhs_number) About the mother Special category" in text
    assert "National Health Registration Agency" in text
    assert "baby_given_names" in text


def test_another_institutions_report_is_not_found(people: People) -> None:
    client = signed_in(person(REGISTRY_DPO, name="rowan"))

    response = client.get("/staff/privacy/services/street-trading-licence/")

    assert response.status_code == 404


def test_an_administrator_may_read_the_reports(people: People) -> None:
    user: User = person(("city-council", "administrator"), name="ada-admin")

    response = signed_in(user).get("/staff/privacy/services/street-trading-licence/")

    assert response.status_code == 200
    assert "Public task (article 6(1)(e))" in text_of(response)

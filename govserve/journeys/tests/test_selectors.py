"""Reads of the journey: the applicant's list, the expected decision date, the catalogue."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from govserve.accounts.models import Institution, InstitutionHoliday
from govserve.journeys import errors, selectors
from govserve.journeys.answers import answer_rows
from govserve.journeys.models import Application, ApplicationStatus
from govserve.journeys.tests.support import NEWBORN, STREET_LIGHT, STREET_TRADING, applicant, citizen_new
from govserve.journeys.tests.test_services import start

pytestmark = pytest.mark.usefixtures("examples")

LONDON = dt.timezone(dt.timedelta(0))


def _sent_on(application: Application, day: dt.date) -> Application:
    Application.objects.filter(pk=application.pk).update(
        status=ApplicationStatus.SUBMITTED,
        submitted_at=dt.datetime(day.year, day.month, day.day, 15, 0, tzinfo=LONDON),
        expires_at=None,
    )
    application.refresh_from_db()
    return application


def test_the_expected_decision_date_chains_the_roles_slas_over_weekends_and_holidays() -> None:
    # street trading: licensing officer 10 + licensing manager 5 working days, England's calendar
    application = _sent_on(start(STREET_TRADING), dt.date(2026, 12, 18))  # a Friday before Christmas

    expected = selectors.expected_decision_date(application, selectors.state_load(application))

    # 25 Dec, 28 Dec (Boxing Day substitute) and 1 Jan are holidays
    assert expected == dt.date(2027, 1, 13)


def test_a_local_closure_day_moves_the_expected_date() -> None:
    application = _sent_on(start(STREET_TRADING), dt.date(2026, 12, 18))
    InstitutionHoliday.objects.create(
        institution=Institution.objects.get(code="city-council"), date=dt.date(2027, 1, 4), is_working_day=False
    )

    expected = selectors.expected_decision_date(application, selectors.state_load(application))

    assert expected == dt.date(2027, 1, 14)


def test_consecutive_roles_of_one_institution_read_its_calendar_once(django_assert_num_queries: Any) -> None:
    # street trading: both roles are the city council's; a closure inside the second role's working days
    application = _sent_on(start(STREET_TRADING), dt.date(2026, 12, 18))
    InstitutionHoliday.objects.create(
        institution=Institution.objects.get(code="city-council"), date=dt.date(2027, 1, 12), is_working_day=False
    )
    state = selectors.state_load(application)

    # the open file's date (none), the institution, its local overrides: once for the two roles
    with django_assert_num_queries(3):
        expected = selectors.expected_decision_date(application, state)

    # the first role's 10 working days end on Wed 6 January; then 7, 8, 11, (12 closed), 13, 14
    assert expected == dt.date(2027, 1, 14)


def test_roles_of_two_institutions_each_count_in_their_own_calendar() -> None:
    # newborn: registrar (civil registry) 5 + health visitor (health agency) 3
    application = _sent_on(start(NEWBORN), dt.date(2027, 3, 1))
    InstitutionHoliday.objects.create(
        institution=Institution.objects.get(code="health-agency"), date=dt.date(2027, 3, 9), is_working_day=False
    )

    expected = selectors.expected_decision_date(application, selectors.state_load(application))

    # 5 working days from Mon 1 March: Mon 8; then 3 at the health agency, closed on Tue 9: Wed 10, Thu 11, Fri 12
    assert expected == dt.date(2027, 3, 12)


def test_no_expected_date_for_drafts_and_decided_applications() -> None:
    who = applicant(citizen_new())
    draft = start(STREET_TRADING, who)
    decided = _sent_on(start(STREET_TRADING, who), dt.date(2027, 3, 1))
    Application.objects.filter(pk=decided.pk).update(status=ApplicationStatus.APPROVED)
    decided.refresh_from_db()

    assert selectors.expected_decision_date(draft, selectors.state_load(draft)) is None
    assert selectors.expected_decision_date(decided, selectors.state_load(decided)) is None


def test_the_applicants_list_filters_by_status_group_and_searches() -> None:
    citizen = citizen_new()
    who = applicant(citizen)
    draft = start(STREET_TRADING, who)
    sent = _sent_on(start(NEWBORN, who), dt.date(2027, 3, 1))
    start(STREET_TRADING, applicant(citizen_new("other@example.org")))  # someone else's

    assert set(selectors.applications_for_citizen(citizen)) == {draft, sent}
    assert list(selectors.applications_for_citizen(citizen, status="draft")) == [draft]
    assert list(selectors.applications_for_citizen(citizen, status="open")) == [sent]
    assert list(selectors.applications_for_citizen(citizen, status="submitted")) == [sent]
    assert list(selectors.applications_for_citizen(citizen, status="nonsense")) == []
    assert list(selectors.applications_for_citizen(citizen, search=sent.reference.lower().replace("-", ""))) == [sent]
    assert list(selectors.applications_for_citizen(citizen, search="street trading")) == [draft]


def test_another_applicant_cannot_read_an_application() -> None:
    application = start(STREET_LIGHT)

    with pytest.raises(errors.ApplicationNotFoundError):
        selectors.application_for_applicant(
            applicant=applicant(citizen_new("x@example.org")), application_id=application.id
        )
    with pytest.raises(errors.ApplicationNotFoundError):
        selectors.application_for_applicant(applicant=applicant(None), application_id=application.id)


def test_the_application_with_its_answers_is_read_by_its_applicant_only() -> None:
    who = applicant(citizen_new())
    application = start(STREET_LIGHT, who)

    found, rows = selectors.application_and_answers_for_applicant(applicant=who, application_id=application.id)

    assert found == application
    assert rows == answer_rows(application)
    with pytest.raises(errors.ApplicationNotFoundError):
        selectors.application_and_answers_for_applicant(
            applicant=applicant(citizen_new("x@example.org")), application_id=application.id
        )
    with pytest.raises(errors.ApplicationNotFoundError):
        selectors.application_and_answers_for_applicant(applicant=applicant(None), application_id=application.id)
    with pytest.raises(errors.ApplicationNotFoundError):
        selectors.application_and_answers_for_applicant(applicant=who, application_id=uuid.uuid4())


def test_the_catalogue_lists_live_services_in_the_reader_language() -> None:
    cards = selectors.services_live(language="cy")

    # by Welsh title: Cofrestru..., Gwneud cais..., Rhoi gwybod...
    assert [card.service_id for card in cards] == [NEWBORN, STREET_TRADING, STREET_LIGHT]
    assert cards[1].title == "Gwneud cais am drwydded masnachu ar y stryd"
    info = selectors.service_start_info(STREET_TRADING, language="en")
    assert info.decision_working_days == 15
    assert [(fee.name, fee.amount_minor, fee.paid) for fee in info.fees] == [("Licence fee", None, "before_submission")]

"""Drafts expire after the definition's period from their last save, and the pages say when (issue 4)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from govserve.journeys import errors, services
from govserve.journeys.models import Application
from govserve.journeys.tests.support import LIGHT_FORMS, TRADING_FORMS, Browser, applicant, citizen_new, sign_in
from govserve.journeys.views.common import long_date

pytestmark = pytest.mark.usefixtures("examples")


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.mark.parametrize(
    ("service_id", "days"), [("street-trading-licence", 28), ("report-street-light", 7), ("register-newborn", 42)]
)
def test_the_start_page_says_how_long_a_draft_is_kept(client: Browser, service_id: str, days: int) -> None:
    # when the start page of each example is shown, then it states the definition's period
    page = _text(client.get(f"/services/{service_id}/").content.decode())
    assert f"We keep an application you have not sent for {days} days after you last save it." in page


def test_save_and_return_and_the_application_page_give_the_date(client: Browser) -> None:
    # given a signed-in applicant's street trading draft (28 days)
    citizen = citizen_new()
    sign_in(client, citizen)
    application = services.application_start(
        service_id="street-trading-licence", applicant=applicant(citizen), language="en"
    ).application
    assert application.expires_at is not None
    shown = long_date(application.expires_at, "en")

    # then the save-and-return page and the application's page both say until when it is kept
    saved = _text(client.get(f"/apply/{application.id}/save-and-return").content.decode())
    assert f"We will keep your application until {shown}. After that it will be deleted." in saved
    detail = _text(client.get(f"/applications/{application.id}/").content.decode())
    assert f"Deleted if not sent by {shown}" in detail


def test_saving_a_page_moves_the_expiry_to_the_period_after_that_save(monkeypatch: pytest.MonkeyPatch) -> None:
    # given a street light report (7 days) started now
    who = applicant()
    started = services.application_start(
        service_id="report-street-light", applicant=who, language="en", contact_email="charles@example.org"
    )
    granted = applicant(None, started.application.id)
    assert started.application.expires_at is not None
    first_expiry = started.application.expires_at

    # when its first page is saved five days later
    later = first_expiry - dt.timedelta(days=2)
    monkeypatch.setattr("govserve.core.clock.now", lambda: later)
    services.page_answers_save(
        application_id=started.application.id,
        applicant=granted,
        page_id="private-land",
        data=LIGHT_FORMS["private-land"],
        language="en",
    )

    # then it is kept for seven days from that save
    assert Application.objects.get(pk=started.application.id).expires_at == later + dt.timedelta(days=7)


def test_an_invalid_page_does_not_move_the_expiry(monkeypatch: pytest.MonkeyPatch) -> None:
    # given a signed-in street trading draft
    who = applicant(citizen_new())
    application = services.application_start(
        service_id="street-trading-licence", applicant=who, language="en"
    ).application
    before = application.expires_at
    assert before is not None
    later = before - dt.timedelta(days=1)
    monkeypatch.setattr("govserve.core.clock.now", lambda: later)

    # when a page with a date that does not exist is sent, nothing is saved
    with pytest.raises(errors.AnswersInvalidError):
        services.page_answers_save(
            application_id=application.id,
            applicant=who,
            page_id="age",
            data={**TRADING_FORMS["age"], "date_of_birth-day": ["31"], "date_of_birth-month": ["2"]},
            language="en",
        )

    # then the expiry is as it was
    assert Application.objects.get(pk=application.id).expires_at == before

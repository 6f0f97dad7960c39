"""No answer in clear anywhere (raw scan below the ORM), and journey events free of personal values."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from govserve.journeys import errors, services
from govserve.journeys.access import Applicant
from govserve.journeys.models import JourneyEvent
from govserve.journeys.tests.support import (
    LIGHT_FORMS,
    LIGHT_PATH,
    STREET_LIGHT,
    STREET_TRADING,
    applicant,
    citizen_new,
)
from govserve.journeys.tests.test_services import assistant_form, fill_trading, save, start, submit, upload_required
from govserve.privacy.testing import assert_no_plaintext

pytestmark = pytest.mark.usefixtures("examples")

PERSONAL = [
    "Ada Lovelace",
    "ada.lovelace@example.org",
    "+447700900123",
    "12 Analytical Row",
    "Grace Hopper",
    "Charles Babbage",
    "charles.babbage@example.org",
    "a-typo-in-an-address",
    "Please fix the light near my house",
]


def _journeys(media_root: Path) -> None:
    who = applicant(citizen_new("someone.else@example.net"))
    trading = start(STREET_TRADING, who)
    fill_trading(trading, who)
    services.group_item_save(
        application_id=trading.id,
        applicant=who,
        page_id="assistants",
        group_id="assistants",
        item_id=None,
        data=assistant_form("Grace Hopper", dt.date(1980, 12, 9)),
        language="en",
    )
    save(trading, who, "assistants", {})
    upload_required(trading, who, "public-liability-insurance")
    submit(trading, who)

    light = services.application_start(
        service_id=STREET_LIGHT, applicant=Applicant(), language="en", contact_email="charles.babbage@example.org"
    ).application
    anonymous = applicant(None, light.id)
    for page_id in LIGHT_PATH:
        if page_id == "your-details":
            with pytest.raises(errors.AnswersInvalidError):
                save(light, anonymous, page_id, {**LIGHT_FORMS[page_id], "reporter_email": ["a-typo-in-an-address"]})
        save(light, anonymous, page_id, LIGHT_FORMS[page_id])
    submit(light, anonymous, key="light-submit-key")
    services.satisfaction_record(
        service_id=STREET_LIGHT,
        version=1,
        page_id="confirmation",
        rating=5,
        comment="Please fix the light near my house",
        application=light,
        language="en",
    )


def test_no_answer_is_stored_in_clear(media_root: Path) -> None:
    _journeys(media_root)

    report = assert_no_plaintext(PERSONAL, directories=[media_root])

    assert "journeys_answer" in report.tables
    assert "journeys_journeyevent" in report.tables
    assert report.rows > 0


def test_journey_events_hold_codes_and_ids_only(media_root: Path) -> None:
    _journeys(media_root)

    events = list(JourneyEvent.objects.values("kind", "service_id", "page_id", "details", "language", "channel"))
    text = json.dumps(events, default=str)

    for value in PERSONAL:
        assert value not in text
    kinds = {event["kind"] for event in events}
    assert {"started", "page_submit", "validation_error", "submission", "feedback"} <= kinds
    errors_seen = [event["details"] for event in events if event["kind"] == "validation_error"]
    assert errors_seen == [{"errors": [{"field": "reporter_email", "code": "format"}]}]

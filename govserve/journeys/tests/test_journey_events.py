"""The journey events of a whole report, as the service's data sees them: every kind, with its context, no values."""

from __future__ import annotations

import json
import re
import uuid

import pytest

from govserve.journeys import services
from govserve.journeys.models import JourneyEvent
from govserve.journeys.tests.support import LIGHT_FORMS, Browser

pytestmark = pytest.mark.usefixtures("examples")
SERVICE = "report-street-light"


def _start(client: Browser) -> uuid.UUID:
    page = client.get(f"/services/{SERVICE}/").content.decode()
    key = re.search(r'name="start_key" value="([^"]+)"', page)
    assert key is not None
    response = client.post(f"/services/{SERVICE}/start", {"start_key": key.group(1), "email": "charles@example.org"})
    return uuid.UUID(response["Location"].split("/")[2])


def _post(client: Browser, path: str, form: dict[str, list[str]] | dict[str, str]) -> None:
    assert client.get(path).status_code == 200
    assert client.post(path, form).status_code in (302, 400)


def test_a_report_records_every_kind_of_event_with_its_context_and_no_values(client: Browser) -> None:
    # given a person who reports a light, makes a mistake on the way, sends it and rates the service
    application_id = _start(client)
    base = f"/apply/{application_id}"
    _post(client, f"{base}/private-land", LIGHT_FORMS["private-land"])
    _post(client, f"{base}/problem", LIGHT_FORMS["problem"])
    _post(client, f"{base}/location", LIGHT_FORMS["location"])
    _post(client, f"{base}/photo", {})
    _post(client, f"{base}/your-details", {**LIGHT_FORMS["your-details"], "reporter_email": ["charles at example"]})
    _post(client, f"{base}/your-details", LIGHT_FORMS["your-details"])
    check = client.get(f"{base}/check-answers").content.decode()
    submit_key = re.search(r'name="submit_key" value="([^"]+)"', check)
    assert submit_key is not None
    client.post(f"{base}/check-answers", {"submit_key": submit_key.group(1), "declaration": "accepted"})
    _post(client, f"{base}/confirmation", {"rating": "4", "comment": "My neighbour Charles Babbage told me"})
    # and another person whose light is on private land (an exit)
    other = Browser()
    exit_id = _start(other)
    _post(other, f"/apply/{exit_id}/private-land", {"on_private_land": "yes"})
    assert other.get(f"/apply/{exit_id}/not-council").status_code == 200
    services.page_views_flush()  # page views are buffered (services module docstring)

    # then the events hold every kind the issue names
    events = list(JourneyEvent.objects.filter(service_id=SERVICE).order_by("occurred_at", "id"))
    kinds = {event.kind for event in events}
    assert kinds == {
        "start_page_view",
        "started",
        "page_view",
        "page_submit",
        "validation_error",
        "exit",
        "submission",
        "feedback",
    }
    mine = [event for event in events if event.application_id == application_id]
    assert [event.page_id for event in mine if event.kind == "page_submit"] == [
        "private-land",
        "problem",
        "location",
        "photo",
        "your-details",
    ]
    [error] = [event for event in mine if event.kind == "validation_error"]
    assert (error.page_id, error.details) == (
        "your-details",
        {"errors": [{"field": "reporter_email", "code": "format"}]},
    )
    [exit_event] = [event for event in events if event.kind == "exit"]
    assert (exit_event.application_id, exit_event.page_id) == (exit_id, "not-council")
    [feedback] = [event for event in mine if event.kind == "feedback"]
    assert feedback.page_id == "confirmation"
    # and each carries the service, the version, the channel, the language and the time
    for event in events:
        assert (event.service_id, event.version, event.channel, event.language) == (SERVICE, 1, "web", "en"), event
        assert event.occurred_at is not None
        assert event.is_test is False
    # and nothing anyone typed
    recorded = json.dumps([event.details for event in events])
    for typed in ("Charles", "Babbage", "charles", "neighbour", "Opposite number 12", "WM-04512"):
        assert typed not in recorded

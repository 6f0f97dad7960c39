"""Page views buffered per process and written with the next journey write: none lost, none written twice."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from govserve.journeys import services
from govserve.journeys.models import JourneyEvent, JourneyEventKind
from govserve.journeys.tests.support import TRADING_FORMS, applicant, citizen_new
from govserve.journeys.tests.test_services import save, start

pytestmark = pytest.mark.usefixtures("examples")


@pytest.fixture(autouse=True)
def _no_page_views_held(settings: Any) -> None:
    settings.GOVSERVE_JOURNEY_PAGE_VIEW_BUFFER = 20
    settings.GOVSERVE_JOURNEY_PAGE_VIEW_BUFFER_SECONDS = 3600
    services.page_views_discard()


def _view(application: Any, page_id: str) -> None:
    services.page_view_record(
        kind=JourneyEventKind.PAGE_VIEW,
        service_id=application.service_id,
        version=application.version_number,
        page_id=page_id,
        application=application,
        language="en",
    )


def _page_views() -> list[str]:
    return list(
        JourneyEvent.objects.filter(kind="page_view").order_by("occurred_at", "id").values_list("page_id", flat=True)
    )


def test_page_views_are_held_then_written_in_the_transaction_of_the_next_page_save() -> None:
    # given
    who = applicant(citizen_new())
    application = start(who=who)

    # when
    _view(application, "age")
    held = _page_views()
    save(application, who, "age", TRADING_FORMS["age"])

    # then
    assert held == []
    assert _page_views() == ["age"]
    assert services.page_views_held() == 0
    assert JourneyEvent.objects.filter(kind="page_submit", page_id="age").count() == 1


def test_page_views_are_written_when_the_buffer_is_full(settings: Any) -> None:
    # given
    settings.GOVSERVE_JOURNEY_PAGE_VIEW_BUFFER = 3
    application = start()

    # when
    _view(application, "age")
    _view(application, "your-name")
    before = _page_views()
    _view(application, "contact-details")

    # then
    assert before == []
    assert _page_views() == ["age", "your-name", "contact-details"]
    assert services.page_views_held() == 0


def test_page_views_are_written_once_the_oldest_is_too_old(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # given
    settings.GOVSERVE_JOURNEY_PAGE_VIEW_BUFFER_SECONDS = 2
    application = start()
    now = [500.0]
    monkeypatch.setattr("govserve.journeys.services.time.monotonic", lambda: now[0])
    _view(application, "age")

    # when
    now[0] += 2.5
    _view(application, "your-name")

    # then
    assert _page_views() == ["age", "your-name"]


def test_a_buffer_of_zero_writes_each_page_view_at_once(settings: Any) -> None:
    # given
    settings.GOVSERVE_JOURNEY_PAGE_VIEW_BUFFER = 0
    application = start()

    # when
    _view(application, "age")

    # then
    assert _page_views() == ["age"]


def test_page_views_taken_by_a_transaction_that_rolls_back_are_held_again() -> None:
    # given
    application = start()
    _view(application, "age")

    # when
    def write_then_fail() -> None:
        with services.journey_events_joined() as joined, transaction.atomic():
            joined.insert()
            raise RuntimeError("the write failed")

    with pytest.raises(RuntimeError):
        write_then_fail()

    # then: not in the database, still held, written by the next journey write exactly once
    assert _page_views() == []
    assert services.page_views_held() == 1
    assert services.page_views_flush() == 1
    assert _page_views() == ["age"]
    assert services.page_views_flush() == 0
    assert _page_views() == ["age"]


def test_page_views_taken_by_a_write_that_records_nothing_are_held_again() -> None:
    # given: a submission replayed with its key writes nothing
    application = start()
    _view(application, "age")

    # when
    with services.journey_events_joined(), transaction.atomic():
        pass  # the caller left without inserting

    # then
    assert services.page_views_held() == 1
    assert _page_views() == []


def test_a_validation_error_event_carries_the_page_views_held() -> None:
    # given
    who = applicant(citizen_new())
    application = start(who=who)
    _view(application, "age")

    # when
    with pytest.raises(Exception, match="problem"):
        save(application, who, "age", {"date_of_birth-day": ["40"]})

    # then
    assert _page_views() == ["age"]
    assert JourneyEvent.objects.filter(kind="validation_error", page_id="age").count() == 1


def test_page_views_keep_the_time_they_happened(monkeypatch: pytest.MonkeyPatch) -> None:
    # given
    application = start()
    _view(application, "age")
    viewed = services._page_views._events[0].occurred_at

    # when
    services.page_views_flush()

    # then
    assert JourneyEvent.objects.get(kind="page_view").occurred_at == viewed

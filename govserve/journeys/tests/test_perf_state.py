"""The journey state cache, the prepared reads and the bulk answer writes: fast, and never stale or different."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import RequestFactory

from govserve.journeys import errors, selectors, services
from govserve.journeys.access import Applicant
from govserve.journeys.answers import answer_rows, answer_seal, answers_store, page_fields_by_id
from govserve.journeys.models import Answer, Application, JourneyEvent, JourneyEventKind
from govserve.journeys.queries import (
    application_and_answers_by_id,
    application_by_id,
    application_update,
    journey_events_insert,
    sealed_answers,
)
from govserve.journeys.routing import JourneyState, journey_walk
from govserve.journeys.tests.support import TRADING_FORMS, TRADING_PATH, applicant, citizen_new
from govserve.journeys.tests.test_services import save, start
from govserve.journeys.views import journey

pytestmark = pytest.mark.usefixtures("examples")


@pytest.fixture(autouse=True)
def _empty_state_cache() -> None:
    selectors.state_cache_clear()


def _walked_afresh(application: Application) -> JourneyState:
    """Return the state walked without the cache: what the cache must always agree with."""
    fresh = Application.objects.get(pk=application.id)
    compiled = selectors.compiled_for(fresh)
    rows = {answer.field_id: bytes(answer.value_sealed) for answer in Answer.objects.filter(application=fresh)}
    answers = {field_id: _unseal(fresh, compiled.definition, field_id, sealed) for field_id, sealed in rows.items()}
    return journey_walk(compiled, answers, completed=fresh.pages_completed, today=selectors.service_today(compiled))


def _unseal(application: Application, definition: Any, field_id: str, sealed: bytes) -> Any:
    from govserve.journeys.answers import answer_unseal  # noqa: PLC0415

    return answer_unseal(application, page_fields_by_id(definition)[field_id], sealed)


def _same(state: JourneyState, expected: JourneyState) -> None:
    assert state.path == expected.path
    assert state.stop == expected.stop
    assert state.visible == expected.visible
    assert dict(state.answers) == dict(expected.answers)
    assert state.values_before == expected.values_before
    assert state.final_evaluator().determinants == expected.final_evaluator().determinants


def _filled(pages: int) -> tuple[Application, Applicant]:
    who = applicant(citizen_new())
    application = start(who=who)
    for page_id in TRADING_PATH[:pages]:
        save(application, who, page_id, TRADING_FORMS[page_id])
    return Application.objects.get(pk=application.id), who


def _another_process_writes(application: Application, field_id: str, value: Any) -> None:
    """Change one stored answer as another process would: straight to the database, past this process's cache."""
    definition = selectors.compiled_for(application).definition
    sealed = answer_seal(application, page_fields_by_id(definition)[field_id], value)
    updated = Answer.objects.filter(application=application, field_id=field_id).update(value_sealed=sealed)
    assert updated == 1


# --- The journey state cache ------------------------------------------------------------------------


def test_a_cached_state_is_the_state_walked_afresh() -> None:
    # given
    application, _ = _filled(5)

    # when
    first = selectors.state_load(application)
    second = selectors.state_load(Application.objects.get(pk=application.id))

    # then
    _same(first, _walked_afresh(application))
    _same(second, _walked_afresh(application))
    assert second.path == TRADING_PATH[:6]
    assert second.final_evaluator() is not first.final_evaluator()  # each request has its own evaluator


def test_an_answer_changed_by_another_process_is_never_served_stale() -> None:
    # given: this process has the state cached
    application, _ = _filled(5)
    assert selectors.state_load(application).answers["full_name"] == "Ada Lovelace"

    # when: another process saves a new name (its own cache, its own connection: only the database is shared)
    _another_process_writes(application, "full_name", "Grace Hopper")

    # then
    state = selectors.state_load(Application.objects.get(pk=application.id))
    assert state.answers["full_name"] == "Grace Hopper"
    _same(state, _walked_afresh(application))


def test_a_change_of_path_by_another_process_is_seen_at_once() -> None:
    # given: the walk is cached with "goods" as the trading type, on the pitch page
    application, _ = _filled(5)
    assert selectors.state_load(application).path[-1] == "pitch"

    # when: another process answers "food", which adds the food business page, and marks a page unsaved
    _another_process_writes(application, "trading_type", "food")
    Application.objects.filter(pk=application.id).update(pages_completed=["age", "your-name"])

    # then
    state = selectors.state_load(Application.objects.get(pk=application.id))
    assert state.path == ["age", "your-name", "contact-details"]
    assert state.answers["trading_type"] == "food"
    _same(state, _walked_afresh(application))


def test_a_deleted_answer_is_seen_at_once() -> None:
    # given
    application, _ = _filled(5)
    assert "full_name" in selectors.state_load(application).answers

    # when
    Answer.objects.filter(application=application, field_id="full_name").delete()

    # then
    state = selectors.state_load(Application.objects.get(pk=application.id))
    assert "full_name" not in state.answers
    assert state.first_unanswered == "your-name"


def test_a_save_rolled_back_leaves_no_cached_state_behind() -> None:
    # given
    application, who = _filled(5)
    selectors.state_load(application)

    # when: the page is saved (the cache now holds the new walk) but the enclosing transaction rolls back
    saved: list[Any] = []

    def save_then_fail() -> None:
        with transaction.atomic():
            saved.append(save(application, who, "your-name", {"full_name": ["Grace Hopper"]}))
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        save_then_fail()
    assert saved[0].state.answers["full_name"] == "Grace Hopper"

    # then: the stored answer is the old one, and so is the state
    state = selectors.state_load(Application.objects.get(pk=application.id))
    assert state.answers["full_name"] == "Ada Lovelace"
    _same(state, _walked_afresh(application))


def test_the_state_a_save_returns_is_the_state_of_what_it_stored() -> None:
    # given
    application, who = _filled(4)

    # when
    result = save(application, who, "trading-type", TRADING_FORMS["trading-type"])

    # then
    _same(result.state, _walked_afresh(application))
    assert result.state.path[-1] == "pitch"


def test_a_cached_state_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    # given: a state cached at time 1000
    application, _ = _filled(3)
    selectors.state_cache_clear()
    now = [1000.0]
    monkeypatch.setattr("govserve.journeys.selectors.time.monotonic", lambda: now[0])
    first = selectors.state_load(application)

    # when: the time-to-live has passed
    now[0] += selectors.DEFAULT_STATE_CACHE_SECONDS + 1
    calls: list[int] = []

    def counted_walk(*args: Any, **kwargs: Any) -> JourneyState:
        calls.append(1)
        return journey_walk(*args, **kwargs)

    monkeypatch.setattr("govserve.journeys.selectors.journey_walk", counted_walk)
    second = selectors.state_load(application)

    # then: walked again
    assert calls == [1]
    _same(second, first)


def test_a_fresh_entry_is_used_without_walking_again(monkeypatch: pytest.MonkeyPatch) -> None:
    # given
    application, _ = _filled(3)
    selectors.state_load(application)

    # when
    def no_walk(*args: Any, **kwargs: Any) -> JourneyState:
        raise AssertionError("walked again")

    monkeypatch.setattr("govserve.journeys.selectors.journey_walk", no_walk)
    state = selectors.state_load(Application.objects.get(pk=application.id))

    # then
    assert state.path == TRADING_PATH[:4]


def test_the_cache_can_be_turned_off(settings: Any) -> None:
    # given
    settings.GOVSERVE_JOURNEY_STATE_CACHE_SIZE = 0
    application, _ = _filled(3)

    # when
    state = selectors.state_load(application)
    _another_process_writes(application, "full_name", "Grace Hopper")

    # then
    assert selectors._states.get(application.id) is None
    assert state.answers["full_name"] == "Ada Lovelace"
    assert selectors.state_load(application).answers["full_name"] == "Grace Hopper"


def test_deleting_a_draft_forgets_its_state_in_this_process() -> None:
    # given
    application, who = _filled(3)
    selectors.state_load(application)
    assert selectors._states.get(application.id) is not None

    # when
    services.application_draft_delete(application_id=application.id, applicant=who)

    # then
    assert selectors._states.get(application.id) is None


def test_the_cache_is_bounded(settings: Any) -> None:
    # given
    settings.GOVSERVE_JOURNEY_STATE_CACHE_SIZE = 2
    applications = [start(who=applicant(citizen_new(f"person{number}@example.org"))) for number in range(3)]

    # when
    for application in applications:
        selectors.state_load(application)

    # then: the oldest is gone
    assert selectors._states.get(applications[0].id) is None
    assert selectors._states.get(applications[2].id) is not None


# --- Prepared reads ---------------------------------------------------------------------------------------


def test_the_prepared_application_read_gives_the_orm_instance() -> None:
    # given
    application, _ = _filled(2)

    # when
    expected = Application.objects.get(pk=application.id)
    read = application_by_id(application.id)

    # then: every field, converted the same way (UUIDs, aware times, JSON, bytes)
    assert read is not None
    for model_field in Application._meta.concrete_fields:
        assert getattr(read, model_field.attname) == getattr(expected, model_field.attname), model_field.name
    assert read._state.adding is False
    assert read._state.db == connection.alias
    assert application_by_id(uuid.uuid4()) is None


def test_the_prepared_read_for_update_runs_in_a_transaction() -> None:
    # given
    application, _ = _filled(1)

    # when
    with transaction.atomic():
        locked = application_by_id(application.id, for_update=True)

    # then
    assert locked is not None
    assert locked.pages_completed == ["age"]


def test_the_sealed_answers_read_gives_the_stored_bytes() -> None:
    # given
    application, _ = _filled(4)

    # when
    rows = sealed_answers(application.id)

    # then
    stored = {answer.field_id: bytes(answer.value_sealed) for answer in Answer.objects.filter(application=application)}
    assert rows == stored
    assert set(rows) == {"date_of_birth", "full_name", "email", "phone", "home_address"}
    assert sealed_answers(uuid.uuid4()) == {}


def test_the_application_and_its_answers_read_at_once_are_the_two_reads(django_assert_num_queries: Any) -> None:
    # given
    application, _ = _filled(4)
    empty = start(who=applicant(citizen_new("empty@example.org")))

    # when: one statement on PostgreSQL, the two reads elsewhere
    with django_assert_num_queries(1 if connection.vendor == "postgresql" else 2):
        found = application_and_answers_by_id(application.id)

    # then: the instance application_by_id gives and the rows sealed_answers gives
    assert found is not None
    read, rows = found
    expected = application_by_id(application.id)
    assert expected is not None
    for model_field in Application._meta.concrete_fields:
        assert getattr(read, model_field.attname) == getattr(expected, model_field.attname), model_field.name
    assert read._state.adding is False
    assert rows == sealed_answers(application.id)
    assert set(rows) == {"date_of_birth", "full_name", "email", "phone", "home_address"}
    assert application_and_answers_by_id(empty.id) == (application_by_id(empty.id), {})
    assert application_and_answers_by_id(uuid.uuid4()) is None


def test_a_view_walks_the_answers_read_with_the_application_once_then_reads_them_again() -> None:
    # given: the access check read the application before any answer; one has been stored since
    application, _ = _filled(1)
    request = RequestFactory().get("/")
    request._journeys_answers_read = (application, {})  # type: ignore[attr-defined]

    # when
    first = journey._state_first(request, application)
    again = journey._state_first(request, application)

    # then: the first walk is of the check's own rows, the next of the database's
    assert "date_of_birth" not in first.answers
    assert "date_of_birth" in again.answers


# --- Bulk answer writes ------------------------------------------------------------------------------------


def test_answers_are_stored_in_one_upsert_and_one_delete_and_the_rows_returned_are_the_database_s() -> None:
    # given
    application, _ = _filled(3)
    fields = page_fields_by_id(selectors.compiled_for(application).definition)

    # when: one answer changed, one removed, one new
    with transaction.atomic():
        locked = application_by_id(application.id, for_update=True)
        assert locked is not None
        changed, rows = answers_store(
            locked,
            [fields["full_name"], fields["phone"], fields["trading_type"]],
            {"full_name": "Grace Hopper", "phone": None, "trading_type": "goods"},
            rows=answer_rows(locked),
        )

    # then
    assert changed == ["full_name", "phone", "trading_type"]
    assert rows == sealed_answers(application.id)
    state = selectors.state_load(Application.objects.get(pk=application.id))
    assert state.answers["full_name"] == "Grace Hopper"
    assert "phone" not in state.answers
    assert state.answers["trading_type"] == "goods"


def test_removing_an_answer_never_stored_changes_nothing() -> None:
    # given
    application, _ = _filled(1)
    fields = page_fields_by_id(selectors.compiled_for(application).definition)
    before = sealed_answers(application.id)

    # when
    with transaction.atomic():
        changed, rows = answers_store(application, [fields["phone"]], {"phone": None}, rows=answer_rows(application))

    # then
    assert changed == []
    assert rows == before == sealed_answers(application.id)


def test_a_save_refused_under_the_lock_changes_nothing() -> None:
    # given: the draft expired between the page load and the save
    application, who = _filled(2)
    before = sealed_answers(application.id)
    Application.objects.filter(pk=application.id).update(status="withdrawn", submitted_at=application.created_at)

    # when: the request read the draft before it changed (``loaded``): the lock reads it again
    with pytest.raises(errors.ApplicationNotEditableError):
        save(application, who, "contact-details", TRADING_FORMS["contact-details"], loaded=application)

    # then
    assert sealed_answers(application.id) == before
    assert Application.objects.get(pk=application.id).pages_completed == ["age", "your-name"]


# --- Prepared writes ---------------------------------------------------------------------------------------


def test_the_prepared_application_update_writes_the_fields_and_the_update_time() -> None:
    # given
    application, _ = _filled(1)
    before = Application.objects.get(pk=application.id)

    # when
    application.pages_completed = ["age", "your-name"]
    application.current_page = "your-name"
    application.expires_at = before.expires_at + dt.timedelta(days=1) if before.expires_at else None
    application.status = "withdrawn"  # not named: not written
    with transaction.atomic():
        application_update(application, ["pages_completed", "current_page", "expires_at"])

    # then
    after = Application.objects.get(pk=application.id)
    assert after.pages_completed == ["age", "your-name"]
    assert after.current_page == "your-name"
    assert after.expires_at == application.expires_at
    assert after.updated_at == application.updated_at > before.updated_at
    assert after.status == "draft"


def test_the_prepared_event_insert_round_trips_every_field() -> None:
    # given
    application, _ = _filled(1)
    events = [
        services.journey_event_new(
            kind=JourneyEventKind.VALIDATION_ERROR,
            service_id=application.service_id,
            version=application.version_number,
            page_id="age",
            application=application,
            language="cy",
            details={"errors": [{"field": "date_of_birth", "code": "required"}]},
        ),
        services.journey_event_new(
            kind=JourneyEventKind.START_PAGE_VIEW, service_id="street-trading-licence", version=None, is_test=True
        ),
    ]

    # when
    with transaction.atomic():
        journey_events_insert(events)

    # then
    stored = list(
        JourneyEvent.objects.filter(kind__in=["validation_error", "start_page_view"]).order_by("kind").values()
    )
    assert [(row["kind"], row["details"], row["language"], row["is_test"], row["version"]) for row in stored] == [
        ("start_page_view", {}, "en", True, None),
        ("validation_error", {"errors": [{"field": "date_of_birth", "code": "required"}]}, "cy", False, 1),
    ]
    assert stored[1]["application_id"] == application.id
    assert stored[1]["occurred_at"] == events[0].occurred_at


def test_a_version_given_that_is_not_the_pinned_one_is_not_used() -> None:
    # given: the pinned version of another service at hand
    application, _ = _filled(2)
    other = selectors.compiled_for(start(service_id="report-street-light", who=applicant(citizen_new("b@example.org"))))

    # when
    state = selectors.state_from_rows(application, answer_rows(application), compiled=other)

    # then
    assert state.compiled.service_id == "street-trading-licence"
    _same(state, _walked_afresh(application))

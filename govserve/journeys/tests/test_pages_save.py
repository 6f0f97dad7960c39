"""Several pages saved together (pages_answers_save): the same outcome as saving them one by one, in one write."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from govserve.audit.models import AuditEntry
from govserve.core import clock
from govserve.journeys import errors, selectors, services
from govserve.journeys.access import Applicant
from govserve.journeys.fields import FieldError
from govserve.journeys.fields.parse import FormData
from govserve.journeys.models import Answer, Application, JourneyEvent
from govserve.journeys.routing import JourneyState
from govserve.journeys.tests.support import (
    LIGHT_FORMS,
    LIGHT_PATH,
    NEWBORN,
    NEWBORN_FORMS,
    NEWBORN_PATH,
    STREET_LIGHT,
    applicant,
    citizen_new,
    date_form,
)

pytestmark = pytest.mark.usefixtures("examples")

Forms = Mapping[str, FormData]


def _start(service_id: str, who: Applicant) -> Application:
    return services.application_start(service_id=service_id, applicant=who, language="en").application


def _newborn_forms() -> Forms:
    born = clock.now().date() - dt.timedelta(days=3)
    return {"baby-date-of-birth": date_form("baby_date_of_birth", born), **NEWBORN_FORMS}


def _along(forms: Forms) -> Callable[[JourneyState], services.PageInput | None]:
    """Answer the first page of the path not saved yet with its form, as an API walk does."""
    done: set[str] = set()

    def next_page(state: JourneyState) -> services.PageInput | None:
        for page_id in state.path:
            if page_id in done or page_id not in forms:
                continue
            done.add(page_id)
            return services.PageInput(page_id=page_id, data=forms[page_id])
        return None

    return next_page


def _save_all(application: Application, who: Applicant, forms: Forms) -> services.PagesSaveResult:
    return services.pages_answers_save(
        application_id=application.id, applicant=who, next_page=_along(forms), language="en"
    )


def _stored(application: Application) -> tuple[dict[str, object], list[str], list[str]]:
    fresh = Application.objects.get(pk=application.pk)
    state = selectors.state_load(fresh)
    return dict(state.answers), list(fresh.pages_completed), list(state.path)


def _audited(application: Application) -> list[dict[str, object]]:
    entries = AuditEntry.objects.filter(
        action="journeys.application.answers_saved", subject_id=str(application.id)
    ).order_by("id")
    return [entry.details for entry in entries]


def _page_events(application: Application) -> list[str]:
    return list(
        JourneyEvent.objects.filter(application_id=application.id, kind="page_submit")
        .order_by("id")
        .values_list("page_id", flat=True)
    )


@pytest.mark.parametrize(
    ("service_id", "path", "forms"),
    [(STREET_LIGHT, LIGHT_PATH, LIGHT_FORMS), (NEWBORN, NEWBORN_PATH, None)],
    ids=["street-light", "newborn"],
)
def test_pages_saved_together_end_as_saving_them_one_by_one(
    service_id: str, path: Sequence[str], forms: Forms | None
) -> None:
    forms = forms or _newborn_forms()
    who = applicant(citizen_new())
    one_by_one = _start(service_id, who)
    for page_id in path:
        services.page_answers_save(
            application_id=one_by_one.id, applicant=who, page_id=page_id, data=forms[page_id], language="en"
        )
    together = _start(service_id, who)

    result = _save_all(together, who, forms)

    assert result.saved == list(path)
    assert result.state.complete
    assert _stored(together) == _stored(one_by_one)
    assert result.state.answers == selectors.state_load(Application.objects.get(pk=together.pk)).answers
    # one audit entry names the pages and every field changed; each page keeps its journey event
    one_entry_a_page = _audited(one_by_one)
    assert _audited(together) == [
        {
            "pages": [entry["page"] for entry in one_entry_a_page],
            "fields": [field for entry in one_entry_a_page for field in entry["fields"]],  # type: ignore[attr-defined]
        }
    ]
    assert _page_events(together) == list(path)
    assert Answer.objects.filter(application=together).count() == Answer.objects.filter(application=one_by_one).count()


def test_the_pages_are_written_once_under_one_lock() -> None:
    who = applicant(citizen_new())
    application = _start(STREET_LIGHT, who)

    with CaptureQueriesContext(connection) as queries:
        _save_all(application, who, LIGHT_FORMS)

    statements = [query["sql"].lstrip().upper() for query in queries.captured_queries]
    # one update of the application and one upsert of the answers for the five pages (a page save makes one each)
    assert sum(sql.startswith('UPDATE "JOURNEYS_APPLICATION"') for sql in statements) == 1
    assert sum(sql.startswith('INSERT INTO "JOURNEYS_ANSWER"') for sql in statements) == 1


def test_the_walk_stops_at_the_first_page_with_errors_keeping_the_pages_before() -> None:
    who = applicant(citizen_new())
    application = _start(STREET_LIGHT, who)
    forms = {**LIGHT_FORMS, "location": {**LIGHT_FORMS["location"], "street": [""]}}

    with pytest.raises(errors.AnswersInvalidError) as raised:
        _save_all(application, who, forms)

    assert [(error.field_id, error.code) for error in raised.value.errors] == [("street", "required")]
    answers, completed, path = _stored(application)
    assert completed == ["private-land", "problem"]
    assert answers == {"on_private_land": False, "problem": "damaged", "exposed_wires": True}
    assert path[-1] == "location"
    event = JourneyEvent.objects.get(kind="validation_error", application_id=application.id)
    assert event.page_id == "location"
    assert event.details == {"errors": [{"field": "street", "code": "required"}]}
    assert _page_events(application) == ["private-land", "problem"]
    assert _audited(application) == [
        {"pages": ["private-land", "problem"], "fields": ["on_private_land", "problem", "exposed_wires"]}
    ]


def test_an_error_on_the_first_page_saves_nothing() -> None:
    who = applicant(citizen_new())
    application = _start(STREET_LIGHT, who)

    with pytest.raises(errors.AnswersInvalidError):
        _save_all(application, who, {**LIGHT_FORMS, "private-land": {"on_private_land": ["perhaps"]}})

    assert not Answer.objects.filter(application=application).exists()
    assert Application.objects.get(pk=application.pk).pages_completed == []
    assert _audited(application) == []


def test_a_page_the_caller_could_not_make_stops_the_walk_with_its_errors() -> None:
    who = applicant(citizen_new())
    application = _start(STREET_LIGHT, who)
    refused = FieldError("problem", "answer_type", "problem must be a string", "problem")
    pages = iter(
        [
            services.PageInput(page_id="private-land", data=LIGHT_FORMS["private-land"]),
            services.PageInput(page_id="problem", data={}, errors=[refused]),
        ]
    )

    with pytest.raises(errors.AnswersInvalidError) as raised:
        services.pages_answers_save(
            application_id=application.id, applicant=who, next_page=lambda _state: next(pages, None), language="en"
        )

    assert raised.value.errors == [refused]
    assert Application.objects.get(pk=application.pk).pages_completed == ["private-land"]
    # the caller's own refusal is not a validation of the page: no validation event
    assert not JourneyEvent.objects.filter(kind="validation_error", application_id=application.id).exists()


def test_a_page_off_the_path_is_refused_before_anything_is_written() -> None:
    who = applicant(citizen_new())
    application = _start(STREET_LIGHT, who)
    pages = iter([services.PageInput(page_id="your-details", data=LIGHT_FORMS["your-details"])])

    with pytest.raises(errors.PageNotFoundError):
        services.pages_answers_save(
            application_id=application.id, applicant=who, next_page=lambda _state: next(pages, None), language="en"
        )

    assert not Answer.objects.filter(application=application).exists()


def test_another_applicant_cannot_save_pages_into_an_application() -> None:
    owner = applicant(citizen_new())
    application = _start(STREET_LIGHT, owner)

    with pytest.raises(errors.ApplicationNotFoundError):
        _save_all(application, applicant(citizen_new("grace@example.org")), LIGHT_FORMS)

    assert not Answer.objects.filter(application=application).exists()


def test_a_sent_application_takes_no_more_pages() -> None:
    who = applicant(citizen_new())
    application = _start(STREET_LIGHT, who)
    _save_all(application, who, LIGHT_FORMS)
    services.application_submit(
        application_id=application.id,
        applicant=who,
        idempotency_key="pages-save-0001",
        declaration_accepted=True,
        language="en",
    )

    with pytest.raises(errors.ApplicationNotEditableError):
        _save_all(application, who, LIGHT_FORMS)


def test_an_application_created_in_the_same_transaction_is_saved_without_reading_it_again() -> None:
    who = applicant(citizen_new())
    with transaction.atomic():
        application = _start(STREET_LIGHT, who)
        with CaptureQueriesContext(connection) as queries:
            result = services.pages_answers_save(
                application_id=application.id,
                applicant=who,
                next_page=_along(LIGHT_FORMS),
                language="en",
                loaded=application,
                walked=selectors.state_from_rows(application, {}),
                created=True,
            )
    statements = [query["sql"].lstrip().upper() for query in queries.captured_queries]
    assert not any(sql.startswith('SELECT "JOURNEYS_APPLICATION"') for sql in statements)
    assert not any('FROM "JOURNEYS_ANSWER"' in sql for sql in statements)
    # and the state it returns (and keeps) is the one a fresh load computes from the stored rows
    selectors.state_cache_clear()
    fresh = selectors.state_load(Application.objects.get(pk=application.pk))
    assert result.state.answers == fresh.answers
    assert (result.state.path, result.state.complete) == (fresh.path, fresh.complete)
    assert result.saved == LIGHT_PATH

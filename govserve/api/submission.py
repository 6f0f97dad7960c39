"""Answers saved through an API, page by page, by the journey's own page saves (shared by API v1 and GovStack).

Both APIs take answers in their JSON forms (:mod:`govserve.api.v1.answers`),
turn a page's answers into the form the web would post, and save the pages
with :func:`govserve.journeys.services.pages_answers_save` (every page
validated in turn along the path, then written together: one lock, one
write) or, where a page takes uploads or repeating groups' items,
:func:`govserve.journeys.services.page_answers_save` page after page: the
same parsing, validation, messages, audit entries and journey events as the
web either way. Nothing here decides a rule; it only walks the pages and
refuses answers to fields the service does not have.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from govserve.api import errors
from govserve.api.v1.answers import UNSUPPORTED, page_form_data
from govserve.catalogue.definitions.schema import GroupField, Page
from govserve.documents.services import UploadedFileLike
from govserve.journeys import errors as journey_errors
from govserve.journeys import services as journey_services
from govserve.journeys.access import Applicant
from govserve.journeys.fields import FieldError
from govserve.journeys.models import Application
from govserve.journeys.routing import JourneyState


def page_of(state: JourneyState, page_id: str) -> Page:
    """Return the page ``page_id`` of the application's definition; raise PageNotFoundError."""
    for page in state.definition.pages:
        if page.id == page_id:
            return page
    raise journey_errors.PageNotFoundError("There is no such page in this application")


def answers_unknown_check(answers: Mapping[str, Any], known: set[str], where: str) -> None:
    """Raise AnswersUnknownError (one ``unknown_field`` entry each) for answers to fields not in ``known``."""
    unknown = [field_id for field_id in answers if field_id not in known]
    if unknown:
        raise errors.AnswersUnknownError(
            f"Some answers are not questions of {where}",
            errors=[
                FieldError(field_id, "unknown_field", f"{field_id} is not a question of {where}", field_id)
                for field_id in unknown
            ],
        )


def page_save(
    applicant: Applicant,
    application: Application,
    state: JourneyState,
    page: Page,
    answers: Mapping[str, Any],
    *,
    files: Mapping[str, UploadedFileLike] | None = None,
) -> journey_services.PageSaveResult:
    """Save one page's JSON ``answers`` (and ``files`` by field id) with the journey's page save; return its result.

    Raise ApplicationNotEditableError for an application that is not an open
    draft (before any answer's errors), AnswersInvalidError with every JSON
    type error or the journey's validation errors (nothing of the page saved).
    """
    if not journey_services.draft_open(application):
        # Checked again by the save; first here so a sent application answers 409 before any answer's errors.
        raise journey_errors.ApplicationNotEditableError("This application can no longer be changed")
    data, found = page_form_data(page, answers, compiled=state.compiled, language=application.language)
    if found:
        raise journey_errors.AnswersInvalidError("There is a problem with your answers", errors=found)
    return journey_services.page_answers_save(
        application_id=application.id,
        applicant=applicant,
        page_id=page.id,
        data=data,
        files=files,
        language=application.language,
        loaded=application,
        walked=state,
    )


GroupsSave = Callable[[Application, JourneyState, Page, dict[str, Any]], tuple[Application, JourneyState]]
"""Save a page's repeating groups' answers (by group id) before the page; return the application and state after."""


WalkResult = journey_services.PagesSaveResult
"""The application after a walk of its pages: its state, the pages saved and the fields changed."""


def answers_walk_save(
    applicant: Applicant,
    application: Application,
    state: JourneyState,
    answers: Mapping[str, Any],
    *,
    files: Mapping[str, UploadedFileLike] | None = None,
    groups: GroupsSave | None = None,
    created: bool = False,
) -> WalkResult:
    """Save ``answers`` (by field id) page by page along the path, the path recomputed after each page.

    A page with no answer in ``answers`` (nor a file in ``files``) ends the
    walk unless it was answered before or asks only for what JSON does not
    answer (files, repeating groups). Exit pages are passed over. The first
    page with errors raises them (the pages before it stay saved). Without
    ``files`` and repeating groups' items to save with ``groups``, the pages
    are validated in turn and written together
    (:func:`govserve.journeys.services.pages_answers_save`).
    ``groups``: how a caller that takes repeating groups' items in the
    answers (GovStack's formData) saves them, before the rest of the page;
    without it they are refused as a page's JSON refuses them (``answer_unsupported``).
    ``created``: the application was inserted by the caller's open transaction
    (:func:`govserve.journeys.services.pages_answers_save`).
    """
    groups_asked = {f.id for page in state.definition.pages for f in page.fields if isinstance(f, GroupField)}
    if not files and (groups is None or not groups_asked.intersection(answers)):
        return _answers_walk_batched(applicant, application, state, answers, created=created)
    uploads = dict(files or {})
    saved: list[str] = []
    changed: list[str] = []
    done: set[str] = set()
    while (found := _walk_next(state, done, application, answers, uploads)) is not None:
        page, page_answers, page_files = found
        group_ids = [f.id for f in page.fields if isinstance(f, GroupField) and f.id in page_answers]
        if groups is not None and group_ids:
            group_answers = {group_id: page_answers.pop(group_id) for group_id in group_ids}
            application, state = groups(application, state, page, group_answers)
        result = page_save(applicant, application, state, page, page_answers, files=page_files or None)
        application, state = result.application, result.state
        saved.append(page.id)
        changed.extend(result.changed)
    return WalkResult(application=application, state=state, saved=saved, changed=changed)


def _walk_next(
    state: JourneyState,
    done: set[str],
    application: Application,
    answers: Mapping[str, Any],
    uploads: Mapping[str, UploadedFileLike],
) -> tuple[Page, dict[str, Any], dict[str, UploadedFileLike]] | None:
    """Return the walk's next page to save with its answers and files, marking it walked; None ends the walk.

    The first page on the path not walked yet that asks questions (exit pages
    are passed over); one with nothing given is passed over when answered
    before, saved when it asks only for what JSON does not answer, and
    otherwise ends the walk.
    """
    for page in (page_of(state, page_id) for page_id in state.path):
        if page.id in done or page.exit:
            continue
        done.add(page.id)
        page_answers = {field.id: answers[field.id] for field in page.fields if field.id in answers}
        page_files = {field.id: uploads[field.id] for field in page.fields if field.id in uploads}
        if page_answers or page_files:
            return page, page_answers, page_files
        if page.id in application.pages_completed:
            continue
        if all(isinstance(field, UNSUPPORTED) for field in page.fields):
            return page, page_answers, page_files
        return None
    return None


def _answers_walk_batched(
    applicant: Applicant, application: Application, state: JourneyState, answers: Mapping[str, Any], *, created: bool
) -> WalkResult:
    """Walk as :func:`answers_walk_save` does, the pages saved together by the journey's ``pages_answers_save``."""
    if not journey_services.draft_open(application):
        raise journey_errors.ApplicationNotEditableError("This application can no longer be changed")
    done: set[str] = set()
    language = application.language

    def next_page(walked: JourneyState) -> journey_services.PageInput | None:
        found = _walk_next(walked, done, application, answers, {})
        if found is None:
            return None
        page, page_answers, _ = found
        data, errors_found = page_form_data(page, page_answers, compiled=walked.compiled, language=language)
        return journey_services.PageInput(page_id=page.id, data=data, errors=errors_found)

    return journey_services.pages_answers_save(
        application_id=application.id,
        applicant=applicant,
        next_page=next_page,
        language=language,
        loaded=application,
        walked=state,
        created=created,
    )

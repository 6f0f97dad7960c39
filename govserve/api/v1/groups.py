"""Repeating groups ("add another") through the API: list, add, change and remove the items of a group.

The web answers a repeating group item by item (``/apply/<id>/<page>/<group>/add``
and the item's change and remove pages), then confirms the page. The API
does the same through the same services: an item's JSON answers (by child
field id, in the answers schema's forms) are written out as the web's item
form would post them and saved by
:func:`govserve.journeys.services.group_item_save` (the same parsing,
validation, messages, ``max_items`` refusal and audit entry);
:func:`~govserve.journeys.services.group_item_remove` removes one (the page
must then be confirmed again, as on the web). Confirming the list is the
page's own save (``PUT …/pages/{page}``: the group's ``min_items`` and rules
are checked there).

The routes join the applications router (imported at the end of
:mod:`govserve.api.v1.applications`).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Schema
from pydantic import Field

from govserve.api import submission
from govserve.api.v1.answers import answer_json, item_form_data
from govserve.api.v1.applications import (
    AUTH_PROBLEMS,
    READ,
    READ_PROBLEMS,
    WRITE,
    application_out,
    owned,
    router,
)
from govserve.api.v1.auth import principal_of
from govserve.api.v1.http import json_response
from govserve.api.v1.schemas import ApplicationOut, Problem, StrictBody
from govserve.catalogue.definitions.schema import GroupField
from govserve.journeys import errors as journey_errors
from govserve.journeys import selectors as journeys
from govserve.journeys import services as journey_services
from govserve.journeys.models import Application
from govserve.journeys.routing import JourneyState

WRITE_PROBLEMS: dict[int, Any] = {**AUTH_PROBLEMS, 400: Problem, 404: Problem, 409: Problem, 422: Problem}


class GroupItemIn(StrictBody):
    answers: dict[str, Any] = Field(description="The item's answers by child field id (the answers schema's forms).")


class GroupOut(Schema):
    application: ApplicationOut
    page: str
    group: str
    item_id: str | None = Field(description="The item added, changed or removed (null for a read).")
    items: list[dict[str, Any]] = Field(description="The group's items, each with its `_id` and child answers.")


def _group(state: JourneyState, page_id: str, group_id: str) -> GroupField:
    page = submission.page_of(state, page_id)
    for page_field in page.fields:
        if page_field.id == group_id and isinstance(page_field, GroupField):
            return page_field
    raise journey_errors.PageNotFoundError("There is no such list on this page")


def _group_out(application: Application, page_id: str, group_id: str, item_id: str | None) -> GroupOut:
    state = journeys.state_load(application)
    group = _group(state, page_id, group_id)
    return GroupOut(
        application=application_out(application, state),
        page=page_id,
        group=group_id,
        item_id=item_id,
        items=answer_json(group, state.answers.get(group_id) or []),
    )


def _item_save(
    request: HttpRequest, application_id: uuid.UUID, *, page_id: str, group_id: str, item_id: str | None, answers: Any
) -> tuple[Application, str]:
    principal = principal_of(request)
    application = owned(principal, application_id)
    if not journey_services.draft_open(application):
        raise journey_errors.ApplicationNotEditableError("This application can no longer be changed")
    state = journeys.state_load(application)
    group = _group(state, page_id, group_id)
    submission.answers_unknown_check(answers, {child.id for child in group.fields}, f"the list {group_id}")
    data, found = item_form_data(group, answers, compiled=state.compiled, language=application.language)
    if found:
        raise journey_errors.AnswersInvalidError("There is a problem with your answers", errors=found)
    saved = journey_services.group_item_save(
        application_id=application.id,
        applicant=principal.applicant(application.id),
        page_id=page_id,
        group_id=group_id,
        item_id=item_id,
        data=data,
        language=application.language,
        loaded=application,
    )
    application.refresh_from_db()
    return application, saved


@router.get(
    "/applications/{application_id}/pages/{page_id}/groups/{group_id}/items",
    auth=READ,
    response={200: GroupOut, **READ_PROBLEMS},
    url_name="application_group_items",
    summary="The items of a repeating group",
)
def application_group_items(
    request: HttpRequest, application_id: uuid.UUID, page_id: str, group_id: str
) -> HttpResponse:
    """Return the group's items (each with its ``_id``), as the page lists them on the web."""
    application = owned(principal_of(request), application_id)
    state = journeys.state_load(application)
    _group(state, page_id, group_id)
    if not state.on_path(page_id):
        raise journey_errors.PageNotFoundError("This page is not part of your application yet")
    return json_response(request, _group_out(application, page_id, group_id, None))


@router.post(
    "/applications/{application_id}/pages/{page_id}/groups/{group_id}/items",
    auth=WRITE,
    response={201: GroupOut, **WRITE_PROBLEMS},
    url_name="application_group_item_add",
    summary="Add an item to a repeating group",
)
def application_group_item_add(
    request: HttpRequest, application_id: uuid.UUID, page_id: str, group_id: str, payload: GroupItemIn
) -> HttpResponse:
    """Add one item, validated as the web's "Add another" page does (422 ``answers_invalid``, nothing saved).

    A list already at its ``max_items`` is refused (``max_items`` on the group);
    an answer to a field the group does not have is 422 ``answers_unknown``.
    Confirm the page afterwards with ``PUT …/pages/{page}`` (``{"answers": {}}``).
    """
    application, item_id = _item_save(
        request, application_id, page_id=page_id, group_id=group_id, item_id=None, answers=payload.answers
    )
    return json_response(request, _group_out(application, page_id, group_id, item_id), status=201)


@router.put(
    "/applications/{application_id}/pages/{page_id}/groups/{group_id}/items/{item_id}",
    auth=WRITE,
    response={200: GroupOut, **WRITE_PROBLEMS},
    url_name="application_group_item_change",
    summary="Change an item of a repeating group",
)
def application_group_item_change(  # noqa: PLR0917 - the path's parameters and the body
    request: HttpRequest, application_id: uuid.UUID, page_id: str, group_id: str, item_id: str, payload: GroupItemIn
) -> HttpResponse:
    """Replace one item's answers (all of them, as the web's change page posts them); 404 ``group_item_not_found``."""
    application, saved = _item_save(
        request, application_id, page_id=page_id, group_id=group_id, item_id=item_id, answers=payload.answers
    )
    return json_response(request, _group_out(application, page_id, group_id, saved))


@router.delete(
    "/applications/{application_id}/pages/{page_id}/groups/{group_id}/items/{item_id}",
    auth=WRITE,
    response={200: GroupOut, **WRITE_PROBLEMS},
    url_name="application_group_item_remove",
    summary="Remove an item of a repeating group",
)
def application_group_item_remove(
    request: HttpRequest, application_id: uuid.UUID, page_id: str, group_id: str, item_id: str
) -> HttpResponse:
    """Remove one item; the page is no longer complete until it is confirmed again (as on the web)."""
    principal = principal_of(request)
    application = owned(principal, application_id)
    if not journey_services.draft_open(application):
        raise journey_errors.ApplicationNotEditableError("This application can no longer be changed")
    _group(journeys.state_load(application), page_id, group_id)
    journey_services.group_item_remove(
        application_id=application.id,
        applicant=principal.applicant(application.id),
        page_id=page_id,
        group_id=group_id,
        item_id=item_id,
    )
    application.refresh_from_db()
    return json_response(request, _group_out(application, page_id, group_id, item_id))

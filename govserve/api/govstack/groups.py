"""Repeating groups ("add another") in GovStack's formData: an array of objects, saved item by item by the journey.

A GovStack client sends a whole application file at once, so a repeating
group's answer is the array of its items, each an object of the group's
child field ids (the e-form's schema says so: :func:`eform_schema_groups`).
The items are saved as the web saves them, one by one through
:func:`govserve.journeys.services.group_item_save` (each item's parsing,
validation, rules, ``max_items`` and audit entry), after the items already
in the answer are removed (:func:`~govserve.journeys.services.group_item_remove`:
a PUT on a draft replaces the list); the page's own save then confirms the
list (``min_items``, the page's rules), as the web's "Continue" does.

Refusals point into the body: ``/formData/data/<page>/<group>/<index>/<child>``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from govserve.api.govstack.bodies import BodyMalformedError
from govserve.api.v1.answers import ITEM_ID_MEMBER, item_form_data
from govserve.catalogue.compiled import CompiledDefinition
from govserve.catalogue.definitions.schema import GroupField, Page
from govserve.journeys import errors as journey_errors
from govserve.journeys import selectors as journeys
from govserve.journeys import services as journey_services
from govserve.journeys.access import Applicant
from govserve.journeys.fields import FieldError
from govserve.journeys.models import Application
from govserve.journeys.routing import ITEM_ID, JourneyState


class GroupItemUnknownError(BodyMalformedError):
    """An item of a repeating group answers a field the group does not have."""

    code = "answers_unknown"


def _entries(found: Sequence[object], pointer: str) -> list[object]:
    """Return the item's field errors as problem entries pointing into the item (other errors as they are)."""
    entries: list[object] = []
    for error in found:
        if isinstance(error, FieldError):
            entries.append(
                {
                    "field": error.field_id,
                    "code": error.code,
                    "detail": error.message,
                    "pointer": f"{pointer}/{error.field_id}",
                }
            )
        else:
            entries.append(error)
    return entries


def _items(value: Any, pointer: str, group: GroupField) -> list[Mapping[str, Any]]:
    """Return the items of a group's answer (null: none); raise BodyMalformedError for anything but objects."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        message = f"{group.id}: answer a repeating group with an array of objects, one per item"
        raise BodyMalformedError(
            message, errors=[{"field": group.id, "code": "type", "detail": message, "pointer": pointer}]
        )
    return value


def group_items_save(
    applicant: Applicant, application: Application, state: JourneyState, page: Page, answers: dict[str, Any]
) -> tuple[Application, JourneyState]:
    """Replace the items of ``page``'s groups named in ``answers`` with the arrays given; return the draft after.

    Raise BodyMalformedError for an answer that is not an array of objects,
    GroupItemUnknownError for a member that is not one of the group's fields
    (an item's ``_id``, as API v1 reads give it, is passed over), and the
    journey's AnswersInvalidError for an item it refuses (nothing of that
    item saved; the call's caller deletes the draft it made).
    """
    groups = {page_field.id: page_field for page_field in page.fields if isinstance(page_field, GroupField)}
    for group_id, value in answers.items():
        group = groups[group_id]
        base = f"/formData/data/{page.id}/{group_id}"
        items = _items(value, base, group)
        children = {child.id for child in group.fields}
        for existing in list(state.answers.get(group_id) or []):
            journey_services.group_item_remove(
                application_id=application.id,
                applicant=applicant,
                page_id=page.id,
                group_id=group_id,
                item_id=str(existing.get(ITEM_ID, "")),
            )
        for index, item in enumerate(items):
            pointer = f"{base}/{index}"
            answered = {key: member for key, member in item.items() if key != ITEM_ID_MEMBER}
            unknown = [key for key in answered if key not in children]
            if unknown:
                raise GroupItemUnknownError(
                    f"Some answers are not questions of the list {group_id}",
                    errors=[
                        {
                            "field": key,
                            "code": "unknown_field",
                            "detail": f"{key} is not a question of the list {group_id}",
                            "pointer": f"{pointer}/{key}",
                        }
                        for key in unknown
                    ],
                )
            _item_save(
                applicant, application, state.compiled, page=page, group=group, answered=answered, pointer=pointer
            )
        application.refresh_from_db()
        state = journeys.state_load(application)
    return application, state


def _item_save(
    applicant: Applicant,
    application: Application,
    compiled: CompiledDefinition,
    *,
    page: Page,
    group: GroupField,
    answered: Mapping[str, Any],
    pointer: str,
) -> None:
    data, found = item_form_data(group, answered, compiled=compiled, language=application.language)
    if found:
        raise journey_errors.AnswersInvalidError(
            "There is a problem with your answers", errors=_entries(found, pointer)
        )
    try:
        journey_services.group_item_save(
            application_id=application.id,
            applicant=applicant,
            page_id=page.id,
            group_id=group.id,
            item_id=None,
            data=data,
            language=application.language,
        )
    except journey_errors.AnswersInvalidError as error:
        error.extra["errors"] = _entries(list(error.extra.get("errors") or []), pointer)
        raise


def eform_schema_groups(schema: dict[str, Any], compiled: CompiledDefinition, *, language: str) -> dict[str, Any]:
    """Return the answers' JSON Schema with each repeating group as formData takes and gives it.

    API v1 answers a group item by item (its schema marks the array
    read-only and names each item's ``_id``); GovStack's formData carries
    the whole array: writable, items without ``_id``.
    """
    properties = dict(schema.get("properties") or {})
    for page in compiled.definition.pages:
        for page_field in page.fields:
            described = properties.get(page_field.id)
            if not isinstance(page_field, GroupField) or not isinstance(described, dict):
                continue
            item = dict(described.get("items") or {})
            item["properties"] = {
                key: member for key, member in (item.get("properties") or {}).items() if key != ITEM_ID_MEMBER
            }
            changed = {key: member for key, member in described.items() if key != "readOnly"}
            changed["items"] = item
            changed["description"] = (
                f"A repeating group: an array of {page_field.item_label.get(language)} items, each an object of the "
                "group's questions (sent in full: the array replaces the items of a draft)."
            )
            properties[page_field.id] = changed
    return {**schema, "properties": properties}

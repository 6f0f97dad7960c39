"""How answers are stored: one sealed JSON value per field, never in clear.

Each :class:`~govserve.journeys.models.Answer` holds the canonical JSON form
of one field's typed value (:func:`govserve.journeys.fields.value_to_json`:
dates ``"YYYY-MM-DD"``, money an int of minor units, an address a map),
sealed with the application's data key (owner ``application:<uuid>``, field
``answer:<field id>``), so a sealed answer cannot be moved to another field
or application. A repeating group is one answer: a list of items, each a map
of child field id to the child's canonical JSON plus ``_id``, the item's own
random id (links to change or remove an item name it, not a position). A
file answer is the map ``{id, name, size, content_type}`` (``id`` the document's) of the
upload in govserve.documents.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from govserve.catalogue.definitions.schema import AnyField, GroupField, ServiceDefinition
from govserve.core import clock
from govserve.journeys.fields import value_from_json, value_to_json
from govserve.journeys.models import Answer, Application
from govserve.journeys.queries import answers_upsert, sealed_answers
from govserve.journeys.routing import ITEM_ID
from govserve.privacy.crypto import data_keys_prefetch, seal, unseal


def answer_field_name(field_id: str) -> str:
    """Return the sealing field name of the answer to ``field_id``."""
    return f"answer:{field_id}"


def page_fields_by_id(definition: ServiceDefinition) -> dict[str, AnyField]:
    """Return every page field (not group children, not processing fields) by id."""
    return {page_field.id: page_field for page in definition.pages for page_field in page.fields}


def to_json(definition_field: AnyField, value: Any) -> Any:
    """Return the canonical JSON form of a typed answer."""
    if value is None:
        return None
    if isinstance(definition_field, GroupField):
        items = []
        for item in value:
            stored: dict[str, Any] = {ITEM_ID: str(item[ITEM_ID])}
            for child in definition_field.fields:
                stored[child.id] = to_json(child, item.get(child.id))
            items.append(stored)
        return items
    return value_to_json(definition_field, value)


def from_json(definition_field: AnyField, stored: Any) -> Any:
    """Return the typed answer from its canonical JSON form."""
    if stored is None:
        return None
    if isinstance(definition_field, GroupField):
        items = []
        for item in stored:
            typed: dict[str, Any] = {ITEM_ID: str(item[ITEM_ID])}
            for child in definition_field.fields:
                typed[child.id] = from_json(child, item.get(child.id))
            items.append(typed)
        return items
    return value_from_json(definition_field, stored)


def answer_seal(application: Application, definition_field: AnyField, value: Any) -> bytes:
    """Return ``value`` (typed) sealed for ``application``'s answer to ``definition_field``."""
    text = json.dumps(to_json(definition_field, value), ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return seal(owner=application.crypto_owner, field=answer_field_name(definition_field.id), plaintext=text)


def answer_unseal(application: Application, definition_field: AnyField, sealed: bytes | memoryview) -> Any:
    """Return the typed answer sealed in ``sealed``; DecryptionError propagates (tampering is not an answer)."""
    text = unseal(owner=application.crypto_owner, field=answer_field_name(definition_field.id), sealed=bytes(sealed))
    return from_json(definition_field, json.loads(text))


def answer_rows(application: Application) -> dict[str, bytes]:
    """Return the stored (sealed) answers of ``application`` by field id, as the database holds them now."""
    return sealed_answers(application.id)


def answers_from_rows(
    application: Application,
    definition: ServiceDefinition,
    rows: Mapping[str, bytes],
    *,
    known: Mapping[str, tuple[bytes, Any]] | None = None,
) -> dict[str, Any]:
    """Return the typed answers sealed in ``rows`` (fields the version lacks are skipped).

    ``known`` maps a field id to a sealed value unsealed before and its typed
    answer: a row holding exactly those bytes is not unsealed again (the same
    bytes under the same owner and field open to the same answer).
    """
    fields = page_fields_by_id(definition)
    loaded: dict[str, Any] = {}
    for field_id, sealed in rows.items():
        definition_field = fields.get(field_id)
        if definition_field is None:
            continue
        seen = known.get(field_id) if known is not None else None
        if seen is not None and seen[0] == sealed:
            loaded[field_id] = seen[1]
        else:
            loaded[field_id] = answer_unseal(application, definition_field, sealed)
    return loaded


def answers_load(application: Application, definition: ServiceDefinition) -> dict[str, Any]:
    """Return every stored answer of ``application`` by field id, typed (fields the version lacks are skipped)."""
    return answers_from_rows(application, definition, answer_rows(application))


def answers_store(
    application: Application, fields: Iterable[AnyField], values: Mapping[str, Any], *, rows: Mapping[str, bytes]
) -> tuple[list[str], dict[str, bytes]]:
    """Store the answers to ``fields`` from ``values`` (None deletes the answer); return (ids changed, new rows).

    ``rows`` are the application's stored answers read in the caller's
    transaction with the application row locked (:func:`answer_rows`), so the
    returned rows are what the database holds once it commits. At most two
    statements: one delete, one insert-or-update of every answer given.
    """
    now = clock.now()
    changed: list[str] = []
    new_rows = dict(rows)
    removed: list[str] = []
    upserts: list[Answer] = []
    for definition_field in fields:
        value = values.get(definition_field.id)
        if value is None:
            if definition_field.id in new_rows:
                removed.append(definition_field.id)
                del new_rows[definition_field.id]
                changed.append(definition_field.id)
            continue
        sealed = answer_seal(application, definition_field, value)
        upserts.append(
            Answer(application_id=application.id, field_id=definition_field.id, value_sealed=sealed, updated_at=now)
        )
        new_rows[definition_field.id] = sealed
        changed.append(definition_field.id)
    if removed:
        Answer.objects.filter(application_id=application.id, field_id__in=removed).delete()
    answers_upsert(upserts)
    return changed, new_rows


def answers_write(application: Application, fields: Iterable[AnyField], values: Mapping[str, Any]) -> list[str]:
    """Store the answers to ``fields`` from ``values`` (None deletes the answer); return the ids changed.

    Call inside the caller's transaction, with the application row locked.
    """
    changed, _ = answers_store(application, fields, values, rows=answer_rows(application))
    return changed


def answers_prefetch_keys(applications: Iterable[Application]) -> None:
    """Open the data keys of ``applications`` in one query (lists that unseal many applications)."""
    data_keys_prefetch(owners=[application.crypto_owner for application in applications])

"""Answers in JSON: their JSON Schema (from a service version's fields) and their way into the journey.

A JSON answer is read by the journey's own JSON reader
(:func:`govserve.journeys.fields.parse_json_value`: type errors such as "must
be a date written YYYY-MM-DD", with the answer's path), then written out as
the web form would post it and saved by
:func:`govserve.journeys.services.page_answers_save`. So the API and the web
share one path for every rule: the same parsing of values, the same
validation, the same messages, the same audit entry and the same events.

Not answered in a page's JSON: files (the multipart upload operation sends
them to the same page save) and repeating groups (answered item by item, as
on the web: :func:`item_form_data` feeds the journey's ``group_item_save``);
an answer to one in a page's JSON is refused with ``answer_unsupported``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from govserve.catalogue.compiled import CompiledDefinition
from govserve.catalogue.definitions import schema
from govserve.journeys.fields import FieldError, field_key, options_for, parse_json_value, value_to_json
from govserve.journeys.fields.formats import money_input_text
from govserve.journeys.fields.parse import ADDRESS_PARTS, INTERNATIONAL_ADDRESS_PARTS
from govserve.journeys.routing import ITEM_ID

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
UNSUPPORTED = (schema.FileField, schema.GroupField)


def _nullable(field: schema.AnyField, described: dict[str, Any]) -> dict[str, Any]:
    if getattr(field.validation, "required", True):
        return described
    return {"anyOf": [described, {"type": "null"}]}


def _text_schema(field: schema.AnyField) -> dict[str, Any]:
    described: dict[str, Any] = {"type": "string"}
    validation = field.validation
    if isinstance(validation, schema.TextValidation):
        if validation.min_length is not None:
            described["minLength"] = validation.min_length
        if validation.max_length is not None:
            described["maxLength"] = validation.max_length
        if validation.pattern is not None:
            described["pattern"] = validation.pattern
    if isinstance(field, schema.EmailField):
        described["format"] = "email"
    return described


def field_json_schema(  # noqa: PLR0911, PLR0912 - one branch per field type
    field: schema.AnyField, *, language: str, catalogues: Mapping[str, schema.Catalogue]
) -> dict[str, Any]:
    """Return the JSON Schema of the JSON answer to ``field`` (the forms parse_json_value reads)."""
    common: dict[str, Any] = {"title": field.label.get(language)}
    if field.hint is not None:
        common["description"] = field.hint.get(language)
    if isinstance(field, schema.NumberField):
        described: dict[str, Any] = {"type": "integer" if field.decimal_places == 0 else "number"}
        if field.validation.min is not None:
            described["minimum"] = field.validation.min
        if field.validation.max is not None:
            described["maximum"] = field.validation.max
        return common | _nullable(field, described)
    if isinstance(field, schema.MoneyField):
        described = {"type": "integer", "minimum": field.validation.min or 0, "description": "Minor units (pence)."}
        if field.validation.max is not None:
            described["maximum"] = field.validation.max
        return common | _nullable(field, described)
    if isinstance(field, schema.DateField):
        return common | _nullable(field, {"type": "string", "format": "date"})
    if isinstance(field, schema.YesNoField):
        return common | _nullable(field, {"type": "boolean"})
    if isinstance(field, schema.RadiosField | schema.SelectField):
        values = [option.value for option in options_for(field, catalogues)]
        return common | _nullable(field, {"type": "string", "enum": values})
    if isinstance(field, schema.CheckboxesField):
        values = [option.value for option in options_for(field, catalogues)]
        described = {"type": "array", "items": {"type": "string", "enum": values}, "uniqueItems": True}
        if field.validation.min_selected is not None:
            described["minItems"] = field.validation.min_selected
        if field.validation.max_selected is not None:
            described["maxItems"] = field.validation.max_selected
        return common | _nullable(field, described)
    if isinstance(field, schema.AddressField):
        parts = INTERNATIONAL_ADDRESS_PARTS if field.international else ADDRESS_PARTS
        required = ["line1", "town", "country"] if field.international else ["line1", "town", "postcode"]
        described = {
            "type": "object",
            "properties": {part: {"type": ["string", "null"], "maxLength": 200} for part in parts},
            "required": required,
            "additionalProperties": False,
        }
        return common | _nullable(field, described)
    if isinstance(field, schema.GroupField):
        return common | _group_schema(field, language=language, catalogues=catalogues)
    if isinstance(field, schema.FileField):
        return common | {
            "readOnly": True,
            "description": "A file: answered by the page's multipart upload, not in JSON.",
        }
    return common | _nullable(field, _text_schema(field))


ITEM_ID_MEMBER = "_id"
"""The member naming a repeating group's item in the JSON reads (never a field id: those start with a letter)."""


def _group_schema(
    group: schema.GroupField, *, language: str, catalogues: Mapping[str, schema.Catalogue]
) -> dict[str, Any]:
    properties: dict[str, Any] = {ITEM_ID_MEMBER: {"type": "string", "readOnly": True, "description": "The item's id."}}
    for child in group.fields:
        properties[child.id] = field_json_schema(child, language=language, catalogues=catalogues)
    return {
        "type": "array",
        "readOnly": True,
        "description": (
            f"A repeating group of {group.item_label.get(language)} items, answered item by item: "
            "POST /applications/{id}/pages/{page}/groups/{group}/items (PUT or DELETE .../items/{item_id})."
        ),
        "minItems": group.validation.min_items,
        "maxItems": group.validation.max_items,
        "items": {"type": "object", "properties": properties, "additionalProperties": False},
    }


def answer_json(field: schema.AnyField, value: Any) -> Any:
    """Return an answer's JSON form as the reads give it: a repeating group's items carry their ``_id``."""
    if isinstance(field, schema.GroupField) and isinstance(value, list):
        return [
            {ITEM_ID_MEMBER: str(item.get(ITEM_ID, "")), **value_to_json(field, [item])[0]}
            for item in value
            if isinstance(item, Mapping)
        ]
    return value_to_json(field, value)


def answers_json_schema(compiled: CompiledDefinition, *, language: str) -> dict[str, Any]:
    """Return the JSON Schema (2020-12) of an answers object for the service version ``compiled``.

    One property per field, keyed by field id, with ``x-govserve-page`` naming
    its page; whether a field must be answered depends on the other answers
    (conditions), so the object lists no ``required``: validation answers that.
    """
    properties: dict[str, Any] = {}
    for page in compiled.definition.pages:
        for page_field in page.fields:
            described = field_json_schema(page_field, language=language, catalogues=compiled.catalogues)
            properties[page_field.id] = described | {"x-govserve-page": page.id}
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "title": compiled.definition.title.get(language),
        "description": f"Answers to version {compiled.version} of {compiled.service_id}",
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }


def _form_inputs(field: schema.AnyField, value: Any) -> dict[str, Any]:  # noqa: PLR0911 - one branch per type
    """Return the form inputs the web would post for the typed ``value`` of ``field``."""
    key = field_key(field)
    if value is None:
        return {}
    if isinstance(field, schema.DateField) and isinstance(value, dt.date):
        return {f"{key}-day": str(value.day), f"{key}-month": str(value.month), f"{key}-year": str(value.year)}
    if isinstance(field, schema.AddressField) and isinstance(value, Mapping):
        return {f"{key}-{part}": str(text or "") for part, text in value.items()}
    if isinstance(field, schema.CheckboxesField) and isinstance(value, list):
        return {key: [str(item) for item in value]}
    if isinstance(field, schema.YesNoField):
        return {key: "yes" if value else "no"}
    if isinstance(field, schema.MoneyField) and isinstance(value, int):
        return {key: money_input_text(value)}
    if isinstance(value, Decimal):
        return {key: format(value, "f")}
    return {key: str(value)}


def page_form_data(
    page: schema.Page, answers: Mapping[str, Any], *, compiled: CompiledDefinition, language: str
) -> tuple[dict[str, Any], list[FieldError]]:
    """Return the form data of ``page`` from its JSON ``answers``, or the JSON type errors (nothing saved then)."""
    return _fields_form_data(page.fields, answers, compiled=compiled, language=language)


def item_form_data(
    group: schema.GroupField, answers: Mapping[str, Any], *, compiled: CompiledDefinition, language: str
) -> tuple[dict[str, Any], list[FieldError]]:
    """Return the form data of one item of ``group`` from its JSON ``answers`` (child field ids), or the type errors."""
    return _fields_form_data(group.fields, answers, compiled=compiled, language=language)


def _fields_form_data(
    fields: Sequence[schema.AnyField], answers: Mapping[str, Any], *, compiled: CompiledDefinition, language: str
) -> tuple[dict[str, Any], list[FieldError]]:
    definition = compiled.definition
    data: dict[str, Any] = {}
    found: list[FieldError] = []
    for page_field in fields:
        if page_field.id not in answers:
            continue
        if isinstance(page_field, UNSUPPORTED):
            found.append(
                FieldError(
                    page_field.id,
                    "answer_unsupported",
                    (
                        f"{page_field.label.get(language)}: a file is answered by the page's upload, "
                        "a repeating group item by item (…/groups/{group}/items)"
                    ),
                    page_field.id,
                )
            )
            continue
        value, problems = parse_json_value(
            page_field,
            answers[page_field.id],
            language=language,
            phone_region=definition.phone_region,
            currency=definition.currency,
            catalogues=compiled.catalogues,
        )
        if problems:
            found.extend(problems)
            continue
        data.update(_form_inputs(page_field, value))
    return data, found

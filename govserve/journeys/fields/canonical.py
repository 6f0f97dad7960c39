"""The canonical JSON form of an answer: what is sealed and stored, and read back.

=============================  =============================================
field type                     JSON form
=============================  =============================================
text, long text, email,        string (phone in E.164, postcode normalised)
phone, postcode
radios, select                 string (the option's value)
checkboxes                     list of strings
number                         integer; a string like ``"2.50"`` when the
                               field has decimal places (exact, never float)
money                          integer, minor units
date                           ``"YYYY-MM-DD"``
yes/no                         ``true`` / ``false``
address                        object: ``line1, line2, town, county,
                               postcode, country`` (all strings)
file                           object: ``name``, ``size``, ``content_type``
                               (and ``id``, the document's, when known)
group                          list of objects keyed by child field id, each
                               value in its child's form
no answer                      ``null``
=============================  =============================================

:func:`value_from_json` reads back only what :func:`value_to_json` writes and
raises ValueError for anything else: stored answers are ours, so a mismatch
is corruption or a bug, never the applicant's error.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from govserve.catalogue.definitions import schema
from govserve.journeys.fields.parse import INTERNATIONAL_ADDRESS_PARTS

_FILE_KEYS = {"name": str, "size": int, "content_type": str, "id": str}


def value_to_json(field: schema.AnyField, value: Any) -> Any:  # noqa: PLR0911 - one branch per field type
    """Return the canonical JSON form of a typed answer (``None`` stays ``None``).

    Raise ValueError for a value that is not of the field's type.
    """
    if value is None:
        return None
    if isinstance(field, schema.DateField):
        _expect(field, value, type(value) is dt.date)
        return value.isoformat()
    if isinstance(field, schema.NumberField):
        if field.decimal_places:
            _expect(field, value, isinstance(value, Decimal) and value.is_finite())
            return format(value, "f")
        _expect(field, value, type(value) is int)
        return value
    if isinstance(field, schema.MoneyField):
        _expect(field, value, type(value) is int)
        return value
    if isinstance(field, schema.YesNoField):
        _expect(field, value, type(value) is bool)
        return value
    if isinstance(field, schema.CheckboxesField):
        _expect(field, value, isinstance(value, list) and all(type(item) is str for item in value))
        return list(value)
    if isinstance(field, schema.AddressField):
        _expect(field, value, _is_address(value))
        return {part: value[part] for part in INTERNATIONAL_ADDRESS_PARTS}
    if isinstance(field, schema.FileField):
        _expect(field, value, _is_file(value))
        return dict(value)
    if isinstance(field, schema.GroupField):
        _expect(field, value, isinstance(value, list) and all(isinstance(item, dict) for item in value))
        return [{child.id: value_to_json(child, item.get(child.id)) for child in field.fields} for item in value]
    _expect(field, value, type(value) is str)
    return value


def value_from_json(field: schema.AnyField, json_value: Any) -> Any:  # noqa: PLR0911 - one branch per field type
    """Return the typed answer a canonical JSON form holds; raise ValueError for anything else."""
    if json_value is None:
        return None
    if isinstance(field, schema.DateField):
        _expect(field, json_value, type(json_value) is str)
        return dt.date.fromisoformat(json_value)
    if isinstance(field, schema.NumberField) and field.decimal_places:
        _expect(field, json_value, type(json_value) is str)
        try:
            number = Decimal(json_value)
        except InvalidOperation:
            raise ValueError(f"Stored answer to {field.id!r} is not a decimal number") from None
        _expect(field, json_value, number.is_finite())
        return number
    if isinstance(field, schema.NumberField | schema.MoneyField):
        _expect(field, json_value, type(json_value) is int)
        return json_value
    if isinstance(field, schema.GroupField):
        _expect(field, json_value, isinstance(json_value, list) and all(isinstance(item, dict) for item in json_value))
        return [{child.id: value_from_json(child, item.get(child.id)) for child in field.fields} for item in json_value]
    # Every other type is stored as its typed value (strings, bool, lists and maps of strings).
    value_to_json(field, json_value)
    if isinstance(field, schema.AddressField | schema.FileField):
        return dict(json_value)
    if isinstance(field, schema.CheckboxesField):
        return list(json_value)
    return json_value


def _is_address(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and set(value) == set(INTERNATIONAL_ADDRESS_PARTS)
        and all(type(part) is str for part in value.values())
    )


def _is_file(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and {"name", "size", "content_type"} <= set(value) <= set(_FILE_KEYS)
        and all(type(value[key]) is kind for key, kind in _FILE_KEYS.items() if key in value)
    )


def _expect(field: schema.AnyField, value: Any, ok: bool) -> None:
    if not ok:
        raise ValueError(f"Not a {field.type} answer for {field.id!r}: {type(value).__name__}")

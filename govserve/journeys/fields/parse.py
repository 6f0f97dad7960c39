"""Reading answers from web forms and JSON bodies into typed values.

A field's inputs are named from ``prefix + field.id`` (the *key*): one input
named by the key for most types; ``<key>-day``, ``<key>-month``,
``<key>-year`` for a date; ``<key>-line1``, ``-line2``, ``-town``,
``-county``, ``-postcode`` (and ``-country`` for an international address)
for an address. HTML ids are the same as the names, so an error's ``anchor``
is the id of the first input at fault.

Parsing checks the *form* of an answer (is it a number, a real date, an email
address, one of the options); :func:`~govserve.journeys.fields.validate.validate_field`
then checks the definition's rules. An answer left empty parses to ``None``
without an error: whether it was required is validation's question. Parsing
never raises for anything a person or a client sends (any strings, lists,
missing keys, wrong JSON types): it returns FieldErrors. It raises TypeError
only for a programming error (a file or group field, which are answered
through their own paths) and LookupError for missing catalogues.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from govserve.catalogue.definitions import schema
from govserve.journeys.fields import messages
from govserve.journeys.fields.errors import FieldError
from govserve.journeys.fields.formats import (
    DATE_PARTS,
    MONEY_MAX_MINOR_UNITS,
    NUMBER_DIGITS_MAX,
    FormatError,
    clean_line,
    clean_lines,
    format_money,
    format_number,
    read_date,
    read_email,
    read_iso_date,
    read_money,
    read_number,
    read_phone,
    read_postcode,
)
from govserve.journeys.fields.options import options_for

FormData = Mapping[str, Any]
"""Submitted form data: ``dict(request.POST.lists())``, a QueryDict, or any mapping of names to strings or lists."""

ADDRESS_PARTS = ("line1", "line2", "town", "county", "postcode")
INTERNATIONAL_ADDRESS_PARTS = (*ADDRESS_PARTS, "country")
UK_COUNTRY = "GB"
_LARGEST_NUMBER = 10**NUMBER_DIGITS_MAX - 1


@dataclass(frozen=True, slots=True)
class _Reading:
    """What parsing needs besides the field and the input: the reader's language and the service's settings."""

    language: str
    phone_region: str
    currency: str
    catalogues: Mapping[str, schema.Catalogue] | None


def submitted_values(data: FormData, name: str) -> list[str]:
    """Return the strings submitted under ``name`` (a QueryDict's list, a list, one string or none)."""
    getlist = getattr(data, "getlist", None)
    try:
        submitted = getlist(name) if callable(getlist) else data.get(name)
    except (TypeError, AttributeError):
        return []
    if isinstance(submitted, str):
        return [submitted]
    if isinstance(submitted, list | tuple):
        return [item for item in submitted if isinstance(item, str)]
    return []


def submitted_value(data: FormData, name: str) -> str:
    """Return the first string submitted under ``name``, or ``""``."""
    values = submitted_values(data, name)
    return values[0] if values else ""


def field_key(field: schema.AnyField, prefix: str = "") -> str:
    """Return the name (and HTML id) of the field's input, or the stem of its inputs' names."""
    return f"{prefix}{field.id}"


def parse_field(
    field: schema.AnyField,
    data: FormData,
    *,
    prefix: str = "",
    language: str,
    phone_region: str,
    currency: str = "GBP",
    catalogues: Mapping[str, schema.Catalogue] | None = None,
) -> tuple[Any, list[FieldError]]:
    """Return the typed answer the form ``data`` gives ``field``, and the problems with its form.

    Values: ``str`` (text, long text, email, E.164 phone, normalised
    postcode, option value), ``int`` (whole number, money in minor units),
    ``Decimal`` (number with decimal places), ``datetime.date``, ``bool``
    (yes/no), ``list[str]`` (checkboxes, in the options' order), an address
    ``dict`` with the keys ``line1, line2, town, county, postcode, country``
    (``""`` for parts not given; ``country`` is ``"GB"`` for a UK address),
    or ``None`` when nothing was given. With errors the value is ``None``
    (checkboxes with an exclusive clash keep their list); the form data keeps
    what the person typed, for display. Raise TypeError for a file or group
    field (uploads go through govserve.documents; a group is answered item by
    item with :func:`parse_group_item`).
    """
    with messages.in_language(language):
        return _parse_form(
            field, data, field_key(field, prefix), _Reading(language, phone_region, currency, catalogues)
        )


def parse_group_item(
    group: schema.GroupField,
    data: FormData,
    *,
    prefix: str = "",
    language: str,
    phone_region: str,
    currency: str = "GBP",
    catalogues: Mapping[str, schema.Catalogue] | None = None,
) -> tuple[dict[str, Any], list[FieldError]]:
    """Return one item of a repeating group from a form: each child field's answer, and their problems.

    The children's inputs are named ``prefix + child.id`` (child ids are
    unique in a service). Validate the item with
    :func:`~govserve.journeys.fields.validate.validate_group_item`.
    """
    item: dict[str, Any] = {}
    errors: list[FieldError] = []
    reading = _Reading(language, phone_region, currency, catalogues)
    with messages.in_language(language):
        for child in group.fields:
            if isinstance(child, schema.FileField | schema.GroupField):
                item[child.id] = None  # answered through their own paths
                continue
            value, child_errors = _parse_form(child, data, field_key(child, prefix), reading)
            item[child.id] = value
            errors.extend(child_errors)
    return item, errors


def _parse_form(  # noqa: PLR0911 - one branch per field type
    field: schema.AnyField, data: FormData, key: str, reading: _Reading
) -> tuple[Any, list[FieldError]]:
    if isinstance(field, schema.FileField | schema.GroupField):
        raise TypeError(
            f"A {field.type} field is not parsed from a form: "
            + ("use govserve.documents" if field.type == "file" else "use parse_group_item")
        )
    if isinstance(field, schema.DateField):
        parts = [clean_line(submitted_value(data, f"{key}-{part}")) for part in DATE_PARTS]
        return _date(field, key, parts, reading.language)
    if isinstance(field, schema.AddressField):
        names = INTERNATIONAL_ADDRESS_PARTS if field.international else ADDRESS_PARTS
        typed = {part: clean_line(submitted_value(data, f"{key}-{part}")) for part in names}
        return _address(field, key, typed, reading.language)
    if isinstance(field, schema.CheckboxesField):
        chosen = {clean_line(value) for value in submitted_values(data, key)}
        return _checkboxes(field, key, chosen, reading)
    typed_text = submitted_value(data, key)
    if isinstance(field, schema.LongTextField):
        return (clean_lines(typed_text) or None), []
    text = clean_line(typed_text)
    if isinstance(field, schema.YesNoField):
        return {"yes": True, "no": False}.get(text), []
    if isinstance(field, schema.RadiosField | schema.SelectField):
        return _choice(field, text, reading.catalogues)
    return _text(field, key, text, reading)


def _text(field: schema.AnyField, key: str, text: str, reading: _Reading) -> tuple[Any, list[FieldError]]:
    if not text:
        return None, []
    reader: Callable[[str], Any]
    if isinstance(field, schema.EmailField):
        reader = read_email
    elif isinstance(field, schema.PhoneField):
        reader = lambda typed: read_phone(typed, region=reading.phone_region)  # noqa: E731
    elif isinstance(field, schema.PostcodeField):
        reader = read_postcode
    elif isinstance(field, schema.NumberField):
        reader = lambda typed: read_number(typed, decimal_places=field.decimal_places)  # noqa: E731
    elif isinstance(field, schema.MoneyField):
        reader = lambda typed: read_money(typed, currency=reading.currency)  # noqa: E731
    else:
        return text, []
    try:
        return reader(text), []
    except FormatError as refused:
        return None, [_format_error(field, key, refused.reason, reading)]


def _format_error(field: schema.AnyField, key: str, reason: str, reading: _Reading) -> FieldError:
    language, currency = reading.language, reading.currency
    if reason == "too_large":
        limit = (
            format_money(MONEY_MAX_MINOR_UNITS, currency)
            if isinstance(field, schema.MoneyField)
            else format_number(_LARGEST_NUMBER)
        )
        return FieldError(field.id, "too_large", messages.too_large(field, limit, language), key)
    places = field.decimal_places if isinstance(field, schema.NumberField) else 0
    code = "decimal_places" if reason == "decimal_places" else "format"
    return FieldError(field.id, code, messages.format_message(field, reason, language, places=places), key)


def _date(field: schema.DateField, key: str, typed: list[str], language: str) -> tuple[Any, list[FieldError]]:
    try:
        return read_date(*typed), []
    except FormatError as refused:
        if refused.reason == "required":
            return None, []
        parts = refused.parts or DATE_PARTS
        message = messages.date_message(field, refused.reason, parts, language)
        return None, [FieldError(field.id, refused.reason, message, f"{key}-{parts[0]}", parts)]


def _choice(
    field: schema.RadiosField | schema.SelectField, value: str, catalogues: Mapping[str, schema.Catalogue] | None
) -> tuple[Any, list[FieldError]]:
    # An unknown value (a tampered form, or a select's empty placeholder) is no answer.
    known = {option.value for option in options_for(field, catalogues)}
    return (value if value in known else None), []


def _checkboxes(
    field: schema.CheckboxesField, key: str, chosen: set[str], reading: _Reading
) -> tuple[Any, list[FieldError]]:
    options = options_for(field, reading.catalogues)
    values = [option.value for option in options if option.value in chosen]  # unknown values are ignored
    if not values:
        return None, []
    exclusive = next((option for option in options if option.exclusive and option.value in values), None)
    if exclusive is not None and len(values) > 1:
        message = messages.exclusive(field, exclusive.label.get(reading.language), reading.language)
        return values, [FieldError(field.id, "exclusive", message, key)]
    return values, []


def _address(
    field: schema.AddressField, key: str, typed: dict[str, str], language: str
) -> tuple[Any, list[FieldError]]:
    if not any(typed.values()):
        return None, []
    errors: list[FieldError] = []

    def refuse(part: str, reason: str) -> None:
        message = messages.address_part(field, part, reason, language)
        errors.append(FieldError(field.id, f"{part}_{reason}", message, f"{key}-{part}", (part,)))

    required = ("line1", "town", "country") if field.international else ("line1", "town", "postcode")
    for part, text in typed.items():
        if len(text) > messages.ADDRESS_LINE_MAX:
            refuse(part, "too_long")
        elif part in required and not text:
            refuse(part, "required")
        elif part == "postcode" and text and not field.international:
            try:
                typed["postcode"] = read_postcode(text)
            except FormatError:
                refuse("postcode", "format")
    if errors:
        return None, errors
    address = {part: typed.get(part, "") for part in INTERNATIONAL_ADDRESS_PARTS}
    if not field.international:
        address["country"] = UK_COUNTRY
    return address, []


# --- JSON answers -------------------------------------------------------------------


def parse_json_value(
    field: schema.AnyField,
    value: Any,
    *,
    language: str,
    phone_region: str,
    currency: str = "GBP",
    catalogues: Mapping[str, schema.Catalogue] | None = None,
    anchor: str | None = None,
) -> tuple[Any, list[FieldError]]:
    """Return the typed answer a JSON API body gives ``field``, and the problems with it.

    JSON forms: text types as strings; numbers as JSON numbers or numeric
    strings; money as an integer number of minor units; dates as
    ``"YYYY-MM-DD"``; yes/no as ``true``/``false``; a choice as the option's
    value, checkboxes as a list of them; an address as an object with the
    parts (``line1``, ``line2``, ``town``, ``county``, ``postcode``, and
    ``country`` for an international address); a group as a list of objects
    keyed by child field id. ``null`` (or a missing answer) is no answer.
    Errors' anchors are answer paths (``children[1].date_of_birth``), from
    ``anchor`` (default the field id). Raise TypeError for a file field.
    """
    with messages.in_language(language):
        return _parse_json(field, value, anchor or field.id, _Reading(language, phone_region, currency, catalogues))


def _parse_json(  # noqa: PLR0911, PLR0912 - one branch per field type
    field: schema.AnyField, value: Any, anchor: str, reading: _Reading
) -> tuple[Any, list[FieldError]]:
    language = reading.language
    if isinstance(field, schema.FileField):
        raise TypeError("A file field is not answered in JSON: upload through govserve.documents")
    if value is None:
        return None, []

    def wrong_type() -> tuple[Any, list[FieldError]]:
        return None, [FieldError(field.id, "type", messages.type_message(field, language), anchor)]

    if isinstance(field, schema.GroupField):
        return _json_group(field, value, anchor, reading)
    if isinstance(field, schema.AddressField):
        if not isinstance(value, dict) or not all(part is None or isinstance(part, str) for part in value.values()):
            return wrong_type()
        names = INTERNATIONAL_ADDRESS_PARTS if field.international else ADDRESS_PARTS
        typed = {part: clean_line(value.get(part) or "") for part in names}
        return _address(field, anchor, typed, language)
    if isinstance(field, schema.CheckboxesField):
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            return wrong_type()
        known = {option.value for option in options_for(field, reading.catalogues)}
        if any(item not in known for item in value):
            return None, [FieldError(field.id, "invalid_option", messages.required(field, language), anchor)]
        return _checkboxes(field, anchor, set(value), reading)
    if isinstance(field, schema.YesNoField):
        return (value, []) if isinstance(value, bool) else wrong_type()
    if isinstance(field, schema.MoneyField):
        if type(value) is not int:
            return wrong_type()
        if value < 0:
            return None, [_format_error(field, anchor, "format", reading)]
        if value > MONEY_MAX_MINOR_UNITS:
            return None, [_format_error(field, anchor, "too_large", reading)]
        return value, []
    if isinstance(field, schema.NumberField):
        return _json_number(field, value, anchor, reading)
    if not isinstance(value, str):
        return wrong_type()
    if isinstance(field, schema.DateField):
        try:
            return read_iso_date(value.strip()), []
        except FormatError:
            message = messages.format_message(field, "real_date", language)
            return None, [FieldError(field.id, "real_date", message, anchor)]
    if isinstance(field, schema.RadiosField | schema.SelectField):
        text = clean_line(value)
        if not text:
            return None, []
        chosen, _ = _choice(field, text, reading.catalogues)
        if chosen is None:
            return None, [FieldError(field.id, "invalid_option", messages.required(field, language), anchor)]
        return chosen, []
    if isinstance(field, schema.LongTextField):
        return (clean_lines(value) or None), []
    return _text(field, anchor, clean_line(value), reading)


def _json_number(field: schema.NumberField, value: Any, anchor: str, reading: _Reading) -> tuple[Any, list[FieldError]]:
    if type(value) is int:
        if abs(value) > _LARGEST_NUMBER:
            return None, [_format_error(field, anchor, "too_large", reading)]
        return (value if field.decimal_places == 0 else Decimal(value).quantize(_quantum(field))), []
    text = value if isinstance(value, str) else None
    if type(value) is float and math.isfinite(value):
        text = format(Decimal(repr(value)), "f")
    if text is None:
        return None, [FieldError(field.id, "type", messages.type_message(field, reading.language), anchor)]
    return _text(field, anchor, clean_line(text), reading)


def _quantum(field: schema.NumberField) -> Decimal:
    return Decimal(1).scaleb(-field.decimal_places)


def _json_group(field: schema.GroupField, value: Any, anchor: str, reading: _Reading) -> tuple[Any, list[FieldError]]:
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        return None, [FieldError(field.id, "type", messages.type_message(field, reading.language), anchor)]
    items: list[dict[str, Any]] = []
    errors: list[FieldError] = []
    for index, submitted in enumerate(value):
        item: dict[str, Any] = {}
        for child in field.fields:
            if isinstance(child, schema.FileField):
                item[child.id] = None
                continue
            child_value, child_errors = _parse_json(
                child, submitted.get(child.id), f"{anchor}[{index}].{child.id}", reading
            )
            item[child.id] = child_value
            errors.extend(child_errors)
        items.append(item)
    return (None if errors else items), errors


def today_bound(bound: str, today: dt.date) -> dt.date:
    """Return the date a ``before``/``after`` bound means on ``today``."""
    relative = {"today": 0, "tomorrow": 1, "yesterday": -1}
    if bound in relative:
        return today + dt.timedelta(days=relative[bound])
    return dt.date.fromisoformat(bound)

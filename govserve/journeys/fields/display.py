"""Answers as people read them: "Check your answers", the applicant's copy, the staff file view."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext

from govserve.catalogue.definitions import schema
from govserve.journeys.fields import messages
from govserve.journeys.fields.formats import format_date, format_money, format_number, format_phone
from govserve.journeys.fields.options import options_for
from govserve.journeys.fields.parse import ADDRESS_PARTS, UK_COUNTRY


def display_value(
    field: schema.AnyField,
    value: Any,
    *,
    language: str,
    catalogues: Mapping[str, schema.Catalogue] | None = None,
    currency: str = "GBP",
    phone_region: str = "GB",
) -> str:
    """Return ``value`` as people read it, in ``language``; ``""`` for no answer.

    Dates ``27 March 1990`` (``27 Mawrth 1990``), money ``£1,234.50`` (``£75``
    for whole pounds, as the GOV.UK style guide asks), numbers ``1,000``,
    yes/no ``Yes``/``No`` (``Ie``/``Na``), choices by their option's label,
    phone numbers in national form for the service's region. Values of
    several lines (long text, addresses, checkboxes, group items) are joined
    with ``\\n``: render them with ``white-space: pre-line`` or split them.
    A group shows one line per item, the item's first answer.
    """
    if value is None:
        return ""
    with messages.in_language(language):
        return _display(field, value, language, catalogues, currency, phone_region)


def _display(  # noqa: PLR0911, PLR0917 - one branch per field type
    field: schema.AnyField,
    value: Any,
    language: str,
    catalogues: Mapping[str, schema.Catalogue] | None,
    currency: str,
    phone_region: str,
) -> str:
    if isinstance(field, schema.DateField) and isinstance(value, dt.date):
        return format_date(value, language)
    if isinstance(field, schema.MoneyField) and type(value) is int:
        return format_money(value, currency)
    if isinstance(field, schema.NumberField) and isinstance(value, int | float | Decimal):
        return format_number(value)
    if isinstance(field, schema.YesNoField):
        return gettext("Yes") if value else gettext("No")
    if isinstance(field, schema.RadiosField | schema.SelectField | schema.CheckboxesField):
        labels = {option.value: option.label.get(language) for option in options_for(field, catalogues)}
        chosen = value if isinstance(value, list) else [value]
        return "\n".join(labels.get(item, str(item)) for item in chosen)
    if isinstance(field, schema.PhoneField) and isinstance(value, str):
        return format_phone(value, region=phone_region)
    if isinstance(field, schema.AddressField) and isinstance(value, Mapping):
        lines = [str(value.get(part) or "") for part in ADDRESS_PARTS]
        country = str(value.get("country") or "")
        if field.international or country != UK_COUNTRY:
            lines.append(country)
        return "\n".join(line for line in lines if line)
    if isinstance(field, schema.FileField) and isinstance(value, Mapping):
        return str(value.get("name") or "")
    if isinstance(field, schema.GroupField) and isinstance(value, list):
        first = field.fields[0]
        return "\n".join(
            _display(first, item.get(first.id), language, catalogues, currency, phone_region)
            if isinstance(item, Mapping) and item.get(first.id) is not None
            else ""
            for item in value
        )
    return str(value)

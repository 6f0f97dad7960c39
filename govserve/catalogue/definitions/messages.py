"""Error messages for answers that fail validation: the author's, or a GOV.UK-style default.

Every rule a field's ``validation`` can set has a message an author may write
in ``validation.messages`` (English and Welsh). When they do not, the default
follows the GOV.UK Design System's error message patterns, built from the
field's ``short_label`` ("your date of birth") or, without one, from its label
("What is your date of birth?" -> "your date of birth"):

=================  =================================================================
rule               default
=================  =================================================================
required           Enter your date of birth / Select your nationality / Upload ...
format             Enter an email address in the correct format, like name@example.com
min_length         Your full name must be 2 characters or more
max_length         Your full name must be 100 characters or less
pattern            Enter your full name in the correct format
min / max          Number of days must be 1 or more / 7 or less (money: £25.00 or more)
before / after     Your date of birth must be in the past / before 1 January 2025
min_age / max_age  Your date of birth must be at least 18 years ago
min_selected       Select at least 2 options
max_selected       Select no more than 3 options
max_size_mb        The selected file must be smaller than 10MB
types              The selected file must be a PDF, JPG or PNG
min_items          Add at least 1 child
max_items          You can add up to 10
=================  =================================================================

Defaults are English. A Welsh service should write its messages in Welsh too:
a Welsh reader gets the author's ``cy`` text where there is one, else English.
"""

from __future__ import annotations

import datetime as dt
import re

from govserve.catalogue.definitions import schema

_QUESTION_OPENINGS = re.compile(r"^(what is|what's|what are|when is|when was|where is|enter)\s+", re.IGNORECASE)
_CURRENCY_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}


def answer_name(field: schema.AnyField, language: str = "en") -> str:
    """Return how messages name the answer: ``short_label``, or the label made into a noun phrase."""
    if field.short_label is not None:
        return field.short_label.get(language)
    label = field.label.get(language).strip().rstrip("?").strip()
    label = _QUESTION_OPENINGS.sub("", label)
    first_word = label.split(" ", 1)[0]
    if len(first_word) > 1 and first_word.isupper():
        return label  # an acronym: "UK passport number"
    return label[:1].lower() + label[1:]


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def format_money(minor_units: int, currency: str = "GBP") -> str:
    """Return an amount of minor units for people: ``2550`` -> ``£25.50`` (``EUR 25.50`` without a symbol)."""
    whole, minor = divmod(abs(minor_units), 100)
    sign = "-" if minor_units < 0 else ""
    symbol = _CURRENCY_SYMBOLS.get(currency)
    amount = f"{whole:,}.{minor:02d}"
    return f"{sign}{symbol}{amount}" if symbol else f"{sign}{currency} {amount}"


def _date(bound: str) -> str:
    day = dt.date.fromisoformat(bound)
    return f"{day.day} {day:%B %Y}"


def _date_bound_message(name: str, rule: str, bound: str) -> str:
    relative = {
        ("before", "today"): "must be in the past",
        ("before", "tomorrow"): "must be today or in the past",
        ("before", "yesterday"): "must be before yesterday",
        ("after", "today"): "must be in the future",
        ("after", "yesterday"): "must be today or in the future",
        ("after", "tomorrow"): "must be after tomorrow",
    }.get((rule, bound))
    return f"{_capitalised(name)} {relative or f'must be {rule} {_date(bound)}'}"


def _required_message(field: schema.AnyField, name: str) -> str:
    if isinstance(field, schema.YesNoField):
        return f"Select yes or no for {name}"
    if isinstance(field, schema.RadiosField | schema.SelectField | schema.CheckboxesField):
        return f"Select {name}"
    if isinstance(field, schema.FileField):
        return f"Upload {name}"
    return f"Enter {name}"


_FORMAT_MESSAGES = {
    "email": "Enter an email address in the correct format, like name@example.com",
    "phone": "Enter a telephone number, like 01632 960 001, 07700 900 982 or +44 808 157 0192",
    "postcode": "Enter a full UK postcode, like AA3 1AB",
}


def default_message(field: schema.AnyField, rule: str, *, currency: str = "GBP") -> str:  # noqa: PLR0911, PLR0912 - one sentence per rule
    """Return the default English message for ``rule`` failing on ``field``.

    Raise ValueError for a rule that ``field``'s type does not have.
    """
    name = answer_name(field)
    validation = field.validation
    value = validation.__dict__.get(rule)
    if rule == "required":
        return _required_message(field, name)
    if rule == "format":
        if field.type in _FORMAT_MESSAGES:
            return _FORMAT_MESSAGES[field.type]
        if isinstance(field, schema.NumberField):
            kind = "a number" if field.decimal_places else "a whole number"
            return f"{_capitalised(name)} must be {kind}"
        if isinstance(field, schema.MoneyField):
            return f"{_capitalised(name)} must be an amount of money, like 600 or 600.50"
        if isinstance(field, schema.DateField):
            return f"{_capitalised(name)} must be a real date"
    if rule in {"min_length", "max_length"} and value is not None:
        return f"{_capitalised(name)} must be {value} characters or {'more' if rule == 'min_length' else 'less'}"
    if rule == "pattern" and value is not None:
        return f"Enter {name} in the correct format"
    if rule in {"min", "max"} and value is not None:
        shown = format_money(value, currency) if isinstance(field, schema.MoneyField) else f"{value}"
        return f"{_capitalised(name)} must be {shown} or {'more' if rule == 'min' else 'less'}"
    if rule in {"before", "after"} and value is not None:
        return _date_bound_message(name, rule, value)
    if rule == "min_age" and value is not None:
        return f"{_capitalised(name)} must be at least {value} years ago"
    if rule == "max_age" and value is not None:
        return f"{_capitalised(name)} must be no more than {value} years ago"
    if rule == "min_selected" and value is not None:
        return f"Select at least {value} option{'s' if value != 1 else ''}"
    if rule == "max_selected" and value is not None:
        return f"Select no more than {value} option{'s' if value != 1 else ''}"
    if isinstance(field, schema.FileField) and rule == "max_size_mb":
        return f"The selected file must be smaller than {field.validation.max_size_mb}MB"
    if isinstance(field, schema.FileField) and rule == "types":
        names = [file_type.upper() for file_type in field.validation.types]
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
        return f"The selected file must be a {listed}"
    if isinstance(field, schema.GroupField) and rule == "min_items":
        count = field.validation.min_items
        return f"Add at least 1 {field.item_label.get('en')}" if count == 1 else f"Add at least {count}"
    if isinstance(field, schema.GroupField) and rule == "max_items":
        return f"You can add up to {field.validation.max_items}"
    if isinstance(field, schema.AddressField) and rule in {"line1", "town", "postcode"}:
        return {
            "line1": "Enter address line 1, typically the building and street",
            "town": "Enter town or city",
            "postcode": _FORMAT_MESSAGES["postcode"],
        }[rule]
    raise ValueError(f"A {field.type} field has no {rule!r} rule here")


def error_message(field: schema.AnyField, rule: str, *, language: str = "en", currency: str = "GBP") -> str:
    """Return the message for ``rule`` failing on ``field``: the author's (in ``language``), or the default."""
    messages = getattr(field.validation, "messages", None)
    authored = messages.__dict__.get(rule) if messages is not None else None
    if isinstance(authored, schema.LocalisedText):
        return authored.get(language)
    return default_message(field, rule, currency=currency)

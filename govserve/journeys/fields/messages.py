"""Error messages for answers: the author's, or a default in the GOV.UK Design System's words.

Defaults name the answer from the field's ``short_label`` or, without one,
from its label made into a noun phrase ("What is your full name?" -> "your
full name"). Messages that start with the answer ("Full name must be 100
characters or less") drop a leading "your"/"the"/"a"/"an" and capitalise,
as the Design System does ("Enter your date of birth" / "Date of birth must
include a month").

Questions become clauses where the message needs one: "What will you sell?"
gives "Select what you will sell", "Have you changed your name?" gives
"Select if you have changed your name". For yes/no fields ``short_label`` is
that clause ("you have changed your name"); when the label cannot be turned
into one the message is "Select yes or no".

The defaults are English msgids translated through Django's gettext (the
Welsh catalogue is govserve/locale/cy); callers activate the language (the
public functions of this package do, with :func:`in_language`). An
author's message in ``validation.messages`` always wins, in the reader's
language where the author wrote one, else in English.
"""

from __future__ import annotations

import datetime as dt
import re
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from django.utils import translation
from django.utils.translation import gettext, ngettext

from govserve.catalogue.definitions import schema
from govserve.journeys.fields.formats import format_date, format_money, format_number

# --- Naming the answer ----------------------------------------------------------

_OPENINGS = {
    "en": re.compile(
        r"^(?:what is|what's|what are|what was|when is|when was|where is|who is|enter|give|tell us|provide)\s+",
        re.IGNORECASE,
    ),
    "cy": re.compile(r"^(?:beth yw|beth ydy|beth oedd|beth ydi|pwy yw|ble mae|pryd mae|rhowch)\s+", re.IGNORECASE),
}
_DETERMINERS = re.compile(r"^(?:your|the|a|an)\s+", re.IGNORECASE)
# "What will you sell?" -> "what you will sell"; "How many days will you trade?" -> "how many days you will trade".
_WH_QUESTION = re.compile(
    r"^(?P<wh>what|which|how many|how much|how often|how long|when|where|who|why)(?P<noun>(?:\s+\S+)*?)\s+"
    r"(?P<aux>will|would|can|could|should|do|are|have|were)\s+(?P<subject>you|we|they)\s+(?P<rest>.+)$",
    re.IGNORECASE,
)
# "Have you changed your name?" -> "you have changed your name"; "Is the address correct?" -> "the address is correct".
_YES_NO_QUESTION = re.compile(
    r"^(?P<aux>have|has|do|are|is|was|were|will|would|can|could|did|should)\s+"
    r"(?P<subject>you|we|they|it|(?:your|the|this|that|their)\s+\S+)\s+(?P<rest>.+)$",
    re.IGNORECASE,
)
_THIRD_PERSON_ONLY = frozenset({"has", "is", "was"})
_PLURAL_PRONOUNS = frozenset({"you", "we", "they"})


def _question(field: schema.AnyField, language: str) -> str:
    return " ".join(field.label.get(language).split()).rstrip("?").strip()


def _lower_first(text: str) -> str:
    first_word = text.split(" ", 1)[0]
    if len(first_word) > 1 and first_word.isupper():
        return text  # an acronym: "UK passport number"
    return text[:1].lower() + text[1:]


def answer_name(field: schema.AnyField, language: str) -> str:
    """Return how messages name the answer: ``short_label``, or the label made into a clause or noun phrase."""
    if field.short_label is not None:
        return field.short_label.get(language)
    label = _question(field, language)
    if language == "en":
        match = _WH_QUESTION.match(label)
        if match:
            aux = "" if match["aux"].lower() == "do" else f" {match['aux'].lower()}"
            return f"{match['wh'].lower()}{match['noun']} {match['subject'].lower()}{aux} {match['rest']}"
    opening = _OPENINGS.get(language, _OPENINGS["en"])
    return _lower_first(opening.sub("", label))


def answer_subject(field: schema.AnyField, language: str) -> str:
    """Return the answer as the subject that opens a sentence: "Date of birth" (from "your date of birth").

    Only English sentences open with it; in Welsh the translations put it
    after "Rhaid i", so it stays as the name is written.
    """
    name = answer_name(field, language)
    if language != "en":
        return name
    name = _DETERMINERS.sub("", name)
    return name[:1].upper() + name[1:]


def yes_no_clause(field: schema.AnyField, language: str) -> str | None:
    """Return the yes/no question as a clause ("you have changed your name"), or None if it cannot be made."""
    if field.short_label is not None:
        return field.short_label.get(language)
    if language != "en":
        return None
    match = _YES_NO_QUESTION.match(_question(field, language))
    if match is None:
        return None
    aux, subject = match["aux"].lower(), match["subject"]
    if aux == "do" and subject.lower() not in _PLURAL_PRONOUNS:
        return None  # "Does your business ..." would need the verb changed
    if aux in _THIRD_PERSON_ONLY and subject.lower() in _PLURAL_PRONOUNS:
        return None
    verb = "" if aux == "do" else f" {aux}"
    subject = subject.lower() if subject.lower() in _PLURAL_PRONOUNS | {"it"} else _lower_first(subject)
    return f"{subject}{verb} {match['rest']}"


# --- Messages ---------------------------------------------------------------------


def authored(field: schema.AnyField, key: str, language: str) -> str | None:
    """Return the author's message for ``key`` in ``language`` (English when they wrote no Welsh), or None."""
    messages = getattr(field.validation, "messages", None)
    text = getattr(messages, key, None) if messages is not None else None
    return text.get(language) if isinstance(text, schema.LocalisedText) else None


def required(field: schema.AnyField, language: str) -> str:
    """Return the message for a required answer not given."""
    own = authored(field, "required", language)
    if own is not None:
        return own
    name = answer_name(field, language)
    if isinstance(field, schema.YesNoField):
        clause = yes_no_clause(field, language)
        if clause is None:
            return gettext("Select yes or no")
        return gettext("Select if %(clause)s") % {"clause": clause}
    if isinstance(field, schema.RadiosField | schema.SelectField | schema.CheckboxesField | schema.FileField):
        return gettext("Select %(name)s") % {"name": name}
    return gettext("Enter %(name)s") % {"name": name}


def format_message(field: schema.AnyField, reason: str, language: str, *, places: int = 0) -> str:  # noqa: PLR0911
    """Return the message for an answer that is not in the right form (``reason`` from formats)."""
    own = authored(field, "format", language)
    if own is not None:
        return own
    subject = answer_subject(field, language)
    if isinstance(field, schema.EmailField):
        return gettext("Enter an email address in the correct format, like name@example.com")
    if isinstance(field, schema.PhoneField):
        return gettext("Enter a phone number, like 01632 960 001, 07700 900 982 or +44 808 157 0192")
    if isinstance(field, schema.PostcodeField):
        return gettext("Enter a real postcode")
    if isinstance(field, schema.MoneyField):
        return gettext("%(subject)s must be an amount of money, like 600 or 600.50") % {"subject": subject}
    if isinstance(field, schema.NumberField):
        if reason == "decimal_places" and places:
            return ngettext(
                "%(subject)s must have no more than %(places)s decimal place",
                "%(subject)s must have no more than %(places)s decimal places",
                places,
            ) % {"subject": subject, "places": places}
        if places:
            return gettext("%(subject)s must be a number") % {"subject": subject}
        return gettext("%(subject)s must be a whole number") % {"subject": subject}
    return gettext("%(subject)s must be a real date") % {"subject": subject}


def date_message(field: schema.DateField, reason: str, parts: tuple[str, ...], language: str) -> str:
    """Return the message for a date typed incompletely or not real."""
    if reason == "year_digits":
        return authored(field, "format", language) or gettext("Year must include 4 numbers")
    if reason == "incomplete":
        subject = answer_subject(field, language)
        missing = {
            ("day",): gettext("%(subject)s must include a day"),
            ("month",): gettext("%(subject)s must include a month"),
            ("year",): gettext("%(subject)s must include a year"),
            ("day", "month"): gettext("%(subject)s must include a day and month"),
            ("day", "year"): gettext("%(subject)s must include a day and year"),
            ("month", "year"): gettext("%(subject)s must include a month and year"),
        }[parts]
        return authored(field, "format", language) or missing % {"subject": subject}
    return format_message(field, reason, language)


def too_large(field: schema.AnyField, limit: str, language: str) -> str:
    """Return the message for a number or amount beyond what the platform stores."""
    own = authored(field, "max", language)
    if own is not None:
        return own
    return gettext("%(subject)s must be %(max)s or less") % {"subject": answer_subject(field, language), "max": limit}


def length(field: schema.AnyField, rule: str, limit: int, language: str) -> str:
    """Return the message for text too short (``min_length``) or too long (``max_length``)."""
    own = authored(field, rule, language)
    if own is not None:
        return own
    subject = answer_subject(field, language)
    if rule == "min_length":
        text = ngettext(
            "%(subject)s must be %(count)s character or more", "%(subject)s must be %(count)s characters or more", limit
        )
    else:
        text = ngettext(
            "%(subject)s must be %(count)s character or less", "%(subject)s must be %(count)s characters or less", limit
        )
    return text % {"subject": subject, "count": f"{limit:,}"}


def pattern(field: schema.AnyField, language: str) -> str:
    """Return the message for text that does not match the field's pattern."""
    own = authored(field, "pattern", language)
    if own is not None:
        return own
    return gettext("Enter %(name)s in the correct format") % {"name": answer_name(field, language)}


def bound(field: schema.NumberField | schema.MoneyField, rule: str, language: str, *, currency: str) -> str:
    """Return the message for a number or amount below ``min`` / above ``max`` ("between" when both are set)."""
    own = authored(field, rule, language)
    if own is not None:
        return own
    validation = field.validation

    def shown(value: Any) -> str:
        if isinstance(field, schema.MoneyField):
            return format_money(value, currency)
        return format_number(value)

    params = {"subject": answer_subject(field, language)}
    if validation.min is not None and validation.max is not None:
        return gettext("%(subject)s must be between %(min)s and %(max)s") % {
            **params,
            "min": shown(validation.min),
            "max": shown(validation.max),
        }
    if rule == "min":
        return gettext("%(subject)s must be %(min)s or more") % {**params, "min": shown(validation.min)}
    return gettext("%(subject)s must be %(max)s or less") % {**params, "max": shown(validation.max)}


def date_bound(field: schema.DateField, rule: str, bound_text: str, bound_date: dt.date, language: str) -> str:
    """Return the message for a date not strictly ``before``/``after`` its bound."""
    own = authored(field, rule, language)
    if own is not None:
        return own
    params = {"subject": answer_subject(field, language)}
    relative = {
        ("before", "today"): gettext("%(subject)s must be in the past"),
        ("before", "tomorrow"): gettext("%(subject)s must be today or in the past"),
        ("after", "today"): gettext("%(subject)s must be in the future"),
        ("after", "yesterday"): gettext("%(subject)s must be today or in the future"),
    }.get((rule, bound_text))
    if relative is not None:
        return relative % params
    when = format_date(bound_date, language)
    if rule == "before":
        return gettext("%(subject)s must be before %(date)s") % {**params, "date": when}
    return gettext("%(subject)s must be after %(date)s") % {**params, "date": when}


def age(field: schema.DateField, rule: str, limit_date: dt.date, language: str) -> str:
    """Return the message for a date of birth giving too young (``min_age``) or too old (``max_age``) an age."""
    own = authored(field, rule, language)
    if own is not None:
        return own
    params = {"subject": answer_subject(field, language), "date": format_date(limit_date, language)}
    if rule == "min_age":
        return gettext("%(subject)s must be the same as or before %(date)s") % params
    return gettext("%(subject)s must be the same as or after %(date)s") % params


def selected(field: schema.CheckboxesField, rule: str, limit: int, language: str) -> str:
    """Return the message for too few (``min_selected``) or too many (``max_selected``) options ticked."""
    own = authored(field, rule, language)
    if own is not None:
        return own
    if rule == "min_selected":
        text = ngettext("Select at least %(count)s option", "Select at least %(count)s options", limit)
    else:
        text = ngettext("Select no more than %(count)s option", "Select no more than %(count)s options", limit)
    return text % {"count": limit}


def exclusive(field: schema.CheckboxesField, option_label: str, language: str) -> str:
    """Return the message for a "none of these" option ticked together with others."""
    return gettext("Select %(name)s, or select ‘%(option)s’") % {  # noqa: RUF001 - GOV.UK quotation marks
        "name": answer_name(field, language),
        "option": option_label,
    }


def address_part(field: schema.AddressField, part: str, reason: str, language: str) -> str:  # noqa: PLR0911
    """Return the message for one part of an address (line 1, town, postcode, country, a line too long)."""
    if reason == "too_long":
        return gettext("%(part)s must be %(count)s characters or less") % {
            "part": address_part_label(part, field.international),
            "count": ADDRESS_LINE_MAX,
        }
    own = authored(field, part, language) if part in {"line1", "town", "postcode"} else None
    if own is not None:
        return own
    if part == "line1":
        return gettext("Enter address line 1, typically the building and street")
    if part == "town":
        return gettext("Enter town or city")
    if part == "country":
        return gettext("Enter country")
    if reason == "format":
        return gettext("Enter a real postcode")
    return gettext("Enter postcode")


ADDRESS_LINE_MAX = 200
"""The longest an address line may be, in characters."""


def address_part_label(part: str, international: bool) -> str:
    """Return the label of one input of an address."""
    labels = {
        "line1": gettext("Address line 1"),
        "line2": gettext("Address line 2 (optional)"),
        "town": gettext("Town or city"),
        "county": gettext("County (optional)"),
        "postcode": gettext("Postal code (optional)") if international else gettext("Postcode"),
        "country": gettext("Country"),
    }
    return labels[part]


def file_message(field: schema.FileField, rule: str, language: str) -> str:
    """Return the message for an upload too large (``max_size_mb``) or of a refused type (``types``)."""
    own = authored(field, rule, language)
    if own is not None:
        return own
    if rule == "max_size_mb":
        return gettext("The selected file must be smaller than %(size)sMB") % {"size": field.validation.max_size_mb}
    names = [file_type.upper() for file_type in field.validation.types]
    if len(names) == 1:
        return gettext("The selected file must be a %(type)s") % {"type": names[0]}
    return gettext("The selected file must be a %(types)s or %(last)s") % {
        "types": ", ".join(names[:-1]),
        "last": names[-1],
    }


def items(field: schema.GroupField, rule: str, limit: int, added: int, language: str) -> str:
    """Return the message for a repeating group with too few or too many items (``added`` so far)."""
    own = authored(field, rule, language)
    if own is not None:
        return own
    params = {"count": limit, "item": field.item_label.get(language), "added": added}
    if rule == "min_items":
        text = ngettext("Add at least %(count)s %(item)s", "Add at least %(count)s (you have added %(added)s)", limit)
    else:
        text = ngettext("You can add only 1 %(item)s", "You can add up to %(count)s (you have added %(added)s)", limit)
    return text % params


def type_message(field: schema.AnyField, language: str) -> str:
    """Return the message for a JSON answer of the wrong type (API callers)."""
    subject = answer_subject(field, language)
    expected = {
        "number": gettext("%(subject)s must be a number"),
        "money": gettext("%(subject)s must be a whole number of pence"),
        "date": gettext("%(subject)s must be a date written YYYY-MM-DD"),
        "yes_no": gettext("%(subject)s must be true or false"),
        "checkboxes": gettext("%(subject)s must be a list of option values"),
        "address": gettext("%(subject)s must be an object with the parts of the address"),
        "group": gettext("%(subject)s must be a list of items"),
    }.get(field.type, gettext("%(subject)s must be text"))
    return expected % {"subject": subject}


def in_language(language: str) -> AbstractContextManager[object]:
    """Return a context in which gettext speaks ``language`` (no switch when it already does: the usual case)."""
    if translation.get_language() == language:
        return nullcontext()
    return translation.override(language)

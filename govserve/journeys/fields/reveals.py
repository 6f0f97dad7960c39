"""Conditionally revealed questions: a field shown under the option of an earlier field on the page.

GOV.UK radios and checkboxes can reveal a follow-up question under an option
("If you chose email: What is your email address?"). A field is revealed by an
earlier field of the same page when its ``when`` is exactly one of these forms
(spaces do not matter):

* radios: ``contact == "email"`` (or single quotes, or ``"email" == contact``);
* yes/no: ``has_partner`` or ``has_partner == true`` (under Yes), ``!has_partner``
  or ``has_partner == false`` (under No);
* checkboxes: ``"food" in goods_sold``.

Any other ``when`` makes the field an ordinary conditional field (the journey
shows it when its condition holds). The macros (``render_fields`` in
journeys/fields.html) apply the same rule; the journey uses
:func:`revealed_fields` to know that a revealed field's ``when`` must be
evaluated with the answers just submitted on the same page.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from govserve.catalogue.definitions import schema


@dataclass(frozen=True, slots=True)
class Reveal:
    """Where a revealed field sits: under option ``value`` (``"yes"``/``"no"`` for yes/no) of ``controller``."""

    controller: str
    value: str


def _compact(text: str) -> str:
    return "".join(text.split())


def reveal_conditions(field: schema.AnyField, value: str) -> frozenset[str]:
    """Return the ``when`` texts (without spaces) that put a field under option ``value`` of ``field``."""
    name = field.id
    if isinstance(field, schema.YesNoField):
        return frozenset({name, f"{name}==true"} if value == "yes" else {f"!{name}", f"{name}==false"})
    quoted = {f'"{_compact(value)}"', f"'{_compact(value)}'"}
    if isinstance(field, schema.RadiosField):
        return frozenset({form for text in quoted for form in (f"{name}=={text}", f"{text}=={name}")})
    if isinstance(field, schema.CheckboxesField):
        return frozenset(f"{text}in{name}" for text in quoted)
    return frozenset()


def _option_values(field: schema.AnyField) -> list[str]:
    if isinstance(field, schema.YesNoField):
        return ["yes", "no"]
    if isinstance(field, schema.RadiosField | schema.CheckboxesField) and field.options is not None:
        return [option.value for option in field.options]
    return []  # options from a catalogue are long lists: no reveals


def revealed_fields(fields: Iterable[schema.AnyField]) -> dict[str, Reveal]:
    """Return, for each field of a page revealed under an earlier field's option, where it sits."""
    page = list(fields)
    revealed: dict[str, Reveal] = {}
    for index, controller in enumerate(page):
        if controller.id in revealed:
            continue  # a revealed question does not reveal others in turn
        for value in _option_values(controller):
            conditions = reveal_conditions(controller, value)
            for later in page[index + 1 :]:
                if later.when is not None and later.id not in revealed and _compact(later.when) in conditions:
                    revealed[later.id] = Reveal(controller.id, value)
    return revealed

"""The fast components (journeys/fields/govuk.html) give exactly the markup of the govuk-frontend-jinja macros.

Both sides are rendered with the same arguments and compared as a sequence of
elements (tag, attributes in any order, classes in order) and texts (spaces
collapsed): the differences left out are the ones HTML itself ignores.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from jinja2 import FileSystemLoader

from govserve.journeys.tests.fields_support import TEMPLATES
from govserve.web.jinja import environment

ENVIRONMENT = environment(loader=FileSystemLoader(TEMPLATES))
IMPORTS = (
    '{% import "journeys/fields/govuk.html" as govuk %}'
    '{% from "govuk_frontend_jinja/components/input/macro.html" import govukInput %}'
    '{% from "govuk_frontend_jinja/components/textarea/macro.html" import govukTextarea %}'
    '{% from "govuk_frontend_jinja/components/date-input/macro.html" import govukDateInput %}'
    '{% from "govuk_frontend_jinja/components/radios/macro.html" import govukRadios %}'
    '{% from "govuk_frontend_jinja/components/checkboxes/macro.html" import govukCheckboxes %}'
    '{% from "govuk_frontend_jinja/components/select/macro.html" import govukSelect %}'
    '{% from "govuk_frontend_jinja/components/fieldset/macro.html" import govukFieldset %}'
    '{% from "govuk_frontend_jinja/components/error-message/macro.html" import govukErrorMessage %}'
    '{% from "govuk_frontend_jinja/components/hint/macro.html" import govukHint %}'
)


def tokens(html: str) -> list[tuple[Any, ...]]:
    found: list[tuple[Any, ...]] = []

    class Reader(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            attributes = sorted(
                (name, " ".join((value or "").split()) if name == "class" else value) for name, value in attrs
            )
            found.append(("<", tag, attributes))

        def handle_endtag(self, tag: str) -> None:
            found.append((">", tag))

        def handle_data(self, data: str) -> None:
            text = " ".join(data.split())
            if text:
                found.append(("text", text))

    Reader().feed(html)
    return found


def rendered(source: str, **context: Any) -> str:
    return ENVIRONMENT.from_string(IMPORTS + source).render(**context)


LABEL = {"text": "What is your name?", "classes": "govuk-label--m"}
HEADING = {"text": "What is your name?", "classes": "govuk-label--l", "isPageHeading": True}
LEGEND = {"text": "Where do you live?", "classes": "govuk-fieldset__legend--m"}
LEGEND_HEADING = {"text": "Where do you live?", "classes": "govuk-fieldset__legend--l", "isPageHeading": True}
ERROR = "Enter your <full> name"
HINT = "As on your passport & licence"

INPUT_CASES = [
    {},
    {"hint": HINT},
    {"error": ERROR},
    {"hint": HINT, "error": ERROR, "value": '"><b>'},
    {"label": HEADING, "value": "Alex"},
    {"label": {"text": "Plain"}},
    {"type": "email", "autocomplete": "email", "spellcheck": False},
    {"type": "tel", "autocomplete": "tel", "classes": "govuk-input--width-20", "error": ERROR},
    {"inputmode": "numeric", "classes": "govuk-input--width-10", "spellcheck": False, "value": "1000"},
    {"prefix": "£", "inputmode": "decimal", "classes": "govuk-input--width-10", "hint": HINT, "error": ERROR},
]


@pytest.mark.parametrize("case", INPUT_CASES, ids=[str(index) for index in range(len(INPUT_CASES))])
def test_input(case: dict[str, Any]) -> None:
    arguments = {"label": LABEL, "hint": None, "error": None, "value": None, "type": "text", "classes": None,
                 "spellcheck": None, "autocomplete": None, "inputmode": None, "prefix": None, **case}  # fmt: skip
    params = {
        "id": "full_name",
        "name": "full_name",
        "label": arguments["label"],
        "hint": {"text": arguments["hint"]} if arguments["hint"] else None,
        "errorMessage": {"text": arguments["error"]} if arguments["error"] else None,
        "value": arguments["value"],
        "type": arguments["type"],
        "classes": arguments["classes"],
        "spellcheck": arguments["spellcheck"],
        "autocomplete": arguments["autocomplete"],
        "inputmode": arguments["inputmode"],
        "prefix": {"text": arguments["prefix"]} if arguments["prefix"] else None,
    }

    fast = rendered('{{ govuk.input("full_name", "full_name", **a) }}', a=arguments)
    reference = rendered("{{ govukInput(p) }}", p=params)

    assert tokens(fast) == tokens(reference)


@pytest.mark.parametrize("case", [{}, {"hint": HINT, "error": ERROR, "value": "one\ntwo <b>"}, {"label": HEADING}])
def test_textarea(case: dict[str, Any]) -> None:
    arguments = {"label": LABEL, "hint": None, "error": None, "value": "", **case}
    params = {
        "id": "story",
        "name": "story",
        "label": arguments["label"],
        "hint": {"text": arguments["hint"]} if arguments["hint"] else None,
        "errorMessage": {"text": arguments["error"]} if arguments["error"] else None,
        "value": arguments["value"],
    }

    fast = rendered('{{ govuk.textarea("story", "story", **a) }}', a=arguments)
    reference = rendered("{{ govukTextarea(p) }}", p=params)

    assert tokens(fast) == tokens(reference)


def date_parts(error_parts: tuple[str, ...], values: tuple[str, str, str], birth: bool) -> list[dict[str, Any]]:
    return [
        {"name": name, "label": name.title(), "value": value, "width": width, "error": name in error_parts,
         "autocomplete": f"bday-{name}" if birth else None}
        for (name, width), value in zip((("day", "2"), ("month", "2"), ("year", "4")), values, strict=True)
    ]  # fmt: skip


DATE_CASES = [
    {"parts": date_parts((), ("", "", ""), birth=False)},
    {"parts": date_parts(("month",), ("3", "", "1990"), birth=True), "error": ERROR, "hint": HINT},
    {"parts": date_parts(("day", "month", "year"), ("31", "2", "1990"), birth=False), "error": ERROR},
    {"parts": date_parts((), ("1", "1", "2000"), birth=False), "legend": LEGEND_HEADING},
]


@pytest.mark.parametrize("case", DATE_CASES, ids=[str(index) for index in range(len(DATE_CASES))])
def test_date_input(case: dict[str, Any]) -> None:
    arguments = {"legend": LEGEND, "hint": None, "error": None, **case}
    items = [
        {"id": f"moved_in-{part['name']}", "name": part["name"], "label": part["label"], "value": part["value"] or None,
         "classes": f"govuk-input--width-{part['width']}" + (" govuk-input--error" if part["error"] else ""),
         "autocomplete": part["autocomplete"]}
        for part in arguments["parts"]
    ]  # fmt: skip
    params = {
        "id": "moved_in",
        "namePrefix": "moved_in",
        "fieldset": {"legend": arguments["legend"]},
        "hint": {"text": arguments["hint"]} if arguments["hint"] else None,
        "errorMessage": {"text": arguments["error"]} if arguments["error"] else None,
        "items": items,
    }

    fast = rendered('{{ govuk.date_input("moved_in", **a) }}', a=arguments)
    reference = rendered("{{ govukDateInput(p) }}", p=params)

    assert tokens(fast) == tokens(reference)


CHOICE_ITEMS: list[dict[str, Any]] = [
    {"value": "food", "text": "Food & drink", "hint": None, "checked": False, "conditional": None, "behaviour": None},
    {"value": "goods", "text": "Goods", "hint": "Flowers or <crafts>", "checked": True, "conditional": None,
     "behaviour": None},
    {"value": "services", "text": "Services", "hint": None, "checked": False,
     "conditional": '<p class="govuk-body">More</p>', "behaviour": None},
]  # fmt: skip
EXCLUSIVE_ITEMS: list[dict[str, Any]] = [
    *CHOICE_ITEMS,
    {"divider": "or"},
    {"value": "none", "text": "None of these", "hint": None, "checked": True, "conditional": None,
     "behaviour": "exclusive"},
]  # fmt: skip
CHOICE_CASES: list[tuple[str, dict[str, Any]]] = [
    ("radios", {"items": CHOICE_ITEMS}),
    ("radios", {"items": CHOICE_ITEMS, "hint": HINT, "error": ERROR, "legend": LEGEND_HEADING}),
    ("radios", {"items": CHOICE_ITEMS[:2], "classes": "govuk-radios--inline"}),
    ("radios", {"items": [{**CHOICE_ITEMS[2], "checked": True}], "legend": {"text": "Plain"}}),
    ("checkboxes", {"items": EXCLUSIVE_ITEMS}),
    ("checkboxes", {"items": EXCLUSIVE_ITEMS, "hint": HINT, "error": ERROR}),
]


@pytest.mark.parametrize(("kind", "case"), CHOICE_CASES, ids=[str(index) for index in range(len(CHOICE_CASES))])
def test_radios_and_checkboxes(kind: str, case: dict[str, Any]) -> None:
    arguments = {"legend": LEGEND, "hint": None, "error": None, "classes": None, **case}
    items = [
        item
        if "divider" in item
        else {
            "value": item["value"],
            "text": item["text"],
            "hint": {"text": item["hint"]} if item["hint"] else None,
            "checked": item["checked"],
            "conditional": {"html": item["conditional"]} if item["conditional"] else None,
            "behaviour": item["behaviour"],
        }
        for item in arguments["items"]
    ]
    params = {
        "idPrefix": "goods",
        "name": "goods",
        "fieldset": {"legend": arguments["legend"]},
        "hint": {"text": arguments["hint"]} if arguments["hint"] else None,
        "errorMessage": {"text": arguments["error"]} if arguments["error"] else None,
        "classes": arguments["classes"],
        "items": items,
    }
    macro = "govukRadios" if kind == "radios" else "govukCheckboxes"
    fast_items = [
        {**item, "conditional": mark_safe(item["conditional"])} if item.get("conditional") else item
        for item in arguments["items"]
    ]

    fast = rendered(
        '{{ govuk.choices(kind, "goods", "goods", a.legend, items, hint=a.hint, error=a.error, classes=a.classes) }}',
        kind=kind,
        a=arguments,
        items=fast_items,
    )
    reference = rendered(f"{{{{ {macro}(p) }}}}", p=params)

    assert tokens(fast) == tokens(reference)


def mark_safe(html: str) -> Any:
    from markupsafe import Markup  # noqa: PLC0415

    return Markup(html)  # noqa: S704 - a fixed test fragment


@pytest.mark.parametrize("case", [{}, {"hint": HINT, "error": ERROR}, {"label": HEADING}])
def test_select(case: dict[str, Any]) -> None:
    arguments = {"label": LABEL, "hint": None, "error": None, **case}
    items = [
        {"value": "", "text": "Select an option", "selected": False},
        {"value": "a&b", "text": "A & B", "selected": True},
        {"value": "c", "text": "<C>", "selected": False},
    ]
    params = {
        "id": "pitch",
        "name": "pitch",
        "label": arguments["label"],
        "hint": {"text": arguments["hint"]} if arguments["hint"] else None,
        "errorMessage": {"text": arguments["error"]} if arguments["error"] else None,
        "items": items,
    }

    fast = rendered(
        '{{ govuk.select("pitch", "pitch", a.label, items, hint=a.hint, error=a.error) }}', a=arguments, items=items
    )
    reference = rendered("{{ govukSelect(p) }}", p=params)

    assert tokens(fast) == tokens(reference)


@pytest.mark.parametrize("legend", [LEGEND, LEGEND_HEADING, {"text": "Plain"}])
def test_fieldset_error_message_and_hint(legend: dict[str, Any]) -> None:
    body = mark_safe('<div class="govuk-form-group">inside</div>')

    fast = rendered(
        '{{ govuk.fieldset(legend, body, "address-error") }}{{ govuk.error_message("x-error", m) }}'
        '{{ govuk.hint_element("x-hint", h) }}',
        legend=legend,
        body=body,
        m=ERROR,
        h=HINT,
    )
    reference = rendered(
        '{{ govukFieldset({"legend": legend, "html": body, "describedBy": "address-error"}) }}'
        '{{ govukErrorMessage({"id": "x-error", "text": m}) }}{{ govukHint({"id": "x-hint", "text": h}) }}',
        legend=legend,
        body=body,
        m=ERROR,
        h=HINT,
    )

    assert tokens(fast) == tokens(reference)

"""Conditionally revealed questions: the Python rule and the render_fields macro agree."""

from __future__ import annotations

from typing import Any

import pytest

from govserve.journeys.fields.reveals import Reveal, revealed_fields
from govserve.journeys.tests.fields_support import by_id, elements, make_field, render_fields

CONTACT = make_field(
    id="contact",
    type="radios",
    label="How should we contact you?",
    options=[{"value": "email", "label": "Email"}, {"value": "phone", "label": "Phone"}],
)
EMAIL = make_field(id="email", type="email", label="Email address", when='contact == "email"')
PHONE = make_field(id="phone", type="phone", label="Phone number", when="'phone'==contact")
OTHER = make_field(id="other", type="text", label="Anything else?", when="contact != 'email'")


@pytest.mark.parametrize(
    ("controller", "when", "value"),
    [("radios", 'contact == "email"', "email"), ("radios", "contact=='phone'", "phone"),
     ("radios", '"email" == contact', "email"), ("yes_no", "contact", "yes"), ("yes_no", "contact == true", "yes"),
     ("yes_no", "! contact", "no"), ("yes_no", "contact == false", "no"), ("checkboxes", '"email" in contact', "email"),
     ("radios", "contact != 'email'", None), ("radios", 'contact == "fax"', None), ("radios", "contact", None),
     ("select", 'contact == "email"', None), ("checkboxes", 'contact == "email"', None)],
)  # fmt: skip
def test_which_conditions_reveal(controller: str, when: str, value: str | None) -> None:
    options: dict[str, Any] = {} if controller == "yes_no" else {"options": [
        {"value": "email", "label": "Email"}, {"value": "phone", "label": "Phone"}]}  # fmt: skip
    fields = [
        make_field(id="contact", type=controller, label="Contact", **options),
        make_field(id="follow_up", type="text", label="Follow-up", when=when),
    ]

    expected = {} if value is None else {"follow_up": Reveal("contact", value)}
    html = render_fields(fields, values={"contact": None})

    assert revealed_fields(fields) == expected
    inside = [element for element in elements(html) if (element.attributes.get("id") or "").startswith("conditional-")]
    assert len(inside) == len(expected)


def test_revealed_questions_render_inside_their_option() -> None:
    html = render_fields([CONTACT, EMAIL, PHONE, OTHER], values={"contact": "email", "email": "a@example.com"})
    found = by_id(html)

    assert found["contact"].attributes["data-aria-controls"] == "conditional-contact"
    assert "govuk-radios__conditional--hidden" not in found["conditional-contact"].classes
    assert "govuk-radios__conditional--hidden" in found["conditional-contact-2"].classes
    assert html.index('id="conditional-contact"') < html.index('id="email"') < html.index('id="contact-2"')
    assert html.index('id="conditional-contact-2"') < html.index('id="phone"')
    assert found["email"].attributes["value"] == "a@example.com"
    assert html.index('id="other"') > html.index('id="phone"')
    assert [label.classes for label in elements(html) if label.attributes.get("for") == "email"] == [{"govuk-label"}]


def test_a_single_question_with_reveals_is_the_page_heading() -> None:
    html = render_fields([CONTACT, EMAIL, PHONE])

    assert [element.tag for element in elements(html)].count("h1") == 1
    assert "govuk-fieldset__legend--l" in html


def test_revealed_question_errors_show_inside_the_open_option() -> None:
    from govserve.journeys.fields import FieldError  # noqa: PLC0415

    html = render_fields(
        [CONTACT, EMAIL],
        raw={"contact": ["email"], "email": ["nope"]},
        errors=[FieldError("email", "format", "Enter an email address in the correct format", "email")],
    )
    found = by_id(html)

    assert "govuk-radios__conditional--hidden" not in found["conditional-contact"].classes
    assert found["email-error"].tag == "p"
    assert found["email"].attributes["value"] == "nope"

"""The macros' HTML for every field type: GOV.UK markup, ids and names, errors, values, headings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from govserve.catalogue.definitions.schema import Catalogue
from govserve.journeys.fields import FieldError
from govserve.journeys.tests.fields_support import by_id, elements, make_field, render, text_of


def error(field_id: str, message: str, anchor: str, parts: tuple[str, ...] = (), code: str = "x") -> FieldError:
    return FieldError(field_id, code, message, anchor, parts)


def test_text_input_with_hint_error_and_typed_value() -> None:
    field = make_field(id="full_name", type="text", label="Full name", hint="As on your passport", autocomplete="name")

    html = render(
        field,
        raw={"full_name": ['"><script>']},
        errors=[error("full_name", "Enter your full name", "full_name"), error("other", "Not mine", "other")],
    )
    found = by_id(html)

    assert found["full_name"].tag == "input"
    assert found["full_name"].attributes["name"] == "full_name"
    assert found["full_name"].attributes["value"] == '"><script>'
    assert found["full_name"].attributes["autocomplete"] == "name"
    assert found["full_name"].attributes["aria-describedby"] == "full_name-hint full_name-error"
    assert "govuk-input--error" in found["full_name"].classes
    assert found["full_name-hint"].text.strip() == "As on your passport"
    assert " ".join(found["full_name-error"].text.split()) == "Enter your full name"
    assert "Error: Enter your full name" in text_of(html)
    assert "Not mine" not in html
    assert "<script>" not in html


def test_single_question_label_is_the_page_heading() -> None:
    field = make_field(id="full_name", type="text", label="What is your full name?")

    html = render(field, single_question=True)
    heading = [element for element in elements(html) if element.tag == "h1"]

    assert len(heading) == 1
    assert "govuk-label-wrapper" in heading[0].classes
    assert "govuk-label--l" in elements(html)[2].classes


def test_several_questions_use_medium_labels_and_legends() -> None:
    text = make_field(id="full_name", type="text", label="Full name")
    radios = make_field(id="kind", type="radios", label="Kind", options=[{"value": "a", "label": "A"}])

    labels = [element for element in elements(render(text)) if element.tag == "label"]

    assert [label.classes for label in labels] == [{"govuk-label", "govuk-label--m"}]
    assert "govuk-fieldset__legend--m" in render(radios)
    assert "<h1" not in render(radios)


def test_email_phone_postcode_number_attributes() -> None:
    email = by_id(render(make_field(id="email", type="email", label="Email")))["email"].attributes
    phone = by_id(render(make_field(id="phone", type="phone", label="Phone")))["phone"].attributes
    postcode = by_id(render(make_field(id="postcode", type="postcode", label="Postcode")))["postcode"].attributes
    number = by_id(render(make_field(id="days", type="number", label="Days"), value=1000))["days"].attributes
    decimal = by_id(render(make_field(id="hours", type="number", label="Hours", decimal_places=1)))["hours"].attributes

    assert (email["type"], email["autocomplete"], email["spellcheck"]) == ("email", "email", "false")
    assert (phone["type"], phone["autocomplete"]) == ("tel", "tel")
    assert (postcode["autocomplete"], postcode["class"]) == ("postal-code", "govuk-input govuk-input--width-10")
    assert (number["inputmode"], number["value"], number["type"]) == ("numeric", "1000", "text")
    assert decimal["inputmode"] == "decimal"


def test_money_has_the_currency_prefix_and_shows_stored_pence_as_pounds() -> None:
    fee = make_field(id="fee", type="money", label="Fee")

    pounds = render(fee, value=123450)
    euros = render(fee, value=7500, currency="EUR")
    prefixes = [element for element in elements(pounds) if "govuk-input__prefix" in element.classes]

    assert [(p.text, p.attributes["aria-hidden"]) for p in prefixes] == [("£", "true")]
    assert by_id(pounds)["fee"].attributes["value"] == "1234.50"
    assert by_id(euros)["fee"].attributes["value"] == "75"
    assert "€" in euros


def test_long_text_with_max_length_has_a_character_count() -> None:
    story = make_field(id="story", type="long_text", label="Describe it", validation={"max_length": 500})
    plain = make_field(id="plain", type="long_text", label="Describe it")

    counted = render(story, value="line one\nline two")
    found = by_id(counted)

    assert found["story"].tag == "textarea"
    assert found["story"].text == "line one\nline two"
    assert 'data-module="govuk-character-count"' in counted
    assert 'data-maxlength="500"' in counted
    assert "You can enter up to 500 characters" in found["story-info"].text
    assert "govuk-character-count" not in render(plain)


def test_date_has_three_inputs_and_only_the_parts_at_fault_are_highlighted() -> None:
    born = make_field(
        id="date_of_birth", type="date", label="What is your date of birth?", hint="For example, 27 3 2007"
    )

    html = render(
        born,
        raw={"date_of_birth-day": ["3"], "date_of_birth-month": [""], "date_of_birth-year": ["1990"]},
        errors=[error("date_of_birth", "Date of birth must include a month", "date_of_birth-month", ("month",))],
        single_question=True,
    )
    found = by_id(html)

    assert [found[f"date_of_birth-{part}"].attributes["name"] for part in ("day", "month", "year")] == [
        "date_of_birth-day",
        "date_of_birth-month",
        "date_of_birth-year",
    ]
    assert ["govuk-input--error" in found[f"date_of_birth-{part}"].classes for part in ("day", "month", "year")] == [
        False,
        True,
        False,
    ]
    assert found["date_of_birth-day"].attributes["value"] == "3"
    assert found["date_of_birth-day"].attributes["autocomplete"] == "bday-day"
    assert found["date_of_birth-year"].attributes["inputmode"] == "numeric"
    fieldset = next(element for element in elements(html) if element.tag == "fieldset")
    assert fieldset.attributes["aria-describedby"] == "date_of_birth-hint date_of_birth-error"
    assert fieldset.attributes["role"] == "group"
    assert "<h1" in html


def test_whole_date_error_highlights_every_part_and_stored_date_fills_them() -> None:
    born = make_field(id="moved_in", type="date", label="When did you move in?")

    html = render(
        born, value=dt.date(2024, 3, 7), errors=[error("moved_in", "Moved in must be in the past", "moved_in-day")]
    )
    found = by_id(html)

    assert [found[f"moved_in-{part}"].attributes["value"] for part in ("day", "month", "year")] == ["7", "3", "2024"]
    assert all("govuk-input--error" in found[f"moved_in-{part}"].classes for part in ("day", "month", "year"))
    assert "autocomplete" not in found["moved_in-day"].attributes


def test_radios_with_hints_and_checked_value() -> None:
    kind = make_field(
        id="sell",
        type="radios",
        label="What will you sell?",
        options=[{"value": "food", "label": "Food"}, {"value": "goods", "label": "Goods", "hint": "Flowers or crafts"}],
    )

    found = by_id(render(kind, value="goods", errors=[error("sell", "Select what you will sell", "sell")]))

    assert (found["sell"].attributes["value"], "checked" in found["sell"].attributes) == ("food", False)
    assert (found["sell-2"].attributes["value"], "checked" in found["sell-2"].attributes) == ("goods", True)
    assert found["sell-2-item-hint"].text.strip() == "Flowers or crafts"
    assert found["sell-error"].tag == "p"


def test_yes_no_is_inline_radios() -> None:
    agree = make_field(id="agree", type="yes_no", label="Do you agree?")

    html = render(agree, value=False)
    found = by_id(html)

    assert "govuk-radios--inline" in html
    assert (found["agree"].attributes["value"], found["agree-2"].attributes["value"]) == ("yes", "no")
    assert "checked" in found["agree-2"].attributes
    assert "checked" not in found["agree"].attributes


def test_yes_no_keeps_the_submitted_choice_after_an_error() -> None:
    agree = make_field(id="agree", type="yes_no", label="Do you agree?")

    found = by_id(render(agree, value=True, raw={"agree": ["no"]}))

    assert "checked" in found["agree-2"].attributes


def test_checkboxes_with_exclusive_option_and_divider() -> None:
    goods = make_field(
        id="goods",
        type="checkboxes",
        label="What will you sell?",
        options=[{"value": "food", "label": "Food"}, {"value": "none", "label": "None of these", "exclusive": True}],
    )

    html = render(goods, raw={"goods": ["food", "none"]})
    found = by_id(html)

    assert "govuk-checkboxes__divider" in html
    assert found["goods-3"].attributes["data-behaviour"] == "exclusive"
    assert "checked" in found["goods"].attributes
    assert "checked" in found["goods-3"].attributes


def test_checkboxes_from_a_querydict() -> None:
    from django.http import QueryDict  # noqa: PLC0415

    goods = make_field(
        id="goods",
        type="checkboxes",
        label="Goods",
        options=[{"value": "a", "label": "A"}, {"value": "b", "label": "B"}],
    )

    found = by_id(render(goods, raw=QueryDict("goods=a&goods=b")))

    assert "checked" in found["goods"].attributes
    assert "checked" in found["goods-2"].attributes


def test_select_from_a_catalogue_with_a_placeholder() -> None:
    catalogue = Catalogue.model_validate(
        {
            "id": "pitches",
            "title": "Pitches",
            "options": [{"value": "square", "label": {"en": "Square", "cy": "Sgwâr"}}],
        },
        strict=False,
    )
    pitch = make_field(id="pitch", type="select", label="Pitch", options_from="pitches")

    html = render(pitch, value="square", language="cy", catalogues={"pitches": catalogue})
    options = [element for element in elements(html) if element.tag == "option"]

    assert by_id(html)["pitch"].tag == "select"
    assert [(option.attributes["value"], option.text, "selected" in option.attributes) for option in options] == [
        ("", "Select an option", False),
        ("square", "Sgwâr", True),
    ]


def test_address_inputs_with_autocomplete_and_errors_per_input() -> None:
    address = make_field(id="address", type="address", label="What is your address?")

    html = render(
        address,
        raw={"address-line1": ["1 High St"], "address-postcode": ["zz"]},
        errors=[
            error("address", "Enter town or city", "address-town", ("town",)),
            error("address", "Enter a real postcode", "address-postcode", ("postcode",)),
        ],
    )
    found = by_id(html)

    assert [
        found[f"address-{part}"].attributes.get("autocomplete")
        for part in ("line1", "line2", "town", "county", "postcode")
    ] == [
        "address-line1",
        "address-line2",
        "address-level2",
        None,
        "postal-code",
    ]
    assert found["address-line1"].attributes["value"] == "1 High St"
    assert "govuk-input--error" in found["address-town"].classes
    assert "govuk-input--error" not in found["address-line1"].classes
    assert found["address-postcode-error"].tag == "p"
    assert "address-country" not in found
    assert "<legend" in html


def test_international_address_asks_for_the_country() -> None:
    address = make_field(id="address", type="address", label="Address", international=True)

    found = by_id(
        render(
            address,
            value={
                "line1": "1 Rue",
                "line2": "",
                "town": "Paris",
                "county": "",
                "postcode": "75001",
                "country": "France",
            },
        )
    )

    assert found["address-country"].attributes["autocomplete"] == "country-name"
    assert found["address-country"].attributes["value"] == "France"


def test_file_upload_accepts_the_allowed_types() -> None:
    photo = make_field(id="photo", type="file", label="Photo", validation={"types": ["jpg", "png"]})

    html = render(photo, value={"name": "light.jpg", "size": 3, "content_type": "image/jpeg"})
    found = by_id(html)

    assert found["photo"].attributes["type"] == "file"
    assert found["photo"].attributes["accept"] == ".jpg,.jpeg,.png"
    assert "light.jpg" in found["photo-current"].text or "light.jpg" in html


def test_group_lists_items_with_change_and_remove_links() -> None:
    group = make_field(
        id="assistants",
        type="group",
        label="Your assistants",
        item_label="assistant",
        fields=[{"id": "assistant_name", "type": "text", "label": "Name", "classification": "personal"}],
    )
    items: list[dict[str, Any]] = [{"assistant_name": "Sam"}, {"assistant_name": "Kim"}]

    html = render(
        group,
        value=items,
        group_items=[
            {"summary": "Sam Smith", "change_url": "/c/0", "remove_url": "/r/0"},
            {"summary": "Kim Jones", "change_url": "/c/1", "remove_url": "/r/1"},
        ],
        errors=[error("assistants", "You can add up to 1 assistant", "assistants")],
    )
    links = [element.attributes["href"] for element in elements(html) if element.tag == "a"]

    assert links == ["/c/0", "/r/0", "/c/1", "/r/1"]
    assert "Sam Smith" in text_of(html)
    assert "Change Sam Smith" in text_of(html)
    assert "govuk-form-group--error" in by_id(html)["assistants"].classes
    assert by_id(html)["assistants-error"].tag == "p"


def test_group_without_links_shows_the_first_answers() -> None:
    group = make_field(
        id="assistants",
        type="group",
        label="Assistants",
        item_label="assistant",
        fields=[{"id": "assistant_name", "type": "text", "label": "Name", "classification": "personal"}],
    )

    html = render(group, value=[{"assistant_name": "Sam"}])

    assert "Sam" in text_of(html)
    assert "<a" not in html


def test_welsh_text_from_the_definition() -> None:
    field = make_field(
        id="full_name",
        type="text",
        label={"en": "Full name", "cy": "Enw llawn"},
        hint={"en": "All of it", "cy": "I gyd"},
    )

    html = render(field, language="cy")

    assert "Enw llawn" in html
    assert "I gyd" in html
    assert "Full name" not in html


def test_submitted_choices_with_markup_characters_stay_chosen() -> None:
    kind = make_field(
        id="kind",
        type="radios",
        label="Kind",
        options=[{"value": "fish & chips", "label": "Fish & chips"}, {"value": "<pie>", "label": "Pie"}],
    )
    pitch = make_field(
        id="pitch",
        type="select",
        label="Pitch",
        options=[{"value": "a&b", "label": "A & B"}, {"value": "c", "label": "C"}],
    )

    radios = by_id(render(kind, raw={"kind": ["<pie>"]}))
    options = [element for element in elements(render(pitch, raw={"pitch": "a&b"})) if element.tag == "option"]

    assert radios["kind"].attributes["value"] == "fish & chips"
    assert "checked" not in radios["kind"].attributes
    assert (radios["kind-2"].attributes["value"], "checked" in radios["kind-2"].attributes) == ("<pie>", True)
    assert ["selected" in option.attributes for option in options] == [False, True, False]


def test_interface_text_follows_the_active_language() -> None:
    from django.utils import translation  # noqa: PLC0415

    agree = make_field(id="agree", type="yes_no", label={"en": "Do you agree?", "cy": "Ydych chi'n cytuno?"})

    with translation.override("cy"):
        html = render(agree, language="cy")

    labels = [" ".join(element.text.split()) for element in elements(html) if element.tag == "label"]
    assert labels == ["Ie", "Na"]
    assert "Ydych chi&#39;n cytuno?" in html


def test_prefixed_inputs_for_a_group_item() -> None:
    born = make_field(id="child_born", type="date", label="Date of birth")

    found = by_id(render(born, prefix="item-2-", value=dt.date(2020, 1, 2)))

    assert found["item-2-child_born-day"].attributes["name"] == "item-2-child_born-day"
    assert found["item-2-child_born-year"].attributes["value"] == "2020"


def test_autocomplete_for_the_applicants_own_details_only() -> None:
    def autocomplete(field_id: str, field_type: str = "text") -> list[str | None]:
        html = render(make_field(id=field_id, type=field_type, label="Question"))
        return [element.attributes.get("autocomplete") for element in elements(html) if element.tag == "input"]

    assert autocomplete("full_name") == ["name"]
    assert autocomplete("surname") == ["family-name"]
    assert autocomplete("child_name") == [None]
    assert autocomplete("date_of_birth", "date") == ["bday-day", "bday-month", "bday-year"]
    assert autocomplete("child_date_of_birth", "date") == [None, None, None]
    assert (
        by_id(render(make_field(id="full_name", type="text", label="Name", autocomplete="off")))[
            "full_name"
        ].attributes["autocomplete"]
        == "off"
    )

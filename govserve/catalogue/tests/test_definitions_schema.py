"""The shape of a definition: each schema.* code with its exact message, suggestion and location."""

from __future__ import annotations

import pytest

from govserve.catalogue.definitions import ProblemCode
from govserve.catalogue.tests.definitions_helpers import FLOW, at, formatted, load, service


def page_with(field_yaml: str) -> str:
    """Return a pages section whose one page holds the field given (YAML at 6 spaces' indent)."""
    return "pages:\n  - id: p\n    title: P\n    fields:\n" + field_yaml


def test_a_missing_schema_version_stops_the_check() -> None:
    # Given
    text = service().replace("schema_version: 1\n", "")

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        "service.yaml:1:1: error schema.unsupported_version: `schema_version` is missing "
        "(Add `schema_version: 1` as the first line)"
    ]
    assert result.definition is None


@pytest.mark.parametrize(
    ("version", "shown"), [("2", "the number 2"), ("'1'", "`1`"), ("true", "`true` (read as true)")]
)
def test_an_unsupported_schema_version_stops_the_check(version: str, shown: str) -> None:
    # Given
    text = service().replace("schema_version: 1", f"schema_version: {version}")

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:1:17: error schema.unsupported_version schema_version: `schema_version` {shown} is not "
        "supported: this version of govserve reads 1 (Write `schema_version: 1`)"
    ]


def test_an_unknown_key_suggests_the_nearest_one_at_the_key() -> None:
    # Given
    text = service(flow=FLOW.replace("      decisions:", "      sla_workingdays: 5\n      decisions:"))

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, 'sla_workingdays')}: error schema.unknown_key flow.roles[0].sla_workingdays: "
        "Unknown key `sla_workingdays` (Did you mean `sla_working_days`?)"
    ]
    assert result.definition is None


def test_an_unknown_key_with_no_near_match_lists_the_allowed_keys() -> None:
    # Given
    text = service(top="start_page_extra: 1\n").replace("  body: Start here.", "  body: Start here.\n  banner: x")

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, 'banner')}: error schema.unknown_key start_page.banner: Unknown key `banner` "
        "(Allowed keys here: before_you_start, body)",
        f"service.yaml:{at(text, 'start_page_extra')}: error schema.unknown_key start_page_extra: "
        "Unknown key `start_page_extra` (Did you mean `start_page`?)",
    ]


def test_an_unknown_key_inside_a_field_lists_that_field_types_keys() -> None:
    # Given
    text = service(
        pages=page_with(
            "      - id: count\n        type: number\n        label: Count\n        classification: public\n"
            "        decimals: 2\n"
        )
    )

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, 'decimals')}: error schema.unknown_key pages[0].fields[0].decimals: "
        "Unknown key `decimals` (Did you mean `decimal_places`?)"
    ]


def test_a_missing_key_is_reported_at_the_mapping_that_lacks_it() -> None:
    # Given: a field without classification
    text = service(pages=page_with("      - id: full_name\n        type: text\n        label: Full name\n"))

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, 'id: full_name')}: error schema.missing_key pages[0].fields[0].classification: "
        "Required key `classification` is missing"
    ]


def test_every_missing_top_level_key_is_reported() -> None:
    # When
    result = load("schema_version: 1\nid: x\n")

    # Then
    assert formatted(result) == [
        f"service.yaml:1:1: error schema.missing_key {key}: Required key `{key}` is missing"
        for key in ("title", "summary", "institution", "sign_in", "retention", "start_page", "pages", "flow")
    ]


def test_a_list_where_a_mapping_belongs_is_expected_mapping() -> None:
    # Given
    text = service().replace("start_page:\n  body: Start here.\n", "start_page:\n  - body: Start here.\n")

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, '- body')}: error schema.expected_mapping start_page: `start_page` must be a "
        "mapping, not a list"
    ]


def test_a_top_level_list_is_expected_mapping() -> None:
    # When
    result = load("- schema_version: 1\n- id: x\n")

    # Then
    assert formatted(result) == [
        "service.yaml:1:1: error schema.expected_mapping: A definition file must be a mapping of keys "
        "(schema_version, id, title...), not a list"
    ]


def test_a_top_level_scalar_is_expected_mapping() -> None:
    # When
    result = load("just some text\n")

    # Then
    assert formatted(result) == [
        "service.yaml:1:1: error schema.expected_mapping: A definition file must be a mapping of keys "
        "(schema_version, id, title...), not `just some text`"
    ]


def test_a_mapping_where_a_list_belongs_is_expected_list() -> None:
    # Given
    text = service(top="languages: {en: true}\n")

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, '{en: true}')}: error schema.expected_list languages: `languages` must be a list, "
        "not a mapping (Write each item on its own line starting with '- ')"
    ]


def test_a_yaml_boolean_where_text_belongs_suggests_quoting() -> None:
    # Given: the Norway problem
    text = service(
        pages=page_with(
            "      - id: country\n        type: radios\n        label: Country\n        classification: public\n"
            "        options:\n          - value: NO\n            label: Norway\n"
        )
    )

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, 'NO')}: error schema.wrong_type pages[0].fields[0].options[0].value: `value` must "
        'be text, not `NO` (read as false) (Put it in quotes: "NO")'
    ]


def test_a_number_where_localised_text_belongs_suggests_quoting() -> None:
    # Given
    text = service().replace("title: Minimal service", "title: 1984")

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, '1984')}: error schema.wrong_type title: `title` must be text (or a mapping by "
        'language: {en: ..., cy: ...}), not the number 1984 (Put it in quotes: "1984")'
    ]


def test_a_decimal_amount_of_money_explains_minor_units() -> None:
    # Given
    text = service(
        registrations="registrations:\n  - id: r\n    name: R\n    institution: council\n"
        "    fees:\n      - id: f\n        name: Fee\n        amount: 25.50\n"
    )

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, '25.50')}: error schema.wrong_type registrations[0].fees[0].amount: `amount` must "
        "be a whole number, not the number 25.50 (Amounts of money are whole numbers of minor units: write 2550 "
        "for 25.50)"
    ]


def test_a_value_outside_a_union_names_every_accepted_type() -> None:
    # Given
    text = service(registrations="registrations:\n  - id: r\n    name: R\n    institution: council\n    mandatory: 3\n")

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, 'mandatory: 3', offset=11)}: error schema.wrong_type registrations[0].mandatory: "
        "`mandatory` must be true or false or text, not the number 3"
    ]


def test_a_value_not_in_the_allowed_list_suggests_the_nearest() -> None:
    # Given
    text = service().replace("sign_in: anonymous", "sign_in: anonymus")

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, 'anonymus')}: error schema.invalid_value sign_in: `sign_in` must be one of "
        "`required`, `anonymous`, not `anonymus` (Did you mean `anonymous`?)"
    ]


def test_an_id_in_the_wrong_format_suggests_a_valid_one() -> None:
    # Given
    text = service(
        pages=page_with(
            "      - id: Date Of Birth\n        type: date\n        label: D\n        classification: personal\n"
        )
    )

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, 'Date Of Birth')}: error schema.invalid_value pages[0].fields[0].id: `id` must be "
        "lower-case letters, digits and underscores, starting with a letter (e.g. `date_of_birth`), not "
        "`Date Of Birth` (Did you mean `date_of_birth`?)"
    ]


@pytest.mark.parametrize(
    ("top", "needle", "message"),
    [
        (
            "retention: 6 years\n",
            "6 years",
            "`retention` must be an ISO 8601 period such as P6Y, P18M, P2W or P90D, not `6 years`",
        ),
        ("draft_expiry_days: 0\n", "0", "`draft_expiry_days` must be 1 or more, not the number 0"),
        ("draft_expiry_days: 400\n", "400", "`draft_expiry_days` must be 365 or less, not the number 400"),
        (
            "currency: pounds\n",
            "pounds",
            "`currency` must be a three-letter ISO 4217 currency code such as GBP, not `pounds`",
        ),
        ("languages: [en, fr]\n", "fr", "`languages[1]` must be one of `en`, `cy`, not `fr`"),
        ("languages: []\n", "[]", "`languages` must have at least 1 item(s)"),
    ],
)
def test_invalid_values_say_what_is_allowed(top: str, needle: str, message: str) -> None:
    # Given
    text = service().replace("retention: P1Y\n", "") + top
    text = text if "retention" in top else text + "retention: P1Y\n"

    # When
    result = load(text)

    # Then
    problem = result.problems[0]
    assert len(result.problems) == 1
    assert problem.code == ProblemCode.SCHEMA_INVALID_VALUE
    assert problem.message == message
    assert f"{problem.line}:{problem.column}" == at(text, needle, occurrence=text.count(needle))


def test_an_empty_text_is_invalid() -> None:
    # Given
    text = service().replace("summary: The least a definition needs.", "summary: ''")

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, chr(39) * 2)}: error schema.invalid_value summary.en: `summary.en` must not be empty"
    ]


def test_an_unknown_time_zone_suggests_the_nearest() -> None:
    # Given
    text = service(top="time_zone: Europe/Londn\n")

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, 'Europe/Londn')}: error schema.invalid_value time_zone: `time_zone` `Europe/Londn` "
        "is not an IANA time zone (Did you mean `Europe/London`?)"
    ]


def test_an_unknown_phone_region_is_invalid() -> None:
    # Given
    text = service(top="phone_region: XX\n")

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, 'XX')}: error schema.invalid_value phone_region: `phone_region` `XX` is not a "
        "region phone numbers can be read in (Use an ISO 3166 region code such as GB)"
    ]


def test_languages_must_start_with_english() -> None:
    # Given
    text = service(top="languages: [cy, en]\n")

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, 'Minimal service')}: warning text.missing_translation title: 6 text(s) have no "
        "Welsh (cy) version, the first at title; English is shown instead (Write text as {en: ..., cy: ...})",
        f"service.yaml:{at(text, '[cy, en]')}: error schema.invalid_value languages: `languages` must start with "
        "`en`: English is the language every text has",
    ]


def test_an_unknown_field_type_suggests_the_nearest() -> None:
    # Given
    text = service(pages=page_with("      - id: x\n        type: txt\n        label: X\n        classification: x\n"))

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, 'txt')}: error schema.unknown_field_type pages[0].fields[0].type: Unknown field "
        "type `txt` (Did you mean `text`?)"
    ]


def test_a_field_without_a_type_lists_the_types() -> None:
    # Given
    text = service(pages=page_with("      - id: x\n        label: X\n        classification: public\n"))

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, 'id: x')}: error schema.missing_key pages[0].fields[0].type: Required key `type` is "
        "missing (Field types: text, long_text, number, money, date, yes_no, radios, checkboxes, select, email, "
        "phone, postcode, address, file, group)"
    ]


def test_the_integrations_key_is_reserved() -> None:
    # Given
    text = service(top="integrations:\n  - kind: soap\n")

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, 'integrations')}: error schema.reserved_key integrations: `integrations` is "
        "reserved: connectors to other systems are not available yet (Remove the `integrations` section)"
    ]
    assert not result.ok


def test_every_schema_problem_is_reported_at_once() -> None:
    # Given: three unrelated mistakes
    text = service(top="sign_in: maybe\ncurrency: 12\n").replace("sign_in: anonymous\n", "")
    text = text.replace("classification: personal", "classification: secret")

    # When
    result = load(text)

    # Then
    assert [(problem.path, problem.code) for problem in result.problems] == [
        ("sign_in", ProblemCode.SCHEMA_INVALID_VALUE),
        ("currency", ProblemCode.SCHEMA_WRONG_TYPE),
        ("pages[0].fields[0].classification", ProblemCode.SCHEMA_INVALID_VALUE),
    ]

"""The definition keys results add: ``holder_name`` and ``show_holder_name`` (checked by ``govserve check``)."""

from __future__ import annotations

from govserve.catalogue.tests.definitions_helpers import at, formatted, load, service

REGISTRATIONS = """\
registrations:
  - id: permit
    name: Permit
    institution: council
    results:
      - id: permit
        name: Permit
        template: permit.html
{extra}"""


def _text(extra: str) -> str:
    return service(registrations=REGISTRATIONS.format(extra=extra))


def test_a_result_naming_its_holder_and_showing_it_is_valid() -> None:
    result = load(_text("        holder_name: [full_name]\n        show_holder_name: true\n"))

    assert formatted(result) == []
    assert result.definition is not None
    permit = result.definition.registrations[0].results[0]
    assert permit.holder_name == ["full_name"]
    assert permit.show_holder_name is True


def test_by_default_no_holder_name_is_shown() -> None:
    result = load(_text(""))

    assert result.definition is not None
    permit = result.definition.registrations[0].results[0]
    assert permit.holder_name == []
    assert permit.show_holder_name is False


def test_an_unknown_holder_name_field_suggests_the_nearest() -> None:
    text = _text("        holder_name: [full_nam]\n")

    assert formatted(load(text)) == [
        f"service.yaml:{at(text, 'full_nam]')}: error definition.unknown_field "
        "registrations[0].results[0].holder_name[0]: No field outside a repeating group has the id `full_nam` "
        "(Did you mean `full_name`?)"
    ]


def test_showing_the_holder_name_needs_the_fields_that_make_it() -> None:
    text = _text("        show_holder_name: true\n")

    assert formatted(load(text)) == [
        f"service.yaml:{at(text, 'true')}: error definition.unknown_field "
        "registrations[0].results[0].show_holder_name: Result `permit` shows the holder's name but names no "
        "`holder_name` fields (Add `holder_name: [full_name]` with the fields that make up the name)"
    ]


def test_show_holder_name_must_be_a_boolean() -> None:
    text = _text('        holder_name: [full_name]\n        show_holder_name: "yes"\n')

    problems = formatted(load(text))

    assert len(problems) == 1
    assert "registrations[0].results[0].show_holder_name" in problems[0]

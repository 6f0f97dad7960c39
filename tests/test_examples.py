"""The example services the demo publishes are valid, realistic and contrasting."""

from __future__ import annotations

from pathlib import Path

from govserve.catalogue.definitions import check_paths, load_definition_file
from govserve.catalogue.definitions.schema import ServiceDefinition

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PERSONAL_BY_NATURE = ("name", "date_of_birth", "email", "phone", "address")


def _definitions() -> dict[str, ServiceDefinition]:
    loaded = {}
    for path in sorted((EXAMPLES / "services").glob("*.yaml")):
        result = load_definition_file(path)
        assert result.definition is not None, [str(problem) for problem in result.problems]
        loaded[result.definition.id] = result.definition
    return loaded


def test_every_example_passes_check_without_errors_or_warnings() -> None:
    report = check_paths([EXAMPLES / "services", EXAMPLES / "catalogues"])

    assert [str(problem) for problem in report.problems] == []
    assert len(report.files) >= 4


def test_the_three_required_examples_are_there_with_their_contrasts() -> None:
    definitions = _definitions()

    street_trading = definitions["street-trading-licence"]
    newborn = definitions["register-newborn"]
    street_light = definitions["report-street-light"]
    assert street_trading.sign_in == "required"
    assert any(page.exit for page in street_trading.pages)
    assert [role.id for role in street_trading.flow.roles] == ["licensing-officer", "licensing-manager"]
    assert street_trading.flow.roles[0].decisions.send_back == "applicant"
    assert street_trading.registrations[0].fees[0].formula is not None
    assert street_trading.registrations[0].results[0].template == "templates/street-trading-licence.html"
    assert len(newborn.registrations) == 3
    assert [registration.mandatory for registration in newborn.registrations] == [True, True, False]
    assert street_light.sign_in == "anonymous"
    assert street_light.flow.roles[0].kind == "bot"


def test_names_dates_of_birth_emails_addresses_and_phones_are_classified_personal() -> None:
    for definition in _definitions().values():
        for _path, field in definition.iter_fields():
            if field.type in {"email", "phone", "address"} or any(part in field.id for part in PERSONAL_BY_NATURE):
                assert field.classification in {"personal", "special_category"}, (definition.id, field.id)


def test_every_result_template_exists_beside_its_definition() -> None:
    for definition in _definitions().values():
        for registration in definition.registrations:
            for result in registration.results:
                assert result.template is not None
                assert (EXAMPLES / "services" / result.template).is_file(), result.template

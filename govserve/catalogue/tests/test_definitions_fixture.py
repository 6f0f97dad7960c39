"""The valid fixture loads with no problems at all: the baseline every other definition test edits."""

from pathlib import Path

from govserve.catalogue.definitions import load_definition_file
from govserve.catalogue.definitions.schema import DateField, GroupField

FIXTURES = Path(__file__).parent / "fixtures"


def test_the_valid_fixture_loads_without_problems() -> None:
    # When
    result = load_definition_file(FIXTURES / "valid_service.yaml")

    # Then
    assert result.problems == []
    assert result.ok
    definition = result.definition
    assert definition is not None
    assert definition.id == "market-stall-licence"
    assert definition.time_zone == "Europe/London"
    assert definition.draft_expiry_days == 28
    assert [page.id for page in definition.pages][:3] == ["date-of-birth", "too-young", "your-name"]
    date_of_birth = definition.pages[0].fields[0]
    assert isinstance(date_of_birth, DateField)
    assert date_of_birth.validation.before == "today"
    helpers = definition.pages[5].fields[0]
    assert isinstance(helpers, GroupField)
    assert [child.id for child in helpers.fields] == ["helper_name", "helper_date_of_birth"]
    assert definition.registrations[0].fees[0].formula == "2500 * days_per_week + (sells_food ? 1000 : 0)"
    assert [role.id for role in definition.flow.roles] == ["eligibility-bot", "licensing-officer"]
    assert definition.referenced_catalogues() == set()

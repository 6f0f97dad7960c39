"""Diff between versions: exact, human-readable changes for a crafted pair, and through the database."""

from __future__ import annotations

import textwrap

import pytest

from govserve.catalogue.definitions.loader import load_definition_text
from govserve.catalogue.definitions.schema import ServiceDefinition
from govserve.catalogue.diff import Change, definition_changes, render_changes
from govserve.catalogue.errors import ServiceNotFoundError, VersionNotFoundError
from govserve.catalogue.selectors import definition_diff
from govserve.catalogue.services import catalogue_publish, definition_publish
from govserve.catalogue.tests.support_versions import (
    PITCH_SIZE_FIELD,
    SERVICE_ID,
    goods_catalogue_text,
    institution_create,
    service_text,
    source,
)

BEFORE = textwrap.dedent(
    """\
    schema_version: 1
    id: street-trading
    title: Apply for a street trading licence
    summary: Trade from a pitch.
    institution: city-council
    sign_in: required
    retention: P6Y
    start_page:
      body: Apply here.
    determinants:
      - id: old_enough
        expression: age(date_of_birth) >= 16
      - id: sells_food
        expression: trading_type == "food"
    pages:
      - id: about-you
        title: About you
        fields:
          - id: full_name
            type: text
            label: Full name
            classification: personal
          - id: date_of_birth
            type: date
            label: Date of birth
            classification: personal
          - id: nickname
            type: text
            label: Nickname
            classification: personal
      - id: trading-details
        title: Trading details
        when: old_enough
        fields:
          - id: trading_type
            type: radios
            label: What will you sell?
            classification: public
            options:
              - value: food
                label: Food
              - value: goods
                label: Goods
    registrations:
      - id: licence
        name: Street trading licence
        institution: city-council
        fees:
          - id: licence-fee
            name: Licence fee
            amount: 15000
    flow:
      roles:
        - id: licensing_officer
          name: Licensing officer
          institution: city-council
          decisions:
            approve: end
            reject: end
    """
)

AFTER = textwrap.dedent(
    """\
    schema_version: 1
    id: street-trading
    title: Apply for a street trading licence in Westmoor
    summary: Trade from a pitch.
    institution: city-council
    sign_in: required
    retention: P6Y
    start_page:
      body: Apply here.
    determinants:
      - id: old_enough
        expression: age(date_of_birth) >= 17
      - id: sells_food
        expression: trading_type == "food"
      - id: big_pitch
        expression: pitch_size > 10
    pages:
      - id: about-you
        title: About you
        fields:
          - id: full_name
            type: text
            label: Full name
            classification: personal
            validation:
              max_length: 100
          - id: date_of_birth
            type: date
            label: Date of birth
            classification: personal
      - id: trading-details
        title: Trading details
        when: old_enough
        fields:
          - id: trading_type
            type: radios
            label: What will you sell?
            classification: public
            options:
              - value: food
                label: Food
              - value: goods
                label: Goods
              - value: services
                label: Services
          - id: pitch_size
            type: number
            label: Pitch size in square metres
            classification: public
      - id: food-hygiene
        title: Food hygiene
        when: sells_food
        fields:
          - id: hygiene_rating
            type: number
            label: Food hygiene rating
            classification: public
            validation:
              required: false
    registrations:
      - id: licence
        name: Street trading licence
        institution: city-council
        fees:
          - id: licence-fee
            name: Licence fee
            amount: 15000
            formula: null
          - id: big-pitch-fee
            name: Large pitch supplement
            formula: "big_pitch ? 4000 : 0"
            paid: after_decision
    flow:
      roles:
        - id: licensing_officer
          name: Licensing officer
          institution: city-council
          sla_working_days: 10
          decisions:
            approve: next
            reject: end
            send_back: applicant
        - id: team_leader
          name: Team leader
          institution: city-council
          decisions:
            approve: end
            reject: end
    notifications:
      submitted:
        email:
          subject: We have your application
          body: Your reference is ((reference)).
    """
)

EXPECTED = """\
Service: title changed from 'Apply for a street trading licence' to 'Apply for a street trading licence in Westmoor'
Determinant 'old_enough': expression changed from `age(date_of_birth) >= 16` to `age(date_of_birth) >= 17`
Determinant 'big_pitch' added: `pitch_size > 10`
Page 'food-hygiene' added (1 field)
Page 'about-you': field 'nickname' removed
Page 'about-you': field 'full_name': validation max length changed from none to 100
Page 'trading-details': field 'trading_type': options added: 'services'
Page 'trading-details': field 'pitch_size' added (number, required)
Page 'food-hygiene': field 'hygiene_rating' added (number, optional)
Registration 'licence': fee 'big-pitch-fee' added (formula `big_pitch ? 4000 : 0`, paid after decision)
Flow role 'licensing_officer': sla working days changed from none to 10
Flow role 'licensing_officer': approve now leads to 'next' (was 'end')
Flow role 'licensing_officer': may now send back (to 'applicant')
Flow role 'team_leader' added (human, city-council)
Notification 'submitted': email added"""


def _definition(text: str) -> ServiceDefinition:
    result = load_definition_text(text, filename="street-trading.yaml")
    assert result.ok, [problem.format() for problem in result.problems]
    assert result.definition is not None
    return result.definition


def test_the_diff_of_a_crafted_pair_is_exact() -> None:
    # given two versions that differ in pages, fields, rules, fees, flow and notifications
    before, after = _definition(BEFORE), _definition(AFTER)

    # when they are compared
    changes = definition_changes(before, after)

    # then every change is listed, in a stable order, one line each
    assert render_changes(changes) == EXPECTED
    assert changes[7] == Change(
        area="field",
        action="added",
        subject="Page 'trading-details': field 'pitch_size'",
        detail="added (number, required)",
    )
    assert {change.area for change in changes} == {
        "service",
        "determinant",
        "page",
        "field",
        "fee",
        "flow",
        "notification",
    }


def test_the_reverse_diff_names_removals() -> None:
    changes = definition_changes(_definition(AFTER), _definition(BEFORE))

    rendered = render_changes(changes).splitlines()
    assert "Determinant 'big_pitch' removed" in rendered
    assert "Page 'food-hygiene' removed" in rendered
    assert "Page 'trading-details': field 'pitch_size' removed" in rendered
    assert "Page 'about-you': field 'nickname' added (text, required)" in rendered
    assert "Registration 'licence': fee 'big-pitch-fee' removed" in rendered
    assert "Flow role 'licensing_officer': may no longer send back" in rendered
    assert "Notification 'submitted' removed" in rendered


def test_identical_versions_have_no_changes() -> None:
    assert definition_changes(_definition(BEFORE), _definition(BEFORE)) == []
    assert render_changes([]) == "No changes."


def test_moves_reorders_types_and_conditions_are_named() -> None:
    # given the nickname field moved to the second page, pages swapped, a type and a condition changed
    moved = (
        BEFORE.replace(
            "      - id: nickname\n        type: text\n        label: Nickname\n        classification: personal\n", ""
        )
        .replace(
            "        options:\n          - value: food\n            label: Food\n          - value: goods\n"
            "            label: Goods\n",
            "        options:\n          - value: food\n            label: Food\n          - value: goods\n"
            "            label: Goods\n      - id: nickname\n        type: long_text\n        label: Nickname\n"
            "        classification: personal\n",
        )
        .replace("    when: old_enough\n", "    when: old_enough && sells_food\n")
    )

    changes = render_changes(definition_changes(_definition(BEFORE), _definition(moved))).splitlines()

    assert changes == [
        "Page 'trading-details': condition changed from `old_enough` to `old_enough && sells_food`",
        "Page 'trading-details': field 'nickname' moved from page 'about-you'",
        "Page 'trading-details': field 'nickname': type changed from 'text' to 'long_text' (long_text, required)",
    ]


def test_welsh_text_changes_name_the_language() -> None:
    welsh = BEFORE.replace(
        "title: Apply for a street trading licence\n",
        "title:\n  en: Apply for a street trading licence\n  cy: Gwneud cais am drwydded masnachu\n",
    )

    changes = render_changes(definition_changes(_definition(BEFORE), _definition(welsh)))

    assert changes == "Service: title (cy) added: 'Gwneud cais am drwydded masnachu'"


@pytest.mark.django_db
def test_definition_diff_compares_published_versions_and_their_catalogues() -> None:
    # given version 1, then version 2 with a field added and the goods catalogue grown
    institution_create()
    catalogue_publish(source=source(goods_catalogue_text(), "goods.yaml"), actor=None, reason="Goods")
    definition_publish(source=source(service_text()), actor=None, reason="v1")
    catalogue_publish(
        source=source(goods_catalogue_text(extra_option="flowers"), "goods.yaml"), actor=None, reason="Flowers"
    )
    definition_publish(source=source(service_text(extra_field=PITCH_SIZE_FIELD)), actor=None, reason="v2")

    # when the versions are compared
    changes = definition_diff(SERVICE_ID, 1, 2)

    # then the field and the catalogue change are listed
    assert render_changes(changes) == (
        "Page 'trading-details': field 'pitch_size' added (number, required)\n"
        "Catalogue 'goods': options added: 'flowers'"
    )


@pytest.mark.django_db
def test_definition_diff_refuses_unknown_services_and_versions() -> None:
    institution_create()
    catalogue_publish(source=source(goods_catalogue_text(), "goods.yaml"), actor=None, reason="Goods")
    definition_publish(source=source(service_text()), actor=None, reason="v1")

    with pytest.raises(VersionNotFoundError, match="has no published version 3"):
        definition_diff(SERVICE_ID, 1, 3)
    with pytest.raises(ServiceNotFoundError):
        definition_diff("no-such-service", 1, 2)


def test_fees_documents_registrations_and_notification_texts_are_named() -> None:
    # given a fee rise, a new document, a conditional mandatory flag and a changed email body
    before = BEFORE + textwrap.dedent(
        """\
        notifications:
          submitted:
            email:
              subject: Received
              body: Thank you.
        """
    )
    after = (
        before.replace("amount: 15000", "amount: 16500")
        .replace(
            "    institution: city-council\n    fees:",
            "    institution: city-council\n    mandatory: sells_food\n    documents:\n"
            "      - id: insurance\n        name: Public liability insurance\n    fees:",
        )
        .replace("body: Thank you.", "body: Thank you for applying.")
    )

    changes = render_changes(definition_changes(_definition(before), _definition(after))).splitlines()

    assert changes == [
        "Registration 'licence': mandatory changed from yes to `sells_food`",
        "Registration 'licence': document 'insurance' added (upload)",
        "Registration 'licence': fee 'licence-fee': amount changed from 15000 to 16500",
        "Notification 'submitted': email: body changed from 'Thank you.' to 'Thank you for applying.'",
    ]

"""Page routing on the three example services: paths, conditions, exits, back links, answers off the path."""

from __future__ import annotations

import datetime as dt
import textwrap
from typing import Any

import pytest

from govserve.catalogue.compiled import compile_definition
from govserve.catalogue.definitions.loader import load_definition_text
from govserve.journeys.registrations import fee_summary, registrations_applied, required_documents
from govserve.journeys.routing import RoutingLoopError, journey_walk, visible_fields
from govserve.journeys.tests.support import NEWBORN, STREET_LIGHT, STREET_TRADING, example_compiled
from govserve.rules.errors import ExpressionEvaluationError

TODAY = dt.date(2026, 11, 27)
ADDRESS = {
    "line1": "1 High Street",
    "line2": "",
    "town": "Westmoor",
    "county": "",
    "postcode": "WM1 1AA",
    "country": "GB",
}
PHOTO = {"id": "5f0c8a52-8c41-4d0c-9d27-0e0f0f6a1a11", "name": "me.jpg", "size": 1000, "content_type": "image/jpeg"}

TRADING_PAGES = ["age", "your-name", "contact-details", "home-address", "trading-type", "pitch", "assistants", "photo"]


def trading_answers(**changes: Any) -> dict[str, Any]:
    answers: dict[str, Any] = {
        "date_of_birth": dt.date(1990, 3, 27),
        "full_name": "Ada Lovelace",
        "email": "ada@example.org",
        "phone": "+447700900123",
        "home_address": ADDRESS,
        "trading_type": "goods",
        "goods_description": "Cut flowers",
        "pitch_location": "market-square-1",
        "days_per_week": 5,
        "licence_length": "12_months",
        "assistants": [],
        "photo": PHOTO,
    }
    answers.update(changes)
    return answers


def walk(service_id: str, answers: dict[str, Any], completed: list[str]) -> Any:
    return journey_walk(example_compiled(service_id), answers, completed=completed, today=TODAY)


# --- street trading licence ---------------------------------------------------------------------------------


def test_a_new_application_stops_at_the_first_page() -> None:
    # when nothing is answered
    state = walk(STREET_TRADING, {}, [])

    # then the only reachable page is the first; determinants that need an answer are undecided (null),
    # equality with null is simply false
    assert state.path == ["age"]
    assert state.stop == "unanswered"
    assert state.first_unanswered == "age"
    assert state.final_evaluator().determinants == {
        "old_enough": None,
        "sells_food": False,
        "long_licence": False,
        "has_assistants": None,
    }


def test_an_answered_page_leads_to_the_next_in_list_order_skipping_the_exit_page() -> None:
    # given an adult's date of birth saved
    state = walk(STREET_TRADING, {"date_of_birth": dt.date(1990, 3, 27)}, ["age"])

    # then the exit page (when: !old_enough) is skipped
    assert state.path == ["age", "your-name"]
    assert state.first_unanswered == "your-name"
    assert state.previous("your-name") == "age"
    assert state.previous("age") is None


def test_a_route_leads_to_the_exit_page_when_its_condition_holds() -> None:
    # given a 16-year-old
    state = walk(STREET_TRADING, {"date_of_birth": dt.date(2010, 11, 28)}, ["age"])

    # then the route `!old_enough` goes to the exit page, which ends the walk
    assert state.path == ["age", "too-young"]
    assert state.stop == "exit"
    assert state.exit_page == "too-young"
    assert state.first_unanswered is None
    assert not state.complete


def test_a_saved_page_is_not_answered_while_a_required_field_has_no_answer() -> None:
    # given the page saved, but the answer missing (e.g. deleted)
    state = walk(STREET_TRADING, {}, ["age"])

    # then it is still the first unanswered page
    assert state.path == ["age"]
    assert state.first_unanswered == "age"


def test_every_page_answered_without_food_skips_the_food_page_and_completes() -> None:
    # given every page answered by a goods trader
    state = walk(STREET_TRADING, trading_answers(), TRADING_PAGES)

    # then the conditional page is not on the path and the next step is check your answers
    assert state.path == TRADING_PAGES
    assert state.complete
    assert state.next_after("photo") == "check-answers"
    assert state.next_after("trading-type") == "pitch"
    assert state.previous("pitch") == "trading-type"
    assert state.final_evaluator().determinants == {
        "old_enough": True,
        "sells_food": False,
        "long_licence": True,
        "has_assistants": False,
    }


def test_changing_to_food_puts_the_food_page_on_the_path_as_the_first_unanswered() -> None:
    # given a goods trader who changes to food
    state = walk(STREET_TRADING, trading_answers(trading_type="food"), TRADING_PAGES)

    # then the food page is next after trading type and must be answered first
    assert state.path == ["age", "your-name", "contact-details", "home-address", "trading-type", "food-business"]
    assert state.first_unanswered == "food-business"
    assert state.next_after("trading-type") == "food-business"


def test_answers_of_a_page_no_longer_on_the_path_are_ignored() -> None:
    # given a food trader who answered the food page, then changed to goods
    answers = trading_answers(food_registration_number="FB123456")
    state = walk(STREET_TRADING, answers, [*TRADING_PAGES, "food-business"])

    # then the food answer is kept but is not effective, and conditions read it as null
    assert state.answers["food_registration_number"] == "FB123456"
    assert "food_registration_number" not in state.effective_answers()
    assert state.final_evaluator().values["food_registration_number"] is None
    assert set(state.effective_answers()) == set(trading_answers())


def test_changing_back_restores_the_answers_kept_off_the_path() -> None:
    # given the same kept answer, and the trader back on food
    answers = trading_answers(trading_type="food", food_registration_number="FB123456")
    state = walk(STREET_TRADING, answers, [*TRADING_PAGES, "food-business"])

    # then the food page is answered again with the kept answer
    assert state.complete
    assert state.path == [*TRADING_PAGES[:5], "food-business", *TRADING_PAGES[5:]]
    assert state.effective_answers()["food_registration_number"] == "FB123456"


def test_the_fee_formula_of_the_street_trading_licence() -> None:
    # 12 months (25000) + 5 days x 1000 + food (4000)
    food = walk(
        STREET_TRADING,
        trading_answers(trading_type="food", food_registration_number="FB123456"),
        [*TRADING_PAGES, "food-business"],
    )
    # 6 months (15000) + 2 days x 1000, goods
    goods = walk(STREET_TRADING, trading_answers(licence_length="6_months", days_per_week=2), TRADING_PAGES)

    food_fees = fee_summary(food.final_evaluator())
    goods_fees = fee_summary(goods.final_evaluator())
    assert [(item.registration.id, item.fee.id, item.amount_minor) for item in food_fees.items] == [
        ("street-trading-licence", "licence-fee", 34000)
    ]
    assert food_fees.total_minor == 34000
    assert food_fees.due_before_submission_minor == 34000
    assert goods_fees.total_minor == 17000


def test_documents_follow_the_answers() -> None:
    goods = walk(STREET_TRADING, trading_answers(), TRADING_PAGES)
    food = walk(
        STREET_TRADING,
        trading_answers(trading_type="food", food_registration_number="FB123456"),
        [*TRADING_PAGES, "food-business"],
    )

    assert [(doc.id, doc.delivery) for doc in required_documents(goods.final_evaluator())] == [
        ("public-liability-insurance", "upload"),
        ("licence-declaration", "sign_in_person"),
    ]
    assert [doc.id for doc in required_documents(food.final_evaluator())] == [
        "public-liability-insurance",
        "food-hygiene-certificate",
        "licence-declaration",
    ]


def test_the_assistants_group_feeds_its_determinant() -> None:
    assistants = [{"_id": "a1", "assistant_name": "Grace Hopper", "assistant_date_of_birth": dt.date(1980, 12, 9)}]
    state = walk(STREET_TRADING, trading_answers(assistants=assistants), TRADING_PAGES)

    assert state.final_evaluator().determinants["has_assistants"] is True
    # CEL sees the item without its id
    assert state.final_evaluator().values["assistants"] == [
        {"assistant_name": "Grace Hopper", "assistant_date_of_birth": dt.date(1980, 12, 9)}
    ]


# --- newborn registration ------------------------------------------------------------------------------------

NEWBORN_PAGES = [
    "baby-date-of-birth",
    "baby",
    "mother",
    "second-parent-question",
    "care-programmes",
    "certificates",
    "contact",
]


def newborn_answers(**changes: Any) -> dict[str, Any]:
    answers: dict[str, Any] = {
        "baby_date_of_birth": TODAY - dt.timedelta(days=3),
        "baby_given_names": "Ada",
        "baby_family_name": "Byron",
        "baby_sex": "female",
        "place_of_birth": "hospital",
        "mother_full_name": "Anne Byron",
        "mother_date_of_birth": dt.date(1992, 5, 17),
        "mother_nhs_number": "485 777 3456",
        "home_address": ADDRESS,
        "second_parent": "no",
        "optional_registrations": ["infant-care"],
        "extra_certificates": 2,
        "contact_email": "anne@example.org",
        "contact_phone": None,
    }
    answers.update(changes)
    return answers


def test_a_birth_registered_too_late_goes_to_the_exit_page() -> None:
    state = walk(NEWBORN, {"baby_date_of_birth": TODAY - dt.timedelta(days=43)}, ["baby-date-of-birth"])

    assert state.path == ["baby-date-of-birth", "too-late"]
    assert state.exit_page == "too-late"


def test_day_42_is_still_within_the_registration_period() -> None:
    state = walk(NEWBORN, {"baby_date_of_birth": TODAY - dt.timedelta(days=42)}, ["baby-date-of-birth"])

    assert state.path == ["baby-date-of-birth", "baby"]


def test_the_second_parent_page_appears_only_when_asked_for() -> None:
    without = walk(NEWBORN, newborn_answers(), NEWBORN_PAGES)
    with_second = walk(NEWBORN, newborn_answers(second_parent="yes"), NEWBORN_PAGES)

    assert without.complete
    assert without.path == NEWBORN_PAGES
    assert with_second.first_unanswered == "second-parent"
    assert with_second.previous("second-parent") == "second-parent-question"


def test_newborn_documents_are_merged_across_registrations_and_the_issued_certificate_is_not_asked_for() -> None:
    # given infant care chosen (its registration asks for the birth certificate, which birth registration issues)
    state = walk(NEWBORN, newborn_answers(), NEWBORN_PAGES)

    documents = required_documents(state.final_evaluator())

    assert [(doc.id, doc.delivery, doc.registration_ids) for doc in documents] == [
        ("mother-identity-document", "upload", ("birth-registration", "post-partum-care")),
        ("birth-notification", "upload", ("birth-registration",)),
        ("registration-signature", "sign_in_person", ("birth-registration",)),
    ]


def test_newborn_extra_certificates_fee_is_paid_on_collection() -> None:
    with_extra = fee_summary(walk(NEWBORN, newborn_answers(extra_certificates=3), NEWBORN_PAGES).final_evaluator())
    without = fee_summary(walk(NEWBORN, newborn_answers(extra_certificates=0), NEWBORN_PAGES).final_evaluator())

    assert [(item.fee.id, item.amount_minor, item.fee.paid) for item in with_extra.items] == [
        ("extra-certificates", 3750, "on_collection")
    ]
    assert with_extra.due_before_submission_minor == 0
    assert without.items == ()


def test_no_optional_programme_chosen_leaves_infant_care_out() -> None:
    state = walk(NEWBORN, newborn_answers(optional_registrations=None), NEWBORN_PAGES)

    assert [registration.id for _, registration in registrations_applied(state.final_evaluator())] == [
        "birth-registration",
        "post-partum-care",
    ]


# --- street light ------------------------------------------------------------------------------------------


def test_a_revealed_field_counts_only_when_its_condition_holds() -> None:
    answers = {
        "on_private_land": False,
        "problem": "out",
        "exposed_wires": True,  # answered while "damaged" was chosen, then the problem changed
    }
    state = walk(STREET_LIGHT, answers, ["private-land", "problem"])

    assert state.visible["problem"] == ["problem"]
    assert "exposed_wires" not in state.effective_answers()
    assert state.final_evaluator().determinants["dangerous"] is False


def test_a_revealed_field_required_when_shown() -> None:
    # given "damaged" chosen but the wires question not answered
    state = walk(STREET_LIGHT, {"on_private_land": False, "problem": "damaged"}, ["private-land", "problem"])

    assert state.first_unanswered == "problem"


def test_a_private_light_exits() -> None:
    state = walk(STREET_LIGHT, {"on_private_land": True}, ["private-land"])

    assert state.path == ["private-land", "not-council"]
    assert state.exit_page == "not-council"


# --- faults of the definition --------------------------------------------------------------------------------


def _compiled(text: str) -> Any:
    result = load_definition_text(textwrap.dedent(text), filename="t.yaml", validate=False)
    assert result.definition is not None, result.problems
    return compile_definition(
        service_id="t", version=1, content_hash="x", definition=result.definition, catalogues={}, source_name="t.yaml"
    )


BASE = """\
    schema_version: 1
    id: t
    title: T
    summary: T
    institution: city-council
    sign_in: anonymous
    retention: P1Y
    start_page: {body: T}
    flow: {roles: [{id: r, name: R, institution: city-council, decisions: {approve: end}}]}
"""


def test_an_evaluation_fault_with_every_answer_given_propagates() -> None:
    compiled = _compiled(
        BASE
        + """\
    determinants:
      - id: broken
        expression: 100 / count == 1
    pages:
      - id: one
        title: One
        fields: [{id: count, type: number, label: Count, classification: public}]
    """
    )

    with pytest.raises(ExpressionEvaluationError) as raised:
        journey_walk(compiled, {"count": 0}, completed=["one"], today=TODAY)

    assert raised.value.kind == "division_by_zero"


def test_a_routing_loop_is_refused() -> None:
    compiled = _compiled(
        BASE
        + """\
    pages:
      - id: one
        title: One
        fields: [{id: a, type: yes_no, label: A, classification: public}]
        next: [{goto: two}]
      - id: two
        title: Two
        fields: [{id: b, type: yes_no, label: B, classification: public}]
        next: [{goto: one}]
    """
    )

    with pytest.raises(RoutingLoopError):
        journey_walk(compiled, {"a": True, "b": True}, completed=["one", "two"], today=TODAY)


def test_a_field_decided_through_a_determinant_of_the_same_page_is_shown_with_the_page() -> None:
    compiled = _compiled(
        BASE
        + """\
    determinants:
      - id: damaged
        expression: problem == "damaged"
    pages:
      - id: one
        title: One
        fields:
          - {id: problem, type: radios, label: Problem, classification: public,
             options: [{value: out, label: Out}, {value: damaged, label: Damaged}]}
          - {id: wires, type: yes_no, label: Wires, classification: public, when: damaged}
    """
    )
    state = journey_walk(compiled, {}, completed=[], today=TODAY)

    shown = visible_fields(state.page_evaluator("one"), compiled.definition, 0, for_display=True)
    decided = visible_fields(state.page_evaluator("one", {"problem": "out"}), compiled.definition, 0)

    assert [field.id for field in shown] == ["problem", "wires"]
    assert [field.id for field in decided] == ["problem"]

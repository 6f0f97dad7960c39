"""Checks across the whole definition: each code with its exact message, suggestion and location."""

from __future__ import annotations

import pytest

from govserve.catalogue.definitions import ProblemCode
from govserve.catalogue.tests.definitions_helpers import FLOW, PAGES, at, formatted, load, service

# A first page asking two questions the conditions below read.
QUESTIONS = """\
pages:
  - id: questions
    title: About you
    fields:
      - id: age_years
        type: number
        label: Your age
        classification: personal
      - id: owns_car
        type: yes_no
        label: Do you own a car?
        classification: personal
"""


def content_page(page_id: str, extra: str = "") -> str:
    """Return a page without fields (YAML list item at 2 spaces), with ``extra`` lines at 4 spaces."""
    return f"  - id: {page_id}\n    title: Page {page_id}\n" + extra


# --- identifiers -------------------------------------------------------------------------


def test_a_field_and_a_determinant_may_not_share_an_id() -> None:
    # Given
    text = service(determinants="determinants:\n  - id: full_name\n    expression: 'true'\n")

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, 'full_name', occurrence=2)}: error definition.duplicate_id pages[0].fields[0].id: "
        f"The id `full_name` is already used by determinants[0] (line {at(text, 'full_name').split(':')[0]})"
        " (Fields and determinants share one set of names: rename one of them)"
    ]


def test_two_fields_on_different_pages_may_not_share_an_id() -> None:
    # Given
    text = service(
        pages=PAGES
        + content_page(
            "again",
            "    fields:\n      - id: full_name\n        type: text\n"
            "        label: Again\n        classification: personal\n",
        )
    )

    # When
    result = load(text)

    # Then
    assert [(problem.code, problem.path) for problem in result.problems] == [
        (ProblemCode.DEFINITION_DUPLICATE_ID, "pages[1].fields[0].id")
    ]
    assert result.problems[0].message == "The id `full_name` is already used by pages[0].fields[0] (line 14)"


def test_two_pages_may_not_share_an_id() -> None:
    # Given
    text = service(pages=PAGES + content_page("name"))

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, 'id: name', occurrence=2, offset=4)}: error definition.duplicate_id pages[1].id: "
        "Another page already has the id `name` (pages[0], line 11)"
    ]


def test_reserved_names_are_refused_for_fields_pages_and_roles() -> None:
    # Given
    pages = PAGES.replace("id: full_name", "id: reference") + content_page("check-answers")
    flow = FLOW.replace("id: officer", "id: end")
    text = service(pages=pages, flow=flow)

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, 'reference')}: error definition.reserved_name pages[0].fields[0].id: `reference` "
        "is reserved (a notification placeholder the platform fills in) and cannot be the id of a field "
        "(Rename it, e.g. `reference_answer`)",
        f"service.yaml:{at(text, 'check-answers')}: error definition.reserved_name pages[1].id: `check-answers` is "
        "reserved: it is the route target that ends the questions",
        f"service.yaml:{at(text, 'id: end', offset=4)}: error definition.reserved_name flow.roles[0].id: `end` is "
        "reserved as a decision target and cannot be a role id",
    ]


def test_a_staff_role_outside_flows_cannot_be_a_flow_role() -> None:
    # Given
    text = service(flow=FLOW.replace("id: officer", "id: team-leader"))

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, 'id: team-leader', offset=4)}: error definition.reserved_name flow.roles[0].id: "
        "`team-leader` is a staff role outside flows and cannot be a role id "
        "(Name the role after the work it does, like licensing-officer)"
    ]


@pytest.mark.parametrize(
    ("page_id", "step"),
    [
        ("documents", "documents"),
        ("fees", "fees"),
        ("confirmation", "confirmation"),
        ("save-and-return", "save and come back later"),
    ],
)
def test_the_page_ids_of_the_journeys_own_steps_are_refused(page_id: str, step: str) -> None:
    # Given a page whose address would be the journey's own step (never reachable as a question)
    text = service(pages=PAGES + content_page(page_id))

    # When
    result = load(text)

    # Then it is refused with the stable code, located at the id, with a rename suggested
    assert not result.ok
    assert formatted(result) == [
        f"service.yaml:{at(text, f'id: {page_id}', offset=4)}: error definition.reserved_name pages[1].id: "
        f"`{page_id}` is reserved: it is the address of the journey's own {step} page "
        f"(Rename the page, e.g. `{page_id}-details`)",
    ]
    assert [problem.code for problem in result.problems] == [ProblemCode.DEFINITION_RESERVED_NAME]


def test_page_ids_that_only_resemble_the_journeys_steps_are_accepted() -> None:
    # Given pages named like the steps but not the same (the ids are exact, case-sensitive slugs)
    text = service(pages=PAGES + content_page("documents-needed") + content_page("fee") + content_page("check"))

    # When
    result = load(text)

    # Then nothing about reserved names is reported
    assert [problem for problem in result.problems if problem.code == ProblemCode.DEFINITION_RESERVED_NAME] == []


def test_a_route_to_an_unknown_page_suggests_the_nearest() -> None:
    # Given
    text = service(pages=PAGES + "    next:\n      - goto: check-answer\n")

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, 'check-answer')}: error definition.unknown_page pages[0].next[0].goto: No page has "
        "the id `check-answer` (Did you mean `check-answers`?)"
    ]


def test_a_role_that_sees_an_unknown_field_suggests_the_nearest() -> None:
    # Given
    text = service(flow=FLOW.replace("      decisions:", "      sees: [full_nam]\n      decisions:"))

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, 'full_nam]')}: error definition.unknown_field flow.roles[0].sees[0]: No field has "
        "the id `full_nam` (Did you mean `full_name`?)"
    ]


def test_a_role_that_corrects_an_unknown_field_suggests_the_nearest() -> None:
    # Given
    text = service(flow=FLOW.replace("      decisions:", "      corrects: [full_nmae]\n      decisions:"))

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, 'full_nmae]')}: error definition.unknown_field flow.roles[0].corrects[0]: No field "
        "has the id `full_nmae` (Did you mean `full_name`?)"
    ]


def test_flow_claiming_and_messages_are_optional_and_read() -> None:
    # Given
    settings = "flow:\n  claiming: false\n  messages:\n    applicant_can_start: false\n"
    text = service(flow=FLOW.replace("flow:\n", settings))

    # When
    result = load(text)

    # Then
    assert result.ok, formatted(result)
    assert result.definition is not None
    assert result.definition.flow.claiming is False
    assert result.definition.flow.messages.applicant_can_start is False


# --- CEL ---------------------------------------------------------------------------------------


def test_a_cel_syntax_error_points_at_the_character() -> None:
    # Given
    text = service(determinants="determinants:\n  - id: adult\n    expression: age_years = 18\n", pages=QUESTIONS)

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, '= 18')}: error cel.syntax determinants[0].expression: Syntax error: '= ' is not "
        "allowed here (column 11 of the expression) (Compare with `==`, not `=`)"
    ]


def test_a_cel_syntax_error_in_a_quoted_expression_accounts_for_the_quote() -> None:
    # Given
    text = service(determinants="determinants:\n  - id: adult\n    expression: '!(age_years >= 18'\n", pages=QUESTIONS)

    # When
    result = load(text)

    # Then
    assert len(result.problems) == 1
    problem = result.problems[0]
    assert problem.code == ProblemCode.CEL_SYNTAX
    assert problem.message == "Syntax error: missing ')' at '<EOF>' (column 18 of the expression)"
    assert f"{problem.line}:{problem.column}" == at(text, "18'", offset=2)


def test_a_cel_syntax_error_in_a_block_expression_is_on_its_own_line() -> None:
    # Given: the error is on the second line of a literal block
    text = service(
        determinants="determinants:\n  - id: adult\n    expression: |\n      age_years >= 18 &&\n"
        "        owns_car == )\n",
        pages=QUESTIONS,
    )

    # When
    result = load(text)

    # Then
    assert len(result.problems) == 1
    problem = result.problems[0]
    assert problem.code == ProblemCode.CEL_SYNTAX
    assert problem.message == "Syntax error: unexpected ')' (column 15 of line 2 of the expression)"
    assert f"{problem.line}:{problem.column}" == at(text, "owns_car == )", offset=12)


def test_an_unknown_name_suggests_the_nearest_and_points_at_it() -> None:
    # Given
    text = service(determinants="determinants:\n  - id: adult\n    expression: age_yeers >= 18\n", pages=QUESTIONS)

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, 'age_yeers')}: error cel.unknown_name determinants[0].expression: `age_yeers` is "
        "not a field or a determinant (Did you mean `age_years`?)"
    ]


def test_a_group_field_read_outside_its_group_says_how_to_read_it() -> None:
    # Given
    group = """\
pages:
  - id: children
    title: Your children
    fields:
      - id: children
        type: group
        label: Children
        item_label: child
        classification: personal
        fields:
          - id: child_age
            type: number
            label: Age
            classification: personal
            validation:
              rules:
                - expression: child_age < 18
                  message: A child must be under 18
"""
    text = service(determinants="determinants:\n  - id: has_baby\n    expression: child_age < 1\n", pages=group)

    # When
    result = load(text)

    # Then: a sibling reads it bare; a determinant may not
    assert formatted(result) == [
        f"service.yaml:{at(text, 'child_age')}: error cel.unknown_name determinants[0].expression: `child_age` is a "
        "field of the repeating group `children`, not a name of its own here (Read it through the group, e.g. "
        "`children.map(item, item.child_age)`)"
    ]


def test_an_unknown_function_suggests_the_nearest() -> None:
    # Given
    text = service(determinants="determinants:\n  - id: adult\n    expression: agee(age_years) > 1\n", pages=QUESTIONS)

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, 'agee')}: error cel.unknown_function determinants[0].expression: `agee()` is not a "
        "function (Did you mean `age()`?)"
    ]


def test_a_condition_that_is_not_a_bool_is_a_type_error() -> None:
    # Given
    text = service(determinants="determinants:\n  - id: adult\n    expression: age_years + 1\n", pages=QUESTIONS)

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, 'age_years + 1')}: error cel.type_error determinants[0].expression: This must give "
        "true or false, but it gives an int"
    ]


def test_a_fee_formula_mixing_int_and_double_is_a_type_error() -> None:
    # Given
    registrations = (
        "registrations:\n  - id: permit\n    name: Permit\n    institution: council\n    fees:\n"
        "      - id: fee\n        name: Fee\n        formula: age_years * 2.5\n"
    )
    text = service(pages=QUESTIONS, registrations=registrations)

    # When
    result = load(text)

    # Then
    assert len(result.problems) == 1
    problem = result.problems[0]
    assert (problem.code, problem.path) == (ProblemCode.CEL_TYPE_ERROR, "registrations[0].fees[0].formula")
    assert "mixes int and double" in problem.message
    assert f"{problem.line}:{problem.column}" == at(text, "age_years * 2.5")


def test_a_fee_formula_giving_a_bool_is_a_type_error() -> None:
    # Given
    registrations = (
        "registrations:\n  - id: permit\n    name: Permit\n    institution: council\n    fees:\n"
        "      - id: fee\n        name: Fee\n        formula: owns_car\n"
    )
    text = service(pages=QUESTIONS, registrations=registrations)

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, 'formula: owns_car', offset=9)}: error cel.type_error "
        "registrations[0].fees[0].formula: This must give an int, but it gives a bool"
    ]


def test_a_determinant_cycle_is_spelled_out() -> None:
    # Given
    determinants = (
        "determinants:\n  - id: first\n    expression: second && owns_car\n"
        "  - id: second\n    expression: third\n  - id: third\n    expression: first\n"
    )
    text = service(determinants=determinants, pages=QUESTIONS)

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, 'second &&')}: error cel.determinant_cycle determinants[0].expression: Determinants "
        "depend on each other in a cycle: first -> second -> third -> first (Break the cycle: a determinant cannot "
        "depend on itself, even through others)"
    ]


# --- the page graph ----------------------------------------------------------------------------


def test_a_page_no_route_reaches_is_unreachable() -> None:
    # Given: the first page always jumps over the second
    pages = "pages:\n" + content_page("a", "    next:\n      - goto: c\n") + content_page("b") + content_page("c")
    text = service(pages=pages)

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, 'id: b')}: error graph.unreachable_page pages[1]: No path through the "
        "journey reaches page `b` (Check the routes (`next`) of the pages before it)"
    ]


def test_a_routing_loop_and_the_dead_end_before_it() -> None:
    # Given: a goes to b, b to c, c back to b: nothing reaches check your answers
    pages = (
        "pages:\n"
        + content_page("a", "    next:\n      - goto: b\n")
        + content_page("b", "    next:\n      - goto: c\n")
        + content_page("c", "    next:\n      - goto: b\n")
    )
    text = service(pages=pages)

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, 'pages:')}: error graph.dead_end pages: No path through the pages reaches "
        "check your answers: nobody can submit an application",
        f"service.yaml:{at(text, 'id: a')}: error graph.dead_end pages[0]: Page `a` is a dead end: no "
        "path from it reaches check your answers or an exit page",
        f"service.yaml:{at(text, 'goto: b', occurrence=2, offset=6)}: error graph.routing_loop pages[2].next[0].goto: "
        "Pages can route in a loop: b -> c (Route forward only; for 'add another', use a group field)",
    ]


def test_a_conditional_route_back_is_still_a_loop() -> None:
    # Given
    pages = QUESTIONS + content_page("b", "    next:\n      - when: owns_car\n        goto: questions\n")
    text = service(pages=pages)

    # When
    result = load(text)

    # Then
    assert [(problem.code, problem.path) for problem in result.problems] == [
        (ProblemCode.GRAPH_ROUTING_LOOP, "pages[1].next[0].goto")
    ]
    assert result.problems[0].message == "Pages can route in a loop: questions -> b"


def test_constant_false_conditions_are_warnings_and_constant_determinants_fold() -> None:
    # Given: a determinant that reads no field, used by a page and a route
    determinants = "determinants:\n  - id: launched\n    expression: 1 > 2\n"
    pages = (
        QUESTIONS
        + content_page("new", "    when: launched\n")
        + content_page("end-page", "    next:\n      - when: '!launched && false'\n        goto: questions\n")
    )
    text = service(determinants=determinants, pages=pages)

    # When
    result = load(text)

    # Then: no error (the never-shown page is not "unreachable", the route back never loops)
    assert formatted(result) == [
        f"service.yaml:{at(text, 'when: launched', offset=6)}: warning graph.constant_condition pages[1].when: This "
        "condition is always false: page `new` is never shown",
        f"service.yaml:{at(text, '!launched', offset=-1)}: warning graph.constant_condition pages[2].next[0].when: "
        "This condition is always false: the route to `questions` is never taken",
    ]
    assert result.ok


def test_a_route_after_an_unconditional_one_is_never_taken() -> None:
    # Given
    pages = QUESTIONS + "    next:\n      - goto: check-answers\n      - when: owns_car\n        goto: questions\n"
    text = service(pages=pages)

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, '- when: owns_car', offset=2)}: warning graph.unreachable_route pages[0].next[1]: "
        "This route is never taken: an earlier route of the page always applies"
    ]


def test_a_condition_reading_a_later_answer_is_a_forward_reference() -> None:
    # Given: page "car" is shown by a condition on a question asked after it
    pages = "pages:\n" + content_page("car", "    when: owns_car\n") + QUESTIONS.removeprefix("pages:\n")
    text = service(pages=pages)

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, 'when: owns_car', offset=6)}: warning graph.forward_reference pages[0].when: This "
        "condition reads `owns_car`, not answered yet when page `car` is shown: it is null then (Ask for it on an "
        "earlier page)"
    ]


def test_an_exit_page_may_not_have_fields() -> None:
    # Given
    text = service(pages=PAGES.replace("    fields:", "    exit: true\n    fields:"))

    # When
    result = load(text)

    # Then: and with the only page an exit, nobody can submit
    assert formatted(result) == [
        f"service.yaml:{at(text, 'pages:')}: error graph.dead_end pages: No path through the pages reaches "
        "check your answers: nobody can submit an application",
        f"service.yaml:{at(text, 'fields:')}: error graph.invalid_exit_page pages[0].fields: Exit "
        "page `name` ends the journey, so it cannot have `fields` (Remove `exit: true`, or move the fields to "
        "another page)",
    ]


# --- fields ------------------------------------------------------------------------------------


def choice_page(options: str) -> str:
    return (
        "pages:\n  - id: p\n    title: P\n    fields:\n      - id: colour\n        type: radios\n"
        "        label: Colour\n        classification: public\n" + options
    )


def test_a_choice_field_needs_options() -> None:
    # Given
    text = service(pages=choice_page(""))

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, 'id: colour')}: error field.options pages[0].fields[0]: Field `colour` needs "
        "`options` or `options_from` (a catalogue id)"
    ]


def test_a_choice_field_may_not_have_both_options_and_a_catalogue() -> None:
    # Given
    text = service(
        pages=choice_page(
            "        options_from: colours\n        options:\n          - value: red\n            label: Red\n"
        )
    )

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, 'id: colour')}: error field.options pages[0].fields[0]: Field `colour` has both "
        "`options` and `options_from` (Keep one of them)"
    ]


def test_option_values_are_unique_and_exclusive_is_for_checkboxes() -> None:
    # Given
    text = service(
        pages=choice_page(
            "        options:\n          - value: red\n            label: Red\n          - value: red\n"
            "            label: Scarlet\n            exclusive: true\n"
        )
    )

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, 'red', occurrence=2)}: error field.duplicate_option pages[0].fields[0].options[1]"
        ".value: The option value `red` is already used by options[0]",
        f"service.yaml:{at(text, 'true', occurrence=1)}: error field.options pages[0].fields[0].options[1].exclusive:"
        " `exclusive` applies to checkboxes only",
    ]


def test_an_invalid_pattern_points_at_the_character() -> None:
    # Given
    text = service(pages=PAGES + "        validation:\n          pattern: '^[A-Z]+(abc$'\n")

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, '(abc', offset=0)}: error field.invalid_pattern pages[0].fields[0].validation"
        ".pattern: The regular expression does not compile: missing ), unterminated subpattern (at character 8)"
    ]


def test_a_minimum_above_the_maximum_is_an_invalid_range() -> None:
    # Given
    text = service(pages=PAGES + "        validation:\n          min_length: 10\n          max_length: 5\n")

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, '10')}: error field.invalid_range pages[0].fields[0].validation.min_length: "
        "`min_length` (10) is greater than `max_length` (5): no answer can pass"
    ]


def test_date_bounds_in_the_wrong_order_are_an_invalid_range() -> None:
    # Given
    date_page = (
        "pages:\n  - id: p\n    title: P\n    fields:\n      - id: start\n        type: date\n        label: Start\n"
        "        classification: public\n        validation:\n          after: '2025-06-01'\n"
        "          before: '2025-01-01'\n"
    )
    text = service(pages=date_page)

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, chr(39) + '2025-06-01')}: error field.invalid_range pages[0].fields[0].validation"
        ".after: `after` (2025-06-01) is not before `before` (2025-01-01): no date can pass"
    ]


def test_a_message_for_a_rule_the_field_lacks_is_a_warning() -> None:
    # Given
    text = service(pages=PAGES + "        validation:\n          messages:\n            max_length: Too long\n")

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, 'max_length')}: warning field.unused_message pages[0].fields[0].validation.messages"
        ".max_length: The `max_length` message is never shown: the field has no `max_length` rule"
    ]


def test_a_group_inside_a_group_is_refused() -> None:
    # Given
    group = (
        "pages:\n  - id: p\n    title: P\n    fields:\n      - id: outer\n        type: group\n        label: Outer\n"
        "        item_label: item\n        classification: public\n        fields:\n          - id: inner\n"
        "            type: group\n            label: Inner\n            item_label: thing\n"
        "            classification: public\n            fields:\n              - id: leaf\n"
        "                type: text\n                label: Leaf\n                classification: public\n"
    )
    text = service(pages=group)

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, 'group', occurrence=2)}: error field.nested_group pages[0].fields[0].fields[0].type:"
        " Group `inner` is inside group `outer`: groups cannot be nested (Ask for the inner list on its own page, or "
        "flatten it into the outer group)"
    ]


# --- registrations -----------------------------------------------------------------------------


def registration(body: str, registration_id: str = "permit") -> str:
    return f"  - id: {registration_id}\n    name: Permit\n    institution: council\n" + body


def test_a_fee_needs_exactly_one_of_amount_and_formula() -> None:
    # Given
    fees = (
        "    fees:\n      - id: none\n        name: None\n      - id: both\n        name: Both\n        amount: 100\n"
        "        formula: '200'\n"
    )
    text = service(registrations="registrations:\n" + registration(fees))

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, 'id: none')}: error registration.fee_amount registrations[0].fees[0]: Fee `none` "
        "needs an `amount` (in minor units) or a `formula` (For example `amount: 2500` for 25.00)",
        f"service.yaml:{at(text, 'id: both')}: error registration.fee_amount registrations[0].fees[1]: Fee `both` has "
        "both `amount` and `formula` (Keep one of them)",
    ]


def test_a_result_without_a_template_is_an_error() -> None:
    # Given
    text = service(
        registrations="registrations:\n" + registration("    results:\n      - id: licence\n        name: Licence\n")
    )

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, 'id: licence')}: error registration.result_without_template registrations[0]"
        ".results[0]: Result `licence` has no `template`: nothing can be issued (Add `template:` with the path of "
        "the certificate template)"
    ]


def test_a_shared_document_merges_but_must_agree_on_delivery() -> None:
    # Given: the same document in two registrations; the second asks for it differently
    document = "    documents:\n      - id: passport\n        name: Passport\n        delivery: {delivery}\n"
    text = service(
        registrations="registrations:\n"
        + registration(document.format(delivery="upload"), "first")
        + registration(document.format(delivery="upload"), "second")
        + registration(document.format(delivery="counter"), "third")
    )

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, 'counter')}: error registration.document_conflict registrations[2].documents[0]"
        ".delivery: Document `passport` is also required by registrations[0] with delivery `upload`, here `counter`:"
        " a shared document is asked for once (Use the same delivery mode, or give the documents different ids)"
    ]


def test_fee_ids_are_unique_across_registrations() -> None:
    # Given
    fee = "    fees:\n      - id: fee\n        name: Fee\n        amount: 100\n"
    text = service(registrations="registrations:\n" + registration(fee, "first") + registration(fee, "second"))

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, 'id: fee', occurrence=2, offset=4)}: error definition.duplicate_id registrations[1]"
        f".fees[0].id: Another fee already has the id `fee` (registrations[0].fees[0], line "
        f"{at(text, 'id: fee').split(':')[0]})"
    ]


# --- the flow -----------------------------------------------------------------------------------


def flow(roles: str) -> str:
    return "flow:\n  roles:\n" + roles


def role(role_id: str, decisions: str, extra: str = "") -> str:
    return (
        f"    - id: {role_id}\n      name: {role_id}\n      institution: council\n{extra}"
        f"      decisions: {{{decisions}}}\n"
    )


def test_a_decision_leading_to_an_unknown_role_suggests_the_nearest() -> None:
    # Given
    text = service(flow=flow(role("officer", "approve: manger") + role("manager", "approve: end")))

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, 'manger')}: error flow.unknown_role flow.roles[0].decisions.approve: `approve` leads "
        "to `manger`, which is not a role (Did you mean `manager`?)",
    ]


def test_approvals_going_round_in_a_loop_never_end() -> None:
    # Given
    text = service(flow=flow(role("officer", "approve: manager") + role("manager", "approve: officer")))

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, 'roles:')}: error flow.no_end flow.roles: No sequence of decisions "
        "ends the processing: every path returns to a role (Let some decision lead to `end` (or to `next` from the "
        "last role))",
        f"service.yaml:{at(text, '{approve: manager}')}: error flow.loop flow.roles[0].decisions: Approving or "
        "rejecting can go round in a loop: officer -> manager -> officer (Only `send_back` may lead to an earlier "
        "role)",
    ]


def test_send_back_to_an_earlier_role_is_not_a_loop() -> None:
    # Given
    text = service(flow=flow(role("officer", "approve: next") + role("manager", "approve: end, send_back: officer")))

    # When
    result = load(text)

    # Then
    assert result.problems == []


def test_a_bot_needs_a_rule_that_records_allowed_decisions() -> None:
    # Given
    text = service(flow=flow(role("bot", "approve: end", "      kind: bot\n      on_false: send_back\n")))

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, 'id: bot')}: error flow.bot_rule flow.roles[0]: Bot role `bot` has no `rule`: a bot "
        "decides by a CEL condition",
        f"service.yaml:{at(text, 'send_back')}: error flow.unknown_decision flow.roles[0].on_false: `on_false` "
        "records `send_back`, which role `bot` does not allow (Add `send_back` to its decisions)",
    ]


def test_a_human_role_has_no_rule() -> None:
    # Given
    text = service(flow=flow(role("officer", "approve: end", "      rule: 'true'\n")))

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, 'rule')}: error flow.bot_rule flow.roles[0].rule: Role `officer` is human: only bot "
        "roles have a `rule` (Add `kind: bot`, or remove the rule)"
    ]


def test_a_role_must_allow_a_decision() -> None:
    # Given
    text = service(flow=flow(role("officer", "")))

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, 'roles:')}: error flow.no_end flow.roles: No sequence of decisions "
        "ends the processing: every path returns to a role (Let some decision lead to `end` (or to `next` from the "
        "last role))",
        f"service.yaml:{at(text, '{}')}: error flow.unknown_decision flow.roles[0].decisions: Role `officer` allows "
        "no decision: give at least one of approve, reject, send_back",
    ]


# --- notifications and text ------------------------------------------------------------------------


def notification(body: str) -> str:
    return f"notifications:\n  submitted:\n    email:\n      subject: Received ((reference))\n      body: {body}\n"


def test_an_unknown_placeholder_suggests_the_nearest() -> None:
    # Given
    text = service(notifications=notification("'Dear ((full_nme)), see ((link)).'"))

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, '((full_nme')}: error notification.unknown_placeholder notifications.submitted.email"
        ".body: `((full_nme))` is not a field or a placeholder this notification has (Did you mean `((full_name))`?)"
    ]


def test_a_placeholder_of_another_event_is_unknown_here() -> None:
    # Given: ((reason)) belongs to sent_back and decision_made
    text = service(notifications=notification("'Because ((reason))'"))

    # When
    result = load(text)

    # Then
    assert [(problem.code, problem.message) for problem in result.problems] == [
        (
            ProblemCode.NOTIFICATION_UNKNOWN_PLACEHOLDER,
            "`((reason))` is not a field or a placeholder this notification has",
        )
    ]


def test_an_optional_text_needs_a_determinant_or_yes_no_flag() -> None:
    # Given
    text = service(notifications=notification("'((full_name??Hello))'"))

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, '((full_name??')}: error notification.unknown_placeholder notifications.submitted"
        ".email.body: `full_name` in ((…??…)) must be a determinant or a yes/no field"
    ]


def test_malformed_placeholders_are_located() -> None:
    # Given
    text = service(notifications=notification("'Hi (()) and ((full_name'"))

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, '(())')}: error notification.malformed_placeholder notifications.submitted.email"
        ".body: The placeholder is empty (Write placeholders as ((name)) or ((flag??optional text)))",
        f"service.yaml:{at(text, '((full_name')}: error notification.malformed_placeholder notifications.submitted"
        ".email.body: `((` is not closed by `))` (Write placeholders as ((name)) or ((flag??optional text)))",
    ]


def test_special_category_data_in_a_notification_is_a_warning() -> None:
    # Given
    text = service(
        pages=PAGES.replace("classification: personal", "classification: special_category"),
        notifications=notification("'Dear ((full_name))'"),
    )

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, '((full_name))')}: warning notification.special_category notifications.submitted"
        ".email.body: `full_name` is special category data: email and text messages are not secure enough to carry "
        "it (Link to the application instead with ((link)))"
    ]


def test_welsh_placeholders_are_checked_in_their_own_text() -> None:
    # Given
    body = "\n        en: Dear ((full_name))\n        cy: Annwyl ((enw))"
    text = service(notifications=notification(body))

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, '((enw))')}: error notification.unknown_placeholder notifications.submitted.email"
        ".body.cy: `((enw))` is not a field or a placeholder this notification has"
    ]


def test_a_welsh_service_with_english_only_text_is_warned_once() -> None:
    # Given
    text = service(top="languages: [en, cy]\n").replace(
        "title: Minimal service", "title: {en: Minimal service, cy: Gwasanaeth lleiaf}"
    )

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, 'The least')}: warning text.missing_translation summary: 5 text(s) have no Welsh "
        "(cy) version, the first at summary; English is shown instead (Write text as {en: ..., cy: ...})"
    ]


def test_a_role_no_decision_leads_to_is_a_warning() -> None:
    # Given: the officer's decisions all end the processing
    text = service(flow=flow(role("officer", "approve: end, reject: end") + role("manager", "approve: end")))

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, 'id: manager')}: warning flow.unreachable_role flow.roles[1]: No decision leads to "
        "role `manager`: it never gets a task"
    ]
    assert result.ok


def test_a_skipped_role_leads_on_to_the_next() -> None:
    # Given: the manager may be skipped, so the issuer after it is reached too
    roles = (
        role("officer", "approve: manager")
        + role("manager", "approve: next", "      when: owns_car\n")
        + role("issuer", "approve: end")
    )
    text = service(pages=QUESTIONS, flow=flow(roles))

    # When
    result = load(text)

    # Then
    assert result.problems == []


def test_comprehensions_nested_three_deep_are_too_complex_and_not_evaluated() -> None:
    # Given: three levels over ten-item lists would be 1,000 evaluations here, and hours with a few more levels
    ten = "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]"
    expression = f"{ten}.all(a, {ten}.exists(b, {ten}.map(c, c * a * b).size() > 0))"
    text = service(determinants=f"determinants:\n  - id: busy\n    expression: '{expression}'\n")

    # When
    result = load(text)

    # Then
    assert formatted(result) == [
        f"service.yaml:{at(text, 'map(c')}: error cel.too_complex determinants[0].expression: Comprehensions (map, "
        "filter, all, exists) are nested 3 deep; at most 2 are allowed, since each level multiplies the work (Split "
        "the expression into determinants)"
    ]


def test_two_levels_of_comprehension_are_allowed() -> None:
    # Given
    expression = "[1, 2].all(a, [3, 4].exists(b, a < b))"
    text = service(determinants=f"determinants:\n  - id: fine\n    expression: '{expression}'\n")

    # When
    result = load(text)

    # Then
    assert result.problems == []


def test_a_condition_on_today_is_not_constant() -> None:
    # Given: a page for a scheme that opens in the future (false today, true later)
    opens = 'today() >= timestamp("2999-01-01T00:00:00Z")'
    determinants = f"determinants:\n  - id: scheme_open\n    expression: '{opens}'\n"
    pages = QUESTIONS + content_page("scheme", "    when: scheme_open\n")
    text = service(determinants=determinants, pages=pages)

    # When
    result = load(text)

    # Then
    assert result.problems == []


def test_a_pattern_the_regex_engine_accepts_is_valid() -> None:
    # Given: a Unicode letter class, which Python's re lacks but the matching engine has
    text = service(pages=PAGES + "        validation:\n          pattern: '^[\\p{L} -]+$'\n")

    # When
    result = load(text)

    # Then
    assert result.problems == []

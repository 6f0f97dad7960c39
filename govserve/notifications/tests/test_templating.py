import pytest
from hypothesis import given
from hypothesis import strategies as st

from govserve.notifications.errors import PlaceholderMissingError, PlaceholderValueError, TemplateSyntaxError
from govserve.notifications.templating import Placeholder, compile_text, render

NOT_A_PLACEHOLDER = "is not a placeholder: use letters, digits and underscores, starting with a letter"


def test_placeholders_are_replaced_by_their_values() -> None:
    text = "Dear ((first_name)), your reference is ((reference))."

    result = render(text, {"first_name": "Ada", "reference": "HX7D-94MC", "unused": "ignored"})

    assert result == "Dear Ada, your reference is HX7D-94MC."


def test_spaces_inside_the_brackets_are_allowed() -> None:
    assert render("Hello (( name ))!", {"name": "Ada"}) == "Hello Ada!"


def test_a_missing_value_is_an_error_naming_every_missing_placeholder() -> None:
    text = "((greeting)) ((name)), pay ((amount)) ((paid??thanks))"

    with pytest.raises(PlaceholderMissingError) as raised:
        render(text, {"greeting": "Hello"})

    assert raised.value.code == "email_placeholder_missing"
    assert raised.value.extra["missing"] == ["amount", "name", "paid"]
    assert str(raised.value) == "No value for the placeholders amount, name, paid"


def test_an_empty_string_is_a_value_but_none_is_missing() -> None:
    assert render("[((a))]", {"a": ""}) == "[]"
    with pytest.raises(PlaceholderMissingError):
        render("[((a))]", {"a": None})  # type: ignore[dict-item]


def test_a_value_that_is_not_text_is_refused() -> None:
    with pytest.raises(PlaceholderValueError) as raised:
        render("((count)) items", {"count": 3})  # type: ignore[dict-item]

    assert str(raised.value) == "The value for count must be text, not int"


@pytest.mark.parametrize(
    ("flag", "expected"),
    [("yes", "A. Paid. B."), ("YES", "A. Paid. B."), ("true", "A. Paid. B."), ("no", "A.  B."), ("False", "A.  B.")],
)
def test_conditional_text_is_shown_for_yes_and_hidden_for_no(flag: str, expected: str) -> None:
    assert render("A. ((paid??Paid.)) B.", {"paid": flag}) == expected


def test_a_flag_that_is_neither_yes_nor_no_is_refused() -> None:
    with pytest.raises(PlaceholderValueError) as raised:
        render("((paid??Paid.))", {"paid": "maybe"})

    assert raised.value.extra["name"] == "paid"


def test_blank_lines_left_by_hidden_text_collapse_to_one() -> None:
    text = "First.\n\n((extra??An optional paragraph.))\n\nLast."

    assert render(text, {"extra": "no"}) == "First.\n\nLast."
    assert render(text, {"extra": "yes"}) == "First.\n\nAn optional paragraph.\n\nLast."


def test_blank_lines_of_the_template_itself_are_kept_when_nothing_is_hidden() -> None:
    assert render("A\n\n\n\nB ((x))", {"x": "y"}) == "A\n\n\n\nB y"


def test_values_are_inserted_once_and_never_expanded_again() -> None:
    result = render("Hello ((name))", {"name": "((secret))", "secret": "leaked"})

    assert result == "Hello ((secret))"


def test_compiled_text_lists_placeholders_and_flags_separately() -> None:
    compiled = compile_text("((a)) ((b??text)) ((a)) ((c))")

    assert compiled.placeholders == frozenset({"a", "c"})
    assert compiled.flags == frozenset({"b"})
    assert compiled.names == frozenset({"a", "b", "c"})
    assert compiled.parts[2] == Placeholder(name="b", conditional_text="text")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Hello ((name", "'((' at character 7 has no closing '))'"),
        ("((a)) then ((", "'((' at character 12 has no closing '))'"),
        (
            "(())",
            f"'(())' at character 1 {NOT_A_PLACEHOLDER}",
        ),
        (
            "((first name))",
            f"'((first name))' at character 1 {NOT_A_PLACEHOLDER}",
        ),
        (
            "((1st))",
            f"'((1st))' at character 1 {NOT_A_PLACEHOLDER}",
        ),
        ("((a ((b))", "Placeholders cannot be nested (character 1)"),
        (
            "((??text))",
            f"'((??text))' at character 1 {NOT_A_PLACEHOLDER}",
        ),
    ],
)
def test_malformed_text_is_refused_when_compiled(text: str, message: str) -> None:
    with pytest.raises(TemplateSyntaxError) as raised:
        compile_text(text)

    assert str(raised.value) == message


def test_a_lone_closing_pair_is_ordinary_text() -> None:
    assert render("Fee (paid (in full))", {}) == "Fee (paid (in full))"


@given(st.text().filter(lambda text: "((" not in text))
def test_text_without_placeholders_renders_unchanged(text: str) -> None:
    assert render(text, {}) == text


@given(st.text(), st.text())
def test_any_value_is_inserted_verbatim(before: str, value: str) -> None:
    prefix = before.replace("(", "[")
    assert render(prefix + "((x))", {"x": value}) == prefix + value

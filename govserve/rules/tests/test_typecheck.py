"""Type checking by evaluation against typed samples."""

from __future__ import annotations

import datetime as dt

import pytest

from govserve.rules import (
    ExpressionTypeError,
    build_context,
    check_expression_types,
    compile_expression,
    ensure_expression_types,
    evaluate,
    sample_value,
)
from govserve.rules.typecheck import FIELD_TYPES

SAMPLES = {
    "fee_per_day": sample_value("number", decimal=True),
    "days": sample_value("number"),
    "annual_fee": sample_value("money"),
    "date_of_birth": sample_value("date"),
    "name": sample_value("text"),
    "agree": sample_value("yes_no"),
    "resident": True,
    "interests": sample_value("checkboxes"),
    "home": sample_value("address"),
    "photo": sample_value("file"),
    "children": sample_value("group", children={"name": "text", "income": "money", "born": "date"}),
}


@pytest.mark.parametrize(
    ("field_type", "expression", "cel_type"),
    [
        ("text", "name", "string"),
        ("long_text", "x", "string"),
        ("email", "x", "string"),
        ("phone", "x", "string"),
        ("postcode", "x", "string"),
        ("radios", "x", "string"),
        ("select", "x", "string"),
        ("number", "x", "int"),
        ("money", "x", "int"),
        ("date", "x", "google.protobuf.Timestamp"),
        ("yes_no", "x", "bool"),
        ("checkboxes", "x", "list"),
        ("address", "x", "map"),
        ("file", "x", "map"),
        ("group", "x", "list"),
    ],
)
def test_each_field_type_has_a_sample_of_its_cel_type(field_type: str, expression: str, cel_type: str) -> None:
    context = build_context({"x": sample_value(field_type), "name": sample_value("text")})

    assert evaluate(compile_expression(f"type({expression})"), context) == cel_type


def test_field_types_cover_the_product_vocabulary() -> None:
    product_vocabulary = {
        "text", "long_text", "number", "money", "date", "yes_no", "radios", "checkboxes", "select", "email",
        "phone", "postcode", "address", "file", "group",
    }  # fmt: skip

    assert product_vocabulary == FIELD_TYPES


def test_samples_have_exact_shapes() -> None:
    assert sample_value("number", decimal=True) == 2.5
    assert sample_value("date") == dt.date(1990, 5, 17)
    assert set(sample_value("address")) == {"line1", "line2", "town", "county", "postcode", "country"}
    assert sample_value("file") == {"name": "evidence.pdf", "size": 102_400, "content_type": "application/pdf"}
    assert sample_value("group", children={"n": "number", "sub": "group"}) == [{"n": 3, "sub": []}, {"n": 3, "sub": []}]
    assert sample_value("group") == []


def test_an_unknown_field_type_is_refused() -> None:
    with pytest.raises(ValueError, match="Unknown field type 'nmber'; known types: address, checkboxes"):
        sample_value("nmber")


@pytest.mark.parametrize(
    ("source", "expect"),
    [
        ("age(date_of_birth) >= 18 && resident", bool),
        ("round_half_up(fee_per_day * double(days), 0)", int),
        ("annual_fee * days / 365", int),
        ("sum(children.map(c, c.income)) > annual_fee", bool),
        ('home.postcode.startsWith("SW")', bool),
        ("photo.size < 5 * 1024 * 1024", bool),
        ('"sports" in interests', bool),
        ("children.exists(c, age(c.born) < 5)", bool),
        ("fee_per_day * 2.0", float),
        ("name", None),
        ("days / (days - 3) > 1", bool),  # division by zero with the samples is not a type fault
    ],
)
def test_well_typed_expressions_pass(source: str, expect: type | None) -> None:
    assert check_expression_types(compile_expression(source), SAMPLES, expect=expect) is None


@pytest.mark.parametrize(
    ("source", "expect", "message"),
    [
        (
            "fee_per_day * days",
            int,
            "`fee_per_day * days` mixes int and double (`fee_per_day` is a double, `days` is an int): "
            "convert with double(...) or int(...)",
        ),
        (
            "fee_per_day * double(days)",
            int,
            "This must give an int (a whole amount), but it gives a double: round it with round_half_up(x, 0)",
        ),
        (
            "days > 1 && name",
            bool,
            "`days > 1 && name`: `&&` needs true or false on both sides, but `name` is a string",
        ),
        ("annual_fee", bool, "This must give true or false, but it gives an int"),
        ("resident", int, "This must give an int, but it gives a bool"),
        ("age(name) > 18", bool, "`age(name)`: age() needs a date, got string"),
        ("nationality == 'GB'", bool, "Unknown name `nationality`: no field, determinant or function is called that"),
        (
            "children.exists(c, c.income > c.name)",
            bool,
            "`c.income > c.name` cannot compare an int with a string: convert one with int(...), double(...) or "
            "string(...)",
        ),
        # only reached when `resident` is false: the second, flipped run finds it
        (
            "resident || name + 1 == 2",
            bool,
            "`name + 1` cannot apply `+` to a string and an int: "
            "convert explicitly with int(...), double(...) or string(...)",
        ),
    ],
)
def test_type_faults_give_specific_messages(source: str, expect: type | None, message: str) -> None:
    assert check_expression_types(compile_expression(source), SAMPLES, expect=expect) == message


def test_branches_the_samples_never_take_are_not_checked() -> None:
    # documented limit: `days > 100` is false for the sample and for its flipped run alike
    assert check_expression_types(compile_expression('days > 100 ? name + 1 : "ok"'), SAMPLES) is None


def test_ensure_expression_types_raises_the_typed_error() -> None:
    expression = compile_expression("annual_fee * 1.5", location="svc.yaml:88:14")

    ensure_expression_types(compile_expression("annual_fee * 2"), SAMPLES, expect=int)
    with pytest.raises(ExpressionTypeError) as raised:
        ensure_expression_types(expression, SAMPLES, expect=int)

    assert raised.value.code == "expression_type_error"
    assert (raised.value.expression, raised.value.location) == ("annual_fee * 1.5", "svc.yaml:88:14")
    assert raised.value.message == (
        "`annual_fee * 1.5` mixes int and double (`annual_fee` is an int, `1.5` is a double): "
        "convert with double(...) or int(...)"
    )

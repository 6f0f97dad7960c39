"""Names an expression reads, and the syntax tree used for diagnosis."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govserve.rules import compile_expression
from govserve.rules.names import free_identifiers, inline_today
from govserve.rules.syntax import Node, parse


@pytest.mark.parametrize(
    ("source", "names"),
    [
        ("a + b", {"a", "b"}),
        ("a.b.c", {"a"}),
        ("f(a, b.c)", {"a", "b"}),
        ("a.exists(x, x > limit)", {"a", "limit"}),
        ("a.map(x, b.map(y, x + y + z))", {"a", "b", "z"}),
        ("a.map(x, x > 0, x * 2)", {"a"}),
        ("x.map(x, x)", {"x"}),
        ("a.all(x, x) && x", {"a", "x"}),
        ("has(a.b) ? c : d", {"a", "c", "d"}),
        ("type(a) == int || type(b) == string", {"a", "b"}),
        ("[a, {'k': b}][0]", {"a", "b"}),
        ("{k: v}", {"k", "v"}),
        ("'a' + \"b\" + r'c' + b'd' + '''e\nf'''", set()),
        ("'it\\'s' == name // a comment mentioning other", {"name"}),
        ("true && false || null == a", {"a"}),
        ("1u + 0x1F + 1.5e3 + .5 > a", {"a"}),
    ],
)
def test_free_identifiers(source: str, names: set[str]) -> None:
    assert free_identifiers(source) == names


def _shape(node: Node, source: str) -> object:
    text = source[node.start : node.end]
    if not node.children:
        return text
    return (node.kind, node.text, text, [_shape(child, source) for child in node.children])


def test_parse_respects_precedence_and_spans() -> None:
    source = "a || b && c == d + e * -f"

    tree = parse(source)

    assert tree is not None
    assert _shape(tree, source) == (
        "binary",
        "||",
        source,
        [
            "a",
            (
                "binary",
                "&&",
                "b && c == d + e * -f",
                [
                    "b",
                    (
                        "binary",
                        "==",
                        "c == d + e * -f",
                        [
                            "c",
                            (
                                "binary",
                                "+",
                                "d + e * -f",
                                ["d", ("binary", "*", "e * -f", ["e", ("unary", "-", "-f", ["f"])])],
                            ),
                        ],
                    ),
                ],
            ),
        ],
    )


def test_parse_keeps_parentheses_in_spans_and_reads_calls_and_macros() -> None:
    source = "(x.size() + 1) * sum(kids.map(k, k.income)) > (-9223372036854775808)"

    tree = parse(source)

    assert tree is not None
    left, right = tree.children
    assert source[left.start : left.end] == "(x.size() + 1) * sum(kids.map(k, k.income))"
    product_left, product_right = left.children
    assert (product_left.kind, source[product_left.start : product_left.end]) == ("binary", "(x.size() + 1)")
    assert product_left.children[0].kind == "call"
    assert product_left.children[0].receiver is True
    assert product_right.kind == "call"
    macro = product_right.children[0]
    assert (macro.kind, macro.text, macro.variable) == ("macro", "map", "k")
    assert [source[c.start : c.end] for c in macro.children] == ["kids", "k.income"]
    assert (right.kind, right.text) == ("literal", "-9223372036854775808")


def test_parse_ternary_index_list_map_and_has() -> None:
    source = "has(m.k) ? [1, 2][i] : {'a': 1}['a']"

    tree = parse(source)

    assert tree is not None
    assert tree.kind == "ternary"
    assert [child.kind for child in tree.children] == ["has", "index", "index"]


@pytest.mark.parametrize("source", ["Msg{a: 1}", "a.?b", "1 +", "(a"])
def test_parse_gives_up_on_what_it_does_not_understand(source: str) -> None:
    assert parse(source) is None


@pytest.mark.parametrize(
    ("source", "rewritten"),
    [
        ("d < today()", "d < _today_"),
        ("d < today( ) && e > today()", "d < _today_  && e > _today_"),
        ("x.today()", "x.today()"),
        ("'today()' == s", "'today()' == s"),
        ("today(1)", "today(1)"),
        ("age(d) > 1", "age(d) > 1"),
    ],
)
def test_inline_today_replaces_calls_keeping_their_length(source: str, rewritten: str) -> None:
    result = inline_today(source)

    assert result == rewritten
    if result != source:
        assert len(result) == len(source)


NAMES = ["a", "b", "c", "x", "y"]


def _free_in_tree(node: Node, bound: frozenset[str]) -> set[str]:
    """An independent oracle: free names from the syntax tree, scoping macro variables."""
    if node.kind == "ident":
        return set() if node.text in bound else {node.text}
    if node.kind == "macro":
        range_node, *body = node.children
        inner = bound | {node.variable or ""}
        return _free_in_tree(range_node, bound).union(*(_free_in_tree(child, inner) for child in body))
    return set().union(*(_free_in_tree(child, bound) for child in node.children))


expressions = st.recursive(
    st.sampled_from(NAMES) | st.sampled_from(["1", "2.5", '"s"', "true", "null"]),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["+", "*", "&&", "||", "==", "<"]), inner).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        st.tuples(inner, st.sampled_from(["exists", "all", "map", "filter"]), st.sampled_from(NAMES), inner).map(
            lambda t: f"{t[0]}.{t[1]}({t[2]}, {t[3]})"
        ),
        st.tuples(inner, st.sampled_from(["f", "size"])).map(lambda t: f"{t[1]}({t[0]})"),
        st.tuples(inner, st.sampled_from(["k", "size()"])).map(lambda t: f"{t[0]}.{t[1]}"),
        st.tuples(inner, inner, inner).map(lambda t: f"({t[0]} ? {t[1]} : {t[2]})"),
        st.lists(inner, max_size=3).map(lambda items: "[" + ", ".join(items) + "]"),
    ),
    max_leaves=12,
)


@given(expressions)
def test_references_agree_with_the_syntax_tree(source: str) -> None:
    # given an expression the CEL library accepts
    tree = parse(source)
    assert tree is not None

    # then the compiled references are exactly the free names of its tree
    assert compile_expression(source).references == _free_in_tree(tree, frozenset())

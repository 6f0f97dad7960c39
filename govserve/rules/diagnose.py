"""Find the subexpression at fault when an expression fails, and say what is wrong with it.

The CEL library reports a type fault without saying where ("No such overload",
or "Unsupported operation: int * float"). When an evaluation fails with a type
or null fault, the engine calls :func:`diagnose`, which walks the expression's
syntax tree (:mod:`govserve.rules.syntax`), evaluates subexpressions in the
same context and returns a message about the innermost failing one whose own
operands evaluate, quoting it: "`fee_per_day * days` mixes int and double
(`fee_per_day` is a double, `days` is an int): convert with double(...) or
int(...)". Inside comprehensions the bound variable takes each item of the
range in turn. This runs only on the error path; it never changes whether an
evaluation fails, only what the message says.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any, NamedTuple

import cel

from govserve.rules.functions import CEL_BUILTIN_FUNCTIONS, FunctionArgumentError, FunctionState
from govserve.rules.syntax import Node, parse
from govserve.rules.values import cel_type_name

_CEL_FAILURES = (RuntimeError, TypeError, ValueError, ArithmeticError, LookupError)
_ARITHMETIC = frozenset({"+", "-", "*", "/", "%"})
_ORDERING = frozenset({"<", "<=", ">", ">="})
_MAX_ITEMS_TRIED = 20
_FUNCTION_FAILED = re.compile(
    r"Function '([^']*)' error: (.*?)(?:\. Check function arguments and their types\.)?$", re.DOTALL
)


class _Failed:
    """The outcome of a subexpression that failed; ``function_error`` is a platform function's refusal."""

    __slots__ = ("error", "function_error")

    def __init__(self, error: BaseException, function_error: FunctionArgumentError | None) -> None:
        self.error = error
        self.function_error = function_error


class _Evaluator:
    def __init__(self, source: str, cel_context: cel.Context, state: FunctionState) -> None:
        self.source = source
        self.cel_context = cel_context
        self.state = state

    def text(self, node: Node) -> str:
        return self.source[node.start : node.end]

    def run(self, node: Node, bindings: Mapping[str, Any]) -> Any:
        """Return the value of ``node`` in the context plus ``bindings``, or a _Failed."""
        context = self.cel_context
        if bindings:
            context = cel.Context(
                variables={**self.cel_context.variables, **bindings}, functions=self.cel_context.functions
            )
        program = _compiled(self.text(node))  # ValueError if the span does not parse: diagnose gives up
        self.state.error = None
        try:
            return program.execute(context)
        except _CEL_FAILURES as error:
            function_error = self.state.error if isinstance(self.state.error, FunctionArgumentError) else None
            self.state.error = None
            return _Failed(error, function_error)


@functools.lru_cache(maxsize=1024)
def _compiled(text: str) -> cel.Program:
    return cel.compile(text)


class Diagnosis(NamedTuple):
    """What is wrong: the failure's kind when diagnosis knows it better (``null_value``), and the message."""

    kind: str | None
    message: str


def diagnose(source: str, cel_context: cel.Context, state: FunctionState) -> Diagnosis | None:
    """Return what is wrong with the failing subexpression of ``source``, or None if it cannot be found."""
    tree = parse(source)
    if tree is None:
        return None
    evaluator = _Evaluator(source, cel_context, state)
    try:
        return _locate(evaluator, tree, {})
    except ValueError:  # a subexpression span that the CEL library does not parse: give up
        return None


def _children_to_check(evaluator: _Evaluator, node: Node, bindings: dict[str, Any]) -> list[Node]:
    """Return the children whose failure would explain ``node``'s, in evaluation order."""
    if node.kind == "ternary":
        condition, then, otherwise = node.children
        chosen = evaluator.run(condition, bindings)
        if chosen is True:
            return [condition, then]
        if chosen is False:
            return [condition, otherwise]
        return [condition]
    if node.kind == "has":
        return []
    return list(node.children)


def _locate(evaluator: _Evaluator, node: Node, bindings: dict[str, Any]) -> Diagnosis | None:
    if node.kind == "macro":
        return _locate_in_macro(evaluator, node, bindings)
    if node.kind == "ternary":
        condition = evaluator.run(node.children[0], bindings)
        if not isinstance(condition, _Failed | bool):
            return Diagnosis(
                "null_value" if condition is None else "type_mismatch",
                f"`{evaluator.text(node)}`: the condition `{evaluator.text(node.children[0])}` must be true or "
                f"false, but it is {_a(cel_type_name(condition))}",
            )
    for child in _children_to_check(evaluator, node, bindings):
        if isinstance(evaluator.run(child, bindings), _Failed):
            # A failing child explains the failure only if we can say why it
            # fails; otherwise (say, a name bound by an enclosing macro that
            # this walk does not bind) look further.
            found = _locate(evaluator, child, bindings)
            if found is not None:
                return found
    outcome = evaluator.run(node, bindings)
    if not isinstance(outcome, _Failed):
        return None
    return _describe(evaluator, node, bindings, outcome)


# Macros whose first body argument is a condition on each item
# (``map`` only in its three-argument, filtering form).
_PREDICATE_MACROS = frozenset({"all", "exists", "exists_one", "filter"})


def _locate_in_macro(evaluator: _Evaluator, node: Node, bindings: dict[str, Any]) -> Diagnosis | None:
    range_node, *body = node.children
    items = evaluator.run(range_node, bindings)
    if isinstance(items, _Failed):
        return _locate(evaluator, range_node, bindings)
    if isinstance(items, dict):
        items = list(items)
    if not isinstance(items, list):
        kind = "null_value" if items is None else "type_mismatch"
        return Diagnosis(
            kind,
            f"`{evaluator.text(node)}`: .{node.text}() works on a list or a map, "
            f"but `{evaluator.text(range_node)}` is {_a(cel_type_name(items))}",
        )
    variable = node.variable or ""  # the parser always sets it for a macro
    has_predicate = node.text in _PREDICATE_MACROS or (node.text == "map" and len(body) == 2)
    for item in items[:_MAX_ITEMS_TRIED]:
        inner = {**bindings, variable: item}
        for position, argument in enumerate(body):
            value = evaluator.run(argument, inner)
            if isinstance(value, _Failed):
                found = _locate(evaluator, argument, inner)
                if found is not None:
                    return found
            elif position == 0 and has_predicate and not isinstance(value, bool):
                return Diagnosis(
                    "null_value" if value is None else "type_mismatch",
                    f"`{evaluator.text(node)}`: the condition `{evaluator.text(argument)}` must be true or false "
                    f"for each item, but it is {_a(cel_type_name(value))}",
                )
    outcome = evaluator.run(node, bindings)
    if isinstance(outcome, _Failed):
        return _describe(evaluator, node, bindings, outcome)
    return None


def _describe(evaluator: _Evaluator, node: Node, bindings: dict[str, Any], outcome: _Failed) -> Diagnosis | None:
    """Return what is wrong with ``node``, whose operands all evaluate but which itself fails."""
    text = evaluator.text(node)
    operands = [evaluator.run(child, bindings) for child in node.children]
    if any(isinstance(value, _Failed) for value in operands):
        return None  # the node fails through an operand we could not explain
    types = [cel_type_name(value) for value in operands]
    texts = [evaluator.text(child) for child in node.children]
    for operand_text, type_name in zip(texts, types, strict=True):
        if type_name == "null" and not (node.kind == "binary" and node.text in {"==", "!="}):
            return Diagnosis(
                "null_value",
                f"`{text}`: `{operand_text}` is null (an unanswered field?): "
                f"check it first, e.g. `{operand_text} != null && ...`",
            )
    if outcome.function_error is not None:
        return Diagnosis(outcome.function_error.kind, f"`{text}`: {outcome.function_error.message}")
    message = _DESCRIBERS.get(node.kind, _nothing)(node, text, texts, types, outcome.error)
    return None if message is None else Diagnosis(None, message)


def _nothing(node: Node, text: str, texts: list[str], types: list[str], error: BaseException) -> str | None:
    return None


def _describe_unary(node: Node, text: str, texts: list[str], types: list[str], error: BaseException) -> str:
    needed = "true or false" if node.text == "!" else "a number"
    return f"`{text}`: `{node.text}` needs {needed}, but `{texts[0]}` is {_a(types[0])}"


def _describe_ternary(node: Node, text: str, texts: list[str], types: list[str], error: BaseException) -> str:
    return f"`{text}`: the condition `{texts[0]}` must be true or false, but it is {_a(types[0])}"


def _describe_index(node: Node, text: str, texts: list[str], types: list[str], error: BaseException) -> str:
    return f"`{text}` cannot index {_a(types[0])} with {_a(types[1])}"


def _describe_select(node: Node, text: str, texts: list[str], types: list[str], error: BaseException) -> str:
    return f"`{text}`: `{texts[0]}` is {_a(types[0])}, which has no fields"


def _describe_call(node: Node, text: str, texts: list[str], types: list[str], error: BaseException) -> str | None:
    match = _FUNCTION_FAILED.match(str(error))
    if match:
        return f"`{text}`: {match.group(1)}() failed: {match.group(2).split(chr(10), 1)[0]}"
    if node.text in CEL_BUILTIN_FUNCTIONS:
        return f"`{text}`: {node.text}() does not accept ({', '.join(types) or 'no arguments'})"
    return None


def _describe_binary(  # noqa: PLR0911 - one message per kind of operator
    node: Node, text: str, texts: list[str], types: list[str], error: BaseException
) -> str:
    operator = node.text
    left, right = types
    if "unsigned" in str(error) or (left == right == "int" and isinstance(error, TypeError)):
        # Python has one integer type, so a uint reads back as an int here;
        # two real ints never fail with a type error.
        return f"`{text}` mixes int and uint: convert with int(...) (write 1, not 1u)"
    operands = f"(`{texts[0]}` is {_a(left)}, `{texts[1]}` is {_a(right)})"
    if {left, right} == {"int", "double"} and operator in _ARITHMETIC:
        return f"`{text}` mixes int and double {operands}: convert with double(...) or int(...)"
    if operator in {"&&", "||"}:
        culprit = 0 if left != "bool" else 1
        return (
            f"`{text}`: `{operator}` needs true or false on both sides, but `{texts[culprit]}` is {_a(types[culprit])}"
        )
    if operator in _ORDERING:
        return (
            f"`{text}` cannot compare {_a(left)} with {_a(right)}: "
            "convert one with int(...), double(...) or string(...)"
        )
    if operator == "in":
        return f"`{text}`: `in` needs a list or a map on its right, but `{texts[1]}` is {_a(right)}"
    if operator == "%" and "double" in types:
        return f"`{text}`: `%` works on ints only {operands}: convert with int(...)"
    return (
        f"`{text}` cannot apply `{operator}` to {_a(left)} and {_a(right)}: "
        "convert explicitly with int(...), double(...) or string(...)"
    )


def _a(type_name: str) -> str:
    if type_name == "null":
        return "null"
    return ("an " if type_name[0] in "aeiou" else "a ") + type_name


_DESCRIBERS = {
    "binary": _describe_binary,
    "unary": _describe_unary,
    "ternary": _describe_ternary,
    "index": _describe_index,
    "select": _describe_select,
    "call": _describe_call,
}

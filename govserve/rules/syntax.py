"""A small parser for CEL expressions, giving each subexpression its source span.

The CEL library compiles and evaluates but does not expose its syntax tree.
Diagnosis (:mod:`govserve.rules.diagnose`) needs the tree to find which
subexpression of a failing expression fails and to quote it
("`fee_per_day * days` mixes int and double"). The parser follows the CEL
grammar (operator precedence, member calls, comprehension macros) and is only
ever run on expressions the CEL library has already accepted; where it does
not understand something (message construction, optional syntax) it gives up
and diagnosis falls back to the library's own message.
"""

from __future__ import annotations

from dataclasses import dataclass

from govserve.rules.names import COMPREHENSION_MACROS, Token, tokens

_RELATIONS = frozenset({"<", "<=", ">", ">=", "==", "!=", "in"})


@dataclass(frozen=True, slots=True)
class Node:
    """One subexpression: ``kind``, its operator/name/literal ``text``, its span and children.

    Kinds: ``literal``, ``ident``, ``select`` (``a.b``; text is the field),
    ``call`` (text is the function; with ``receiver`` the first child is the
    receiver of ``x.f(...)``), ``macro`` (a comprehension; children are the
    range and the body arguments; ``variable`` is the bound name), ``has``,
    ``index``, ``unary``, ``binary``, ``ternary``, ``list``, ``map``.
    ``source[start:end]`` is the subexpression's text.
    """

    kind: str
    text: str
    start: int
    end: int
    children: tuple[Node, ...] = ()
    receiver: bool = False
    variable: str | None = None


class UnsupportedSyntaxError(Exception):
    """The parser does not understand the expression (it is not a user-facing error)."""


def parse(source: str) -> Node | None:
    """Return the syntax tree of ``source``, or None where this parser does not understand it."""
    try:
        parser = _Parser(list(tokens(source)))
        node = parser.expression()
        if parser.position != len(parser.tokens):
            raise UnsupportedSyntaxError(f"unexpected {parser.peek()!r}")
    except UnsupportedSyntaxError:
        return None
    return node


def _end(token: Token) -> int:
    return token.offset + len(token.text)


class _Parser:
    def __init__(self, token_list: list[Token]) -> None:
        self.tokens = token_list
        self.position = 0

    def peek(self, ahead: int = 0) -> str:
        index = self.position + ahead
        return self.tokens[index].text if index < len(self.tokens) else ""

    def take(self, expected: str | None = None) -> Token:
        if self.position >= len(self.tokens):
            raise UnsupportedSyntaxError("unexpected end")
        token = self.tokens[self.position]
        if expected is not None and token.text != expected:
            raise UnsupportedSyntaxError(f"expected {expected!r}, found {token.text!r}")
        self.position += 1
        return token

    def expression(self) -> Node:
        condition = self.binary_level(0)
        if self.peek() != "?":
            return condition
        self.take("?")
        then = self.binary_level(0)
        self.take(":")
        otherwise = self.expression()
        return Node("ternary", "?:", condition.start, otherwise.end, (condition, then, otherwise))

    # Binary operators by precedence, loosest first.
    _LEVELS: tuple[frozenset[str], ...] = (
        frozenset({"||"}),
        frozenset({"&&"}),
        _RELATIONS,
        frozenset({"+", "-"}),
        frozenset({"*", "/", "%"}),
    )

    def binary_level(self, level: int) -> Node:
        if level == len(self._LEVELS):
            return self.unary()
        left = self.binary_level(level + 1)
        while self.peek() in self._LEVELS[level]:
            operator = self.take().text
            right = self.binary_level(level + 1)
            left = Node("binary", operator, left.start, right.end, (left, right))
        return left

    def unary(self) -> Node:
        if self.peek() in {"!", "-"}:
            operator = self.take()
            if operator.text == "-" and self.position < len(self.tokens):
                following = self.tokens[self.position]
                # A minus sign directly before a number is part of the literal
                # (-9223372036854775808 is a valid int, its magnitude is not).
                if following.kind == "number" and self.peek(1) not in {".", "["}:
                    self.take()
                    return Node("literal", "-" + following.text, operator.offset, _end(following))
            operand = self.unary()
            return Node("unary", operator.text, operator.offset, operand.end, (operand,))
        return self.member()

    def member(self) -> Node:
        node = self.primary()
        while True:
            if self.peek() == ".":
                self.take(".")
                name = self.take()
                if name.kind != "ident":
                    raise UnsupportedSyntaxError("expected a field or method name")
                if self.peek() != "(":
                    node = Node("select", name.text, node.start, _end(name), (node,))
                    continue
                node = self.call_with_receiver(node, name)
            elif self.peek() == "[":
                self.take("[")
                index = self.expression()
                closing = self.take("]")
                node = Node("index", "[]", node.start, _end(closing), (node, index))
            elif self.peek() == "{":
                raise UnsupportedSyntaxError("message construction is not supported")
            else:
                return node

    def call_with_receiver(self, receiver: Node, name: Token) -> Node:
        self.take("(")
        if name.text in COMPREHENSION_MACROS:
            variable = self.take()
            if variable.kind != "ident":
                raise UnsupportedSyntaxError("expected a comprehension variable")
            self.take(",")
            arguments, closing = self.arguments()
            return Node(
                "macro", name.text, receiver.start, _end(closing), (receiver, *arguments), variable=variable.text
            )
        arguments, closing = self.arguments()
        return Node("call", name.text, receiver.start, _end(closing), (receiver, *arguments), receiver=True)

    def arguments(self) -> tuple[list[Node], Token]:
        """Parse arguments up to and including the closing parenthesis."""
        arguments: list[Node] = []
        while self.peek() != ")":
            arguments.append(self.expression())
            if self.peek() == ",":
                self.take(",")
            elif self.peek() != ")":
                raise UnsupportedSyntaxError("expected ',' or ')'")
        return arguments, self.take(")")

    def primary(self) -> Node:
        token = self.take()
        if token.kind in {"number", "string"} or token.text in {"true", "false", "null"}:
            return Node("literal", token.text, token.offset, _end(token))
        if token.text == "(":
            inner = self.expression()
            closing = self.take(")")
            return Node(
                inner.kind, inner.text, token.offset, _end(closing), inner.children, inner.receiver, inner.variable
            )
        if token.text == "[":
            items, closing = self.sequence("]")
            return Node("list", "[]", token.offset, _end(closing), tuple(items))
        if token.text == "{":
            entries, closing = self.map_entries()
            return Node("map", "{}", token.offset, _end(closing), tuple(entries))
        if token.kind == "ident":
            if self.peek() != "(":
                return Node("ident", token.text, token.offset, _end(token))
            self.take("(")
            arguments, closing = self.arguments()
            kind = "has" if token.text == "has" else "call"
            return Node(kind, token.text, token.offset, _end(closing), tuple(arguments))
        raise UnsupportedSyntaxError(f"unexpected {token.text!r}")

    def sequence(self, closer: str) -> tuple[list[Node], Token]:
        items: list[Node] = []
        while self.peek() != closer:
            items.append(self.expression())
            if self.peek() == ",":
                self.take(",")
            elif self.peek() != closer:
                raise UnsupportedSyntaxError(f"expected ',' or {closer!r}")
        return items, self.take(closer)

    def map_entries(self) -> tuple[list[Node], Token]:
        entries: list[Node] = []
        while self.peek() != "}":
            entries.append(self.expression())
            self.take(":")
            entries.append(self.expression())
            if self.peek() == ",":
                self.take(",")
            elif self.peek() != "}":
                raise UnsupportedSyntaxError("expected ',' or '}'")
        return entries, self.take("}")

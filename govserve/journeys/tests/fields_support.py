"""Helpers for the field component tests: build definition fields and render the macros."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader
from pydantic import TypeAdapter

from govserve.catalogue.definitions import schema
from govserve.journeys.fields import FieldError, parse_field, validate_field
from govserve.rules import EvaluationContext, build_context
from govserve.web.jinja import environment

TODAY = dt.date(2026, 3, 27)
_FIELD = TypeAdapter(schema.FieldDefinition)
TEMPLATES = Path(__file__).resolve().parent.parent / "jinja2"


def make_field(**definition: Any) -> Any:
    """Return a definition field from its YAML-like mapping (classification defaults to personal)."""
    definition.setdefault("classification", "personal")
    return _FIELD.validate_python(definition, strict=False)


def context(values: dict[str, Any] | None = None) -> EvaluationContext:
    """Return an evaluation context for custom rules, today being TODAY."""
    return build_context(values or {}, today=TODAY)


def parse(field: Any, data: dict[str, Any], **options: Any) -> tuple[Any, list[FieldError]]:
    """Parse form ``data`` for ``field`` in English with the GB phone region (unless told otherwise)."""
    options.setdefault("language", "en")
    options.setdefault("phone_region", "GB")
    return parse_field(field, data, **options)


def check(field: Any, data: dict[str, Any], *, language: str = "en", values: dict[str, Any] | None = None) -> list[str]:
    """Return the messages parsing then validating ``data`` gives (parse errors stop validation)."""
    value, errors = parse(field, data, language=language)
    if not errors:
        errors = validate_field(field, value, context=context(values), language=language, today=TODAY)
    return [error.message for error in errors]


_environment: Environment | None = None


def render(field: Any, **arguments: Any) -> str:
    """Return the HTML ``render_field`` gives ``field`` with ``arguments``."""
    global _environment  # noqa: PLW0603 - one environment for the test session
    if _environment is None:
        _environment = environment(loader=FileSystemLoader(TEMPLATES))
    template = _environment.from_string(
        '{% from "journeys/fields.html" import render_field %}{{ render_field(field, **arguments) }}'
    )
    return template.render(field=field, arguments=arguments)


class Element:
    """One HTML element: its tag, attributes and the text directly inside it."""

    def __init__(self, tag: str, attributes: dict[str, str | None]) -> None:
        self.tag = tag
        self.attributes = attributes
        self.text = ""

    @property
    def classes(self) -> set[str]:
        return set((self.attributes.get("class") or "").split())


def elements(html: str) -> list[Element]:
    """Return every element of ``html`` in document order."""
    from html.parser import HTMLParser  # noqa: PLC0415 - test helper

    found: list[Element] = []
    stack: list[Element] = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            element = Element(tag, dict(attrs))
            found.append(element)
            if tag not in {"input", "br", "img", "meta", "link"}:
                stack.append(element)

        def handle_endtag(self, tag: str) -> None:
            while stack and stack.pop().tag != tag:
                pass

        def handle_data(self, data: str) -> None:
            if stack:
                stack[-1].text += data

    Collector().feed(html)
    return found


def by_id(html: str) -> dict[str, Element]:
    """Return the elements of ``html`` that have an id, by id."""
    return {element.attributes["id"] or "": element for element in elements(html) if element.attributes.get("id")}


def text_of(html: str) -> str:
    """Return the text of ``html`` in document order, whitespace collapsed."""
    from html.parser import HTMLParser  # noqa: PLC0415 - test helper

    chunks: list[str] = []

    class Collector(HTMLParser):
        def handle_data(self, data: str) -> None:
            chunks.append(data)

    Collector().feed(html)
    return " ".join(" ".join(chunks).split())


def render_fields(fields: list[Any], **arguments: Any) -> str:
    """Return the HTML ``render_fields`` gives a page's ``fields`` with ``arguments``."""
    render(fields[0])  # builds the environment
    assert _environment is not None
    template = _environment.from_string(
        '{% from "journeys/fields.html" import render_fields %}{{ render_fields(fields, **arguments) }}'
    )
    return template.render(fields=fields, arguments=arguments)

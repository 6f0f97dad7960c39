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
_TEMPLATES = Path(__file__).resolve().parent.parent / "jinja2"


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
        _environment = environment(loader=FileSystemLoader(_TEMPLATES))
    template = _environment.from_string(
        '{% from "journeys/fields.html" import render_field %}{{ render_field(field, **arguments) }}'
    )
    return template.render(field=field, arguments=arguments)

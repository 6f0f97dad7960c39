"""Field components of the citizen journey: parse, validate, display and store answers; render inputs.

Pure functions over the definition models (govserve.catalogue.definitions.schema)
and Jinja2 macros (``journeys/fields.html``); no models, no views.

* :func:`parse_field` / :func:`parse_group_item` read a web form,
  :func:`parse_json_value` a JSON body, into typed values;
* :func:`validate_field` / :func:`validate_group_item` apply the definition's
  validation and custom CEL rules;
* :func:`display_value` writes an answer for people;
* :func:`value_to_json` / :func:`value_from_json` give the canonical stored form;
* :func:`options_for` lists a choice field's options.

Every problem is a :class:`FieldError` with a GOV.UK-style message in the
reader's language, a stable code and the anchor the error summary links to.
"""

from govserve.journeys.fields.canonical import value_from_json, value_to_json
from govserve.journeys.fields.display import display_value
from govserve.journeys.fields.errors import FieldError
from govserve.journeys.fields.options import options_for
from govserve.journeys.fields.parse import field_key, parse_field, parse_group_item, parse_json_value
from govserve.journeys.fields.validate import (
    anchor_for,
    group_item_values,
    validate_field,
    validate_group_item,
)

__all__ = [
    "FieldError",
    "anchor_for",
    "display_value",
    "field_key",
    "group_item_values",
    "options_for",
    "parse_field",
    "parse_group_item",
    "parse_json_value",
    "validate_field",
    "validate_group_item",
    "value_from_json",
    "value_to_json",
]

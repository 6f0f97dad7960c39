"""GOV.UK's summary list rendered in Python: the markup of govuk-frontend-jinja's ``govukSummaryList``.

The check-your-answers page renders one summary list per page of the journey,
and the macro builds every row in template code (a ``govukAttributes`` and an
``_actionLink`` macro call per row, each through Jinja2's macro machinery):
about half of that page's render. :func:`summary_list` takes the macro's
``params`` and writes the same elements, attributes and texts directly;
``govserve/web/tests/test_summary_list_parity.py`` renders both for the shapes
govserve uses (and hostile text) and fails on any difference.

It covers what govserve's templates pass: plain dicts, text or html keys,
values and actions, classes, attributes as a mapping of plain values. Any
other shape (a card, attributes given as a string or with options, a row that
is not a dict) is rendered by the macro itself, so the output is always the
macro's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2 import Environment, pass_environment
from jinja2.filters import do_indent
from markupsafe import Markup, escape

_MACRO = '{% from "govuk_frontend_jinja/components/summary-list/macro.html" import govukSummaryList %}'


class _UnsupportedShapeError(Exception):
    """A shape of params this renderer leaves to the macro."""


@pass_environment
def summary_list(environment: Environment, params: Mapping[str, Any]) -> Markup:
    """Return ``govukSummaryList(params)``'s markup (elements, attributes and texts alike).

    Refuse nothing the macro accepts: a shape this renderer does not cover is
    rendered by the macro.
    """
    try:
        return _summary_list(params)
    except _UnsupportedShapeError:
        return _macro_render(environment, params)


def _macro_render(environment: Environment, params: Mapping[str, Any]) -> Markup:
    template = environment.from_string(_MACRO + "{{ govukSummaryList(params) }}")
    return Markup(template.render(params=params))  # noqa: S704 - the macro's output, escaped as it rendered


def _summary_list(params: Mapping[str, Any]) -> Markup:
    if not isinstance(params, Mapping) or params.get("card"):
        raise _UnsupportedShapeError
    rows = params.get("rows") or ()
    checked = [_checked_row(row) for row in rows]
    any_row_has_actions = any(row is not None and _action_items(row) for row in checked)
    parts = [
        '<dl class="govuk-summary-list',
        _classes(params.get("classes")),
        '"',
        _attributes(params.get("attributes")),
        ">\n",
    ]
    for row in checked:
        if row is not None:
            _row(parts, row, any_row_has_actions=any_row_has_actions)
    parts.append("</dl>")
    return Markup("".join(parts))  # noqa: S704 - every value above is escaped or the caller's html


def _checked_row(row: Any) -> Mapping[str, Any] | None:
    """Return ``row``, None for a row the macro skips (falsy); raise for shapes left to the macro."""
    if not row:
        return None
    if not isinstance(row, Mapping):
        raise _UnsupportedShapeError
    for part in ("key", "value"):
        if not isinstance(row.get(part), Mapping):  # the macro fails on a missing key or value: let it
            raise _UnsupportedShapeError
    actions = row.get("actions")
    if actions:
        if not isinstance(actions, Mapping):
            raise _UnsupportedShapeError
        items = actions.get("items")
        if items and not all(isinstance(item, Mapping) for item in items):
            raise _UnsupportedShapeError
    return row


def _action_items(row: Mapping[str, Any]) -> Any:
    actions = row.get("actions")
    return actions.get("items") if actions else None


def _row(parts: list[str], row: Mapping[str, Any], *, any_row_has_actions: bool) -> None:
    items = _action_items(row)
    key = row["key"]
    value = row["value"]
    parts += [
        '  <div class="govuk-summary-list__row',
        " govuk-summary-list__row--no-actions" if any_row_has_actions and not items else "",
        _classes(row.get("classes")),
        '">\n    <dt class="govuk-summary-list__key',
        _classes(key.get("classes")),
        '">\n      ',
        _content(key),
        '\n    </dt>\n    <dd class="govuk-summary-list__value',
        _classes(value.get("classes")),
        '">\n      ',
        _content(value),
        "\n    </dd>\n",
    ]
    if items:
        parts += ['    <dd class="govuk-summary-list__actions', _classes(row["actions"].get("classes")), '">\n']
        if len(items) == 1:
            parts += ["      ", _action_link(items[0]), "\n"]
        else:
            parts.append('      <ul class="govuk-summary-list__actions-list">\n')
            for item in items:
                parts += [
                    '        <li class="govuk-summary-list__actions-list-item">\n          ',
                    _action_link(item),
                    "\n        </li>\n",
                ]
            parts.append("      </ul>\n")
        parts.append("    </dd>\n")
    parts.append("  </div>\n")


def _content(part: Mapping[str, Any]) -> str:
    # The macro: ``part.html | safe | trim | indent(6) if part.html else part.text`` (the text escaped).
    html = part.get("html")
    if html:
        return do_indent(Markup(html).strip(), 6)  # noqa: S704 - html is the caller's markup, as `| safe` takes it
    return _text(part.get("text", _MISSING))


def _action_link(action: Mapping[str, Any]) -> str:
    html = action.get("html")
    content = do_indent(Markup(html), 4) if html else _text(action.get("text", _MISSING))  # noqa: S704 - the caller's markup
    hidden = action.get("visuallyHiddenText")
    hidden_span = f'<span class="govuk-visually-hidden"> {_text(hidden)}</span>' if hidden else ""
    return (
        f'<a class="govuk-link{_classes(action.get("classes"))}" href="{_text(action.get("href", _MISSING))}"'
        f"{_attributes(action.get('attributes'))}>{content}{hidden_span}</a>"
    )


def _text(value: Any) -> str:
    # What ``{{ value }}`` prints with autoescaping: a missing value (Jinja2's Undefined) is empty, None "None".
    return "" if value is _MISSING else str(escape(value))


_MISSING: Any = object()


def _classes(classes: Any) -> str:
    return f" {escape(classes)}" if classes else ""


def _attributes(attributes: Any) -> str:
    """Return ``govukAttributes(attributes)`` for a mapping of plain values (else leave it to the macro)."""
    if not attributes:
        return ""
    if not isinstance(attributes, Mapping):
        raise _UnsupportedShapeError
    out = []
    for name, value in attributes.items():
        if isinstance(value, (Mapping, bool)) or value is None:  # options, booleans: the macro's rules
            raise _UnsupportedShapeError
        out.append(f' {escape(name)}="{escape(value)}"')
    return "".join(out)

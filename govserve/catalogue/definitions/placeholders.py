"""GOV.UK Notify-style placeholders in notification templates.

``((name))`` is replaced by a value; ``((flag??optional text))`` shows the
text only when ``flag`` is true. Names are CEL names (field and determinant
ids) or the platform's own (``reference``, ``link``...). The notifications app
can render templates with :func:`parse_placeholders`, so that what
``check`` accepts is exactly what renders.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PLACEHOLDER = re.compile(r"\(\((?P<inner>[^()]*?)\)\)", re.DOTALL)
_NAME = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True, slots=True)
class Placeholder:
    """One ``((...))`` in a template: its name, optional text and offset in the template."""

    name: str
    optional_text: str | None
    offset: int
    length: int


@dataclass(frozen=True, slots=True)
class MalformedPlaceholder:
    """Something that looks like a placeholder but is not one (``((``, a bad name)."""

    reason: str
    offset: int


def parse_placeholders(template: str) -> tuple[list[Placeholder], list[MalformedPlaceholder]]:
    """Return the placeholders of ``template`` and the malformed ones, in order."""
    placeholders: list[Placeholder] = []
    malformed: list[MalformedPlaceholder] = []
    covered_until = 0
    for match in _PLACEHOLDER.finditer(template):
        inner = match.group("inner")
        name, separator, optional = inner.partition("??")
        name = name.strip()
        if _NAME.fullmatch(name) is None:
            reason = "is empty" if not name else f"`{name}` is not a name (lower-case letters, digits, _)"
            malformed.append(MalformedPlaceholder(f"The placeholder {reason}", match.start()))
        else:
            placeholders.append(Placeholder(name, optional if separator else None, match.start(), len(match.group())))
        _unclosed(template, covered_until, match.start(), malformed)
        covered_until = match.end()
    _unclosed(template, covered_until, len(template), malformed)
    malformed.sort(key=lambda item: item.offset)
    return placeholders, malformed


def _unclosed(template: str, start: int, end: int, malformed: list[MalformedPlaceholder]) -> None:
    """Record a ``((`` between ``start`` and ``end`` that no ``))`` closes."""
    position = template.find("((", start, end)
    if position != -1:
        malformed.append(MalformedPlaceholder("`((` is not closed by `))`", position))

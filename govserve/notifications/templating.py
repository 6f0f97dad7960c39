"""GOV.UK Notify-style placeholders: ``((name))`` and ``((flag??optional text))``.

The one renderer for every message text on the platform (platform emails now,
the notification templates of service definitions later), so the rules are
the same everywhere:

- ``((name))`` is replaced by the value of ``name``. Names are letters, digits
  and underscores, starting with a letter, and match exactly (case matters).
- ``((flag??text))`` shows ``text`` when the value of ``flag`` is ``yes`` or
  ``true`` and nothing when it is ``no`` or ``false`` (any case); any other
  value is an error. The text may not contain placeholders.
- A placeholder without a value is an error (:class:`PlaceholderMissingError`
  naming every missing one), never a blank: a sign-in email without its link
  must fail loudly, not be sent.
- Substitution is one pass: a value that itself contains ``((x))`` is inserted
  as it is, never expanded again.
- ``((`` without its closing ``))``, an empty placeholder or a bad name is a
  :class:`TemplateSyntaxError` raised when the text is compiled, so a broken
  template is caught when it is loaded, not when a citizen is waiting.
- When optional text is left out, the blank lines around it collapse to one.

Values the caller passes that the text does not use are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from govserve.notifications.errors import PlaceholderMissingError, PlaceholderValueError, TemplateSyntaxError

_PLACEHOLDER = re.compile(r"\(\((.*?)\)\)", re.DOTALL)
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_BLANK_RUN = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")
_TRUE = frozenset({"yes", "true"})
_FALSE = frozenset({"no", "false"})


@dataclass(frozen=True)
class Placeholder:
    """One ``((name))`` or ``((name??conditional text))`` in a text."""

    name: str
    conditional_text: str | None = None

    @property
    def is_conditional(self) -> bool:
        """Return whether this placeholder shows optional text instead of a value."""
        return self.conditional_text is not None


@dataclass(frozen=True)
class CompiledText:
    """A text split into literal strings and placeholders, ready to render many times."""

    source: str
    parts: tuple[str | Placeholder, ...]

    @property
    def placeholders(self) -> frozenset[str]:
        """Return the names whose values are inserted (``((name))``)."""
        return frozenset(p.name for p in self.parts if isinstance(p, Placeholder) and not p.is_conditional)

    @property
    def flags(self) -> frozenset[str]:
        """Return the names that switch optional text on or off (``((name??text))``)."""
        return frozenset(p.name for p in self.parts if isinstance(p, Placeholder) and p.is_conditional)

    @property
    def names(self) -> frozenset[str]:
        """Return every name the text needs a value for."""
        return self.placeholders | self.flags

    def render(self, values: Mapping[str, str]) -> str:
        """Return the text with every placeholder filled from ``values``.

        Raise PlaceholderMissingError (all missing names in ``extra['missing']``)
        when a name has no value, PlaceholderValueError for a value that is not
        a string or a flag that is not yes/no/true/false.
        """
        missing = sorted(name for name in self.names if values.get(name) is None)
        if missing:
            raise PlaceholderMissingError(
                f"No value for the placeholder{'s' if len(missing) > 1 else ''} {', '.join(missing)}",
                missing=missing,
            )
        pieces: list[str] = []
        removed_optional_text = False
        for part in self.parts:
            if isinstance(part, str):
                pieces.append(part)
                continue
            value = values[part.name]
            if not isinstance(value, str):
                msg = f"The value for {part.name} must be text, not {type(value).__name__}"
                raise PlaceholderValueError(msg, name=part.name)
            if part.conditional_text is None:
                pieces.append(value)
            elif _flag(part.name, value):
                pieces.append(part.conditional_text)
            else:
                removed_optional_text = True
        text = "".join(pieces)
        return _BLANK_RUN.sub("\n\n", text) if removed_optional_text else text


def _flag(name: str, value: str) -> bool:
    normalised = value.strip().lower()
    if normalised in _TRUE:
        return True
    if normalised in _FALSE:
        return False
    msg = f"The value for {name} must be yes or no, not {value!r}"
    raise PlaceholderValueError(msg, name=name)


def compile_text(source: str) -> CompiledText:
    """Return ``source`` compiled; raise TemplateSyntaxError (with ``extra['position']``) if malformed."""
    parts: list[str | Placeholder] = []
    position = 0
    for match in _PLACEHOLDER.finditer(source):
        literal = source[position : match.start()]
        _refuse_unclosed(literal, offset=position)
        if literal:
            parts.append(literal)
        parts.append(_placeholder(match.group(1), offset=match.start()))
        position = match.end()
    tail = source[position:]
    _refuse_unclosed(tail, offset=position)
    if tail:
        parts.append(tail)
    return CompiledText(source=source, parts=tuple(parts))


def render(source: str, values: Mapping[str, str]) -> str:
    """Compile ``source`` and render it with ``values`` (see :meth:`CompiledText.render`)."""
    return compile_text(source).render(values)


def _refuse_unclosed(literal: str, *, offset: int) -> None:
    index = literal.find("((")
    if index != -1:
        msg = f"'((' at character {offset + index + 1} has no closing '))'"
        raise TemplateSyntaxError(msg, position=offset + index)


def _placeholder(inner: str, *, offset: int) -> Placeholder:
    if "((" in inner:
        msg = f"Placeholders cannot be nested (character {offset + 1})"
        raise TemplateSyntaxError(msg, position=offset)
    name, separator, conditional_text = inner.partition("??")
    name = name.strip()
    if not _NAME.fullmatch(name):
        msg = (
            f"'(({inner}))' at character {offset + 1} is not a placeholder: use letters, digits "
            "and underscores, starting with a letter"
        )
        raise TemplateSyntaxError(msg, position=offset)
    return Placeholder(name=name, conditional_text=conditional_text if separator else None)

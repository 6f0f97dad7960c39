"""Email templates: the platform defaults, and the hook through which services override them.

Platform defaults live in ``email_templates/<name>.yaml``, one file per
template with an English and a Welsh version and the list of placeholders it
needs (checked when the file is loaded). :func:`email_template_get` asks each
registered lookup first, in registration order, then falls back to the
platform default; a later issue registers the lookup that serves service
definitions' own notification templates::

    def service_templates(name: str, language: str) -> EmailTemplate | None: ...
    email_template_lookup_register(service_templates)
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings

from govserve.notifications.errors import EmailRequestError, TemplateNotFoundError, TemplateSyntaxError
from govserve.notifications.providers.base import has_header_breaker
from govserve.notifications.templating import CompiledText, compile_text

TEMPLATE_DIR = Path(__file__).resolve().parent / "email_templates"


class PlatformTemplate(StrEnum):
    """The templates the platform itself sends; every one exists in English and Welsh."""

    SIGN_IN_LINK = "sign_in_link"
    RESUME_APPLICATION = "resume_application"
    SUBMISSION_CONFIRMATION = "submission_confirmation"
    FOLLOW_APPLICATION = "follow_application"


@dataclass(frozen=True)
class EmailTemplate:
    """One template in one language: a one-line subject and a plain-text body, both compiled."""

    name: str
    language: str
    subject: CompiledText
    body: CompiledText
    origin: str = "platform"

    def __post_init__(self) -> None:
        if has_header_breaker(self.subject.source):
            msg = f"The subject of email template {self.name!r} ({self.language}) must be one line"
            raise TemplateSyntaxError(msg, template=self.name, language=self.language)

    @property
    def names(self) -> frozenset[str]:
        """Return every placeholder and flag name the subject and body need."""
        return self.subject.names | self.body.names

    @classmethod
    def from_text(cls, *, name: str, language: str, subject: str, body: str, origin: str) -> EmailTemplate:
        """Compile ``subject`` and ``body``; raise TemplateSyntaxError if either is malformed."""
        return cls(name=name, language=language, subject=compile_text(subject), body=compile_text(body), origin=origin)


TemplateLookup = Callable[[str, str], EmailTemplate | None]
_lookups: list[TemplateLookup] = []


def email_template_lookup_register(lookup: TemplateLookup) -> None:
    """Add ``lookup(name, language)`` before the platform defaults; idempotent for the same function."""
    if lookup not in _lookups:
        _lookups.append(lookup)


def email_template_lookup_unregister(lookup: TemplateLookup) -> None:
    """Remove a lookup added by :func:`email_template_lookup_register` (tests, reloads)."""
    if lookup in _lookups:
        _lookups.remove(lookup)


def email_template_get(*, name: str, language: str) -> EmailTemplate:
    """Return the template ``name`` in ``language``: a registered override, else the platform default.

    A platform default missing in ``language`` falls back to the site's default
    language (``settings.LANGUAGE_CODE``); the returned template's
    ``language`` says which was used. Raise EmailRequestError for a language
    the site does not offer, TemplateNotFoundError for an unknown name.
    """
    languages = {code for code, _label in settings.LANGUAGES}
    if language not in languages:
        msg = f"Language {language!r} is not offered; use one of {', '.join(sorted(languages))}"
        raise EmailRequestError(msg, language=language)
    for lookup in _lookups:
        found = lookup(name, language)
        if found is not None:
            return found
    versions = platform_templates().get(name)
    if versions is None:
        msg = f"There is no email template called {name!r}"
        raise TemplateNotFoundError(msg, template=name)
    template = versions.get(language) or versions.get(settings.LANGUAGE_CODE)
    if template is None:
        msg = f"Email template {name!r} has no {language!r} or {settings.LANGUAGE_CODE!r} version"
        raise TemplateNotFoundError(msg, template=name)
    return template


@functools.cache
def platform_templates() -> Mapping[str, Mapping[str, EmailTemplate]]:
    """Return every platform template by name, then language (loaded once, checked on load)."""
    loaded: dict[str, dict[str, EmailTemplate]] = {}
    for path in sorted(TEMPLATE_DIR.glob("*.yaml")):
        name, versions = _load(path)
        loaded[name] = versions
    return loaded


def _load(path: Path) -> tuple[str, dict[str, EmailTemplate]]:
    document: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    where = f"email_templates/{path.name}"
    if not isinstance(document, dict) or not isinstance(document.get("placeholders"), dict):
        msg = f"{where}: expected a mapping with name, placeholders and one entry per language"
        raise TemplateSyntaxError(msg, file=where)
    name = document.get("name")
    if name != path.stem:
        msg = f"{where}: 'name' must be {path.stem!r}, the file's name"
        raise TemplateSyntaxError(msg, file=where)
    declared = frozenset(document["placeholders"])
    versions: dict[str, EmailTemplate] = {}
    for language, text in document.items():
        if language in {"name", "description", "placeholders"}:
            continue
        if (
            not isinstance(text, dict)
            or not isinstance(text.get("subject"), str)
            or not isinstance(text.get("body"), str)
        ):
            msg = f"{where}: {language!r} needs a subject and a body"
            raise TemplateSyntaxError(msg, file=where)
        template = EmailTemplate.from_text(
            name=name, language=language, subject=text["subject"].strip(), body=text["body"], origin="platform"
        )
        if template.names != declared:
            msg = (
                f"{where}: the {language!r} text uses {sorted(template.names)} but the file declares {sorted(declared)}"
            )
            raise TemplateSyntaxError(msg, file=where)
        versions[language] = template
    return name, versions

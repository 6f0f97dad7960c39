"""Refuse passwords built from context-specific words (ASVS 5.0 6.1.2, 6.2.11).

:class:`ContextWordsValidator` (in ``AUTH_PASSWORD_VALIDATORS``, so it holds
for staff and citizens alike) refuses a password that contains:

- the product's name, ``govserve``;
- the site's and the organisation's names (``GOVSERVE_SITE_NAME``,
  ``GOVSERVE_ORGANISATION_NAME`` and their Welsh ``_CY`` forms), when set;
- every active institution's name, Welsh name and code, from the database;
- whatever the ``sources`` option adds: dotted paths of functions returning
  :class:`ContextTerm` items. ``config/settings/base.py`` names
  ``govserve.catalogue.context_words.live_service_terms`` (the live services'
  titles and ids), which accounts cannot import itself (catalogue sits above it).

Names of organisations count whole and word by word: "Westmoor City Council"
refuses ``westmoor`` as well as ``westmoorcitycouncil``, but not ``city`` or
``council`` (:data:`GENERIC_WORDS`, and words shorter than :data:`MIN_WORD_LENGTH`).
Titles, ids and codes count only whole. The comparison ignores case, accents,
spaces and punctuation, and reads common look-alike characters as the
letters they stand for (``W3stm00r!`` contains ``westmoor``). The message
names the word found, which is public (it is on every page).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from govserve.accounts.models import Institution

PRODUCT_NAME = "govserve"
# Shorter names are too common to refuse (a short code would refuse half the dictionary); a single word of a
# name must be longer still ("data", "test" of "GovStack conformance test data" are not refused alone).
MIN_LENGTH = 4
MIN_WORD_LENGTH = 5
# Words of organisation names that say what kind of body it is, not which: never refused alone.
GENERIC_WORDS = frozenset(
    {
        "adran",
        "agency",
        "asiantaeth",
        "authority",
        "board",
        "borough",
        "bwrdeistref",
        "city",
        "council",
        "county",
        "cyngor",
        "department",
        "dinas",
        "district",
        "genedlaethol",
        "government",
        "gweinidogaeth",
        "llywodraeth",
        "metropolitan",
        "ministry",
        "national",
        "office",
        "parish",
        "public",
        "royal",
        "service",
        "services",
        "sirol",
        "swyddfa",
        "town",
        "trust",
    }
)
# Characters people put for letters: "p@ssw0rd" reads "password".
_LOOK_ALIKES = str.maketrans({"@": "a", "4": "a", "8": "b", "3": "e", "1": "l", "!": "i", "0": "o", "$": "s", "5": "s"})


@dataclass(frozen=True)
class ContextTerm:
    """A name a password must not contain, as people read it; ``by_word``: its distinctive words too."""

    text: str
    by_word: bool = False


@dataclass(frozen=True)
class _Word:
    key: str
    shown: str


def folded(text: str) -> str:
    """Return ``text`` lower-cased, without accents, keeping only letters and digits."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if char.isalnum() and not unicodedata.combining(char))


def built_in_terms() -> Iterator[ContextTerm]:
    """Yield the product's, the site's and the organisation's names and every active institution's names and code."""
    yield ContextTerm(PRODUCT_NAME)
    for setting in ("GOVSERVE_SITE_NAME", "GOVSERVE_SITE_NAME_CY"):
        yield ContextTerm(str(getattr(settings, setting, "") or ""))
    for setting in ("GOVSERVE_ORGANISATION_NAME", "GOVSERVE_ORGANISATION_NAME_CY"):
        yield ContextTerm(str(getattr(settings, setting, "") or ""), by_word=True)
    for code, name, name_cy in Institution.objects.filter(is_active=True).values_list("code", "name", "name_cy"):
        yield ContextTerm(code)
        yield ContextTerm(name, by_word=True)
        yield ContextTerm(name_cy, by_word=True)


def context_words(terms: Iterable[ContextTerm]) -> list[_Word]:
    """Return the words ``terms`` forbid (folded key, and the text to show), longest first, without repeats."""
    found: dict[str, str] = {}
    for term in terms:
        whole = folded(term.text)
        if len(whole) >= MIN_LENGTH:
            found.setdefault(whole, term.text.strip())
        if term.by_word:
            for part in term.text.replace("-", " ").split():
                key = folded(part)
                if len(key) >= MIN_WORD_LENGTH and key not in GENERIC_WORDS and not key.isdigit():
                    found.setdefault(key, part.strip(".,;:()'\"\u2019"))
    return [_Word(key=key, shown=shown) for key, shown in sorted(found.items(), key=lambda item: -len(item[0]))]


def context_word_in(password: str, terms: Iterable[ContextTerm]) -> str:
    """Return the name (as people read it) of the first forbidden word ``password`` contains, or ""."""
    plain = folded(password)
    readable = folded(password.casefold().translate(_LOOK_ALIKES))
    for word in context_words(terms):
        if word.key in plain or word.key in readable:
            return word.shown
    return ""


class ContextWordsValidator:
    """Django password validator: refuse the product's, the organisation's and the live services' names.

    ``sources``: dotted paths of functions returning :class:`ContextTerm` items, added to :func:`built_in_terms`.
    """

    def __init__(self, sources: Sequence[str] = ()) -> None:
        self.source_paths = tuple(sources)

    def _sources(self) -> list[Callable[[], Iterable[ContextTerm]]]:
        return [import_string(path) for path in self.source_paths]

    def terms(self) -> Iterator[ContextTerm]:
        """Yield every term a password must not contain (read from the database each time)."""
        yield from built_in_terms()
        for source in self._sources():
            yield from source()

    def validate(self, password: str, user: Any = None) -> None:
        """Raise ValidationError (code ``password_context_word``) when ``password`` contains a forbidden name."""
        word = context_word_in(password, self.terms())
        if word:
            raise ValidationError(
                _("Your password must not contain the name of this service or organisation, like “%(word)s”")
                % {"word": word},
                code="password_context_word",
            )

    def get_help_text(self) -> str:
        """Say what the validator refuses (shown next to the password field)."""
        return _("Your password must not contain the name of this service or organisation.")

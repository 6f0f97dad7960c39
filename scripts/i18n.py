"""Extract, compile and check govserve's gettext catalogues, in Python (no msgfmt/xgettext needed).

    python scripts/i18n.py extract   # update govserve/locale/<lang>/LC_MESSAGES/django.po from the code
    python scripts/i18n.py compile   # write django.mo from django.po (only when it changed)
    python scripts/i18n.py check     # exit 1 if a .po misses a msgid, has an untranslated or fuzzy
                                     # one, or its .mo is out of date

Django's ``makemessages`` reads Python and Django templates but not Jinja2
templates reliably, so messages are extracted with babel: Python files with
Django's gettext keywords, templates with Jinja2's own extractor (the
environment's ``_``/``gettext``/``ngettext`` calls, newstyle). Translations
are kept across extractions; messages no longer in the code are dropped, and
new ones arrive untranslated (never guessed from similar ones: fuzzy matching
is off). The .po is sorted by msgid and its references carry no line
numbers, so concurrent changes merge cleanly. See docs/decisions/0006-translations.md.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "govserve"
LOCALE_DIR = SOURCE / "locale"
LANGUAGES = ("cy",)
DOMAIN = "django"

# Django's gettext functions: name -> positions of (msgctxt,) msgid (, msgid_plural).
KEYWORDS: dict[str, tuple[int | tuple[int, str], ...] | None] = {
    "_": None,
    "gettext": None,
    "gettext_lazy": None,
    "gettext_noop": None,
    "ngettext": (1, 2),
    "ngettext_lazy": (1, 2),
    "pgettext": ((1, "c"), 2),
    "pgettext_lazy": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "npgettext_lazy": ((1, "c"), 2, 3),
}
METHOD_MAP = [
    ("**/tests/**.py", "ignore"),
    ("**/migrations/**.py", "ignore"),
    ("locale/**", "ignore"),
    ("**.py", "python"),
    ("**/jinja2/**.html", "jinja2"),
    ("**/jinja2/**.txt", "jinja2"),
]
OPTIONS_MAP = {"**/jinja2/**": {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true", "trimmed": "false"}}
HEADER_COMMENT = """\
# Welsh (Cymraeg) translations of govserve's interface.
# Copyright (C) govserve contributors. This file is distributed under the same licence as govserve.
#
# REVIEW PENDING: these translations were written by the development team and have not yet been
# reviewed by a native Welsh speaker. Have them reviewed (the Welsh Language Commissioner's
# standards apply to public bodies in Wales) before offering the Welsh service to the public.
#"""


def po_path(language: str) -> Path:
    """Return the .po file of ``language``."""
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(language: str) -> Path:
    """Return the compiled .mo file of ``language``."""
    return po_path(language).with_suffix(".mo")


def extract_template() -> Catalog:
    """Return every message of the code base as an untranslated catalogue (the .pot)."""
    template = Catalog(project="govserve", charset="utf-8", fuzzy=False)
    for filename, lineno, message, comments, context in extract_from_dir(
        SOURCE, method_map=METHOD_MAP, options_map=OPTIONS_MAP, keywords=KEYWORDS, comment_tags=("Translators:",)
    ):
        path = (SOURCE / filename).relative_to(ROOT).as_posix()
        template.add(message, None, [(path, lineno)], auto_comments=comments, context=context)
    return template


def read_catalogue(path: Path, language: str) -> Catalog:
    """Read the .po at ``path`` (an empty Welsh catalogue when it does not exist yet)."""
    if not path.exists():
        return Catalog(locale=language, project="govserve", charset="utf-8", fuzzy=False)
    with path.open("rb") as handle:
        return read_po(handle, locale=language, domain=DOMAIN)


def render_po(catalogue: Catalog) -> bytes:
    """Return ``catalogue`` as .po bytes: sorted, references without line numbers."""
    catalogue.header_comment = HEADER_COMMENT
    buffer = io.BytesIO()
    write_po(buffer, catalogue, width=100, sort_output=True, include_lineno=False, ignore_obsolete=True)
    return buffer.getvalue()


def render_mo(catalogue: Catalog) -> bytes:
    """Return ``catalogue`` compiled to .mo bytes (fuzzy and untranslated messages left out)."""
    buffer = io.BytesIO()
    write_mo(buffer, catalogue, use_fuzzy=False)
    return buffer.getvalue()


def _write_if_changed(path: Path, content: bytes) -> bool:
    if path.exists() and path.read_bytes() == content:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return True


def extract(languages: Iterable[str] = LANGUAGES) -> list[str]:
    """Update each language's .po from the code; return the msgids that still need a translation."""
    template = extract_template()
    missing: list[str] = []
    for language in languages:
        path = po_path(language)
        catalogue = read_catalogue(path, language)
        created = catalogue.creation_date
        catalogue.update(template, no_fuzzy_matching=True, update_header_comment=False)
        catalogue.obsolete.clear()
        # Keep the header's date unless a message changed: an extraction with nothing new
        # leaves the file byte for byte as it was.
        new_date = catalogue.creation_date
        catalogue.creation_date = created
        if not path.exists() or render_po(catalogue) != path.read_bytes():
            catalogue.creation_date = new_date
        _write_if_changed(path, render_po(catalogue))
        missing += [f"{language}: {msgid}" for msgid in untranslated(catalogue)]
    return missing


def compile_catalogues(languages: Iterable[str] = LANGUAGES) -> list[Path]:
    """Compile each language's .po to .mo when the .mo is missing or different; return those written."""
    written = []
    for language in languages:
        catalogue = read_catalogue(po_path(language), language)
        if _write_if_changed(mo_path(language), render_mo(catalogue)):
            written.append(mo_path(language))
    return written


def _msgid_text(message_id: str | tuple[str, ...] | list[str]) -> str:
    return message_id if isinstance(message_id, str) else message_id[0]


def untranslated(catalogue: Catalog) -> Iterator[str]:
    """Yield the msgids of ``catalogue`` that have no usable translation (empty or fuzzy)."""
    for message in catalogue:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            yield _msgid_text(message.id)


def problems(languages: Iterable[str] = LANGUAGES) -> list[str]:
    """Return what is wrong with the catalogues: missing, untranslated or fuzzy msgids, stale .mo files."""
    template = extract_template()
    found: list[str] = []
    for language in languages:
        catalogue = read_catalogue(po_path(language), language)
        known = {(message.context, _msgid_text(message.id)) for message in catalogue if message.id}
        found += [
            f"{language}: not in the catalogue (run extract): {_msgid_text(message.id)!r}"
            for message in template
            if message.id and (message.context, _msgid_text(message.id)) not in known
        ]
        found += [f"{language}: untranslated or fuzzy: {msgid!r}" for msgid in untranslated(catalogue)]
        mo = mo_path(language)
        if not mo.exists() or mo.read_bytes() != render_mo(catalogue):
            found.append(f"{language}: {mo.relative_to(ROOT)} is out of date (run compile)")
    return found


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["extract", "compile", "check"])
    command = parser.parse_args(argv).command
    if command == "extract":
        missing = extract()
        sys.stdout.write(f"{len(missing)} message(s) need a translation\n")
        sys.stdout.writelines(f"  {line}\n" for line in missing)
        return 0
    if command == "compile":
        for path in compile_catalogues():
            sys.stdout.write(f"compiled {path.relative_to(ROOT)}\n")
        return 0
    found = problems()
    sys.stdout.writelines(f"{line}\n" for line in found)
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The language switch and the Welsh catalogue (complete, well-formed, compiled)."""

from __future__ import annotations

import gettext
import importlib.util
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog, Message
from django.conf import settings
from django.test import Client
from pytest_django.fixtures import Settings

from govserve.web.tests.html_tree import parse

ROOT = Path(__file__).resolve().parents[3]


def _load_script() -> Any:
    # scripts/ is not a package: load scripts/i18n.py by its path.
    spec = importlib.util.spec_from_file_location("govserve_i18n_script", ROOT / "scripts" / "i18n.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


i18n = _load_script()

pytestmark = pytest.mark.django_db

ONE_YEAR = 365 * 24 * 60 * 60
NAMED = re.compile(r"%\((\w+)\)[sdr]")


# --- the switch ----------------------------------------------------------------------------------------------


def test_choosing_welsh_sets_the_cookie_and_returns_to_the_page(client: Client) -> None:
    response = client.get("/language/cy?next=/help")

    assert (response.status_code, response["Location"]) == (302, "/help")
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "cy"
    assert cookie["max-age"] == ONE_YEAR
    assert cookie["path"] == "/"
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert "no-store" in response["Cache-Control"]
    assert parse(client.get("/help").content).one("html").attrs["lang"] == "cy"


def test_choosing_english_again_switches_back(client: Client) -> None:
    client.get("/language/cy?next=/help")

    response = client.get("/language/en?next=/help%3Fsection%3Dfeedback")

    assert response["Location"] == "/help?section=feedback"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert parse(client.get("/help").content).one("html").attrs["lang"] == "en"


def test_the_cookie_follows_the_language_cookie_settings(client: Client, settings: Settings) -> None:
    settings.LANGUAGE_COOKIE_AGE = 3600
    settings.LANGUAGE_COOKIE_SECURE = True

    cookie = client.get("/language/cy?next=/").cookies[settings.LANGUAGE_COOKIE_NAME]

    assert (cookie["max-age"], cookie["secure"]) == (3600, True)


def test_an_unknown_language_is_not_found_and_sets_nothing(client: Client) -> None:
    response = client.get("/language/fr?next=/help")

    assert response.status_code == 404
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies


def test_the_switch_answers_only_get(client: Client) -> None:
    response = client.post("/language/cy?next=/help")

    assert response.status_code == 405
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies


@pytest.mark.parametrize(
    "next_path",
    [
        "https://evil.example",
        "https://evil.example/help",
        "//evil.example/help",
        "/\\evil.example",
        "\\\\evil.example",
        "http:/evil.example",
        "javascript:alert(1)",
        "/help\r\nSet-Cookie: x=1",
        "help",
        "",
    ],
)
def test_the_switch_only_returns_to_pages_of_this_site(client: Client, next_path: str) -> None:
    response = client.get("/language/cy", {"next": next_path})

    assert (response.status_code, response["Location"]) == (302, "/")
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "cy"


def test_without_next_the_switch_goes_home(client: Client) -> None:
    assert client.get("/language/cy")["Location"] == "/"


# --- the catalogue --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def extracted() -> Catalog:
    """Return the messages of the code base (extraction takes seconds: once per module)."""
    template: Catalog = i18n.extract_template()
    return template


@pytest.fixture(scope="module")
def welsh() -> Catalog:
    catalogue: Catalog = i18n.read_catalogue(i18n.po_path("cy"), "cy")
    return catalogue


def _forms(message: Message) -> list[str]:
    strings = message.string if isinstance(message.string, tuple | list) else [message.string]
    return [string or "" for string in strings]


def _ids(message: Message) -> list[str]:
    return list(message.id) if isinstance(message.id, tuple | list) else [message.id]


def test_the_compiled_catalogue_is_up_to_date_with_the_po(welsh: Catalog) -> None:
    compiled = i18n.mo_path("cy").read_bytes()

    assert compiled == i18n.render_mo(welsh), "run: python scripts/i18n.py compile"
    # and Python's gettext (what Django reads) finds every translation in it
    with i18n.mo_path("cy").open("rb") as handle:
        translations = gettext.GNUTranslations(handle)
    for message in welsh:
        if not message.id:
            continue
        if isinstance(message.id, tuple | list):
            for count, form in zip([0, 1, 2, 3, 6, 5], _forms(message), strict=True):
                assert translations.ngettext(message.id[0], message.id[1], count) == form
        else:
            assert translations.gettext(message.id) == message.string


def test_the_catalogue_is_welsh_with_its_six_plural_forms_and_flags_the_review(welsh: Catalog) -> None:
    header = i18n.po_path("cy").read_text(encoding="utf-8")

    assert welsh.locale is not None
    assert str(welsh.locale) == "cy"
    assert welsh.num_plurals == 6
    assert welsh.plural_expr == "(n == 0 ? 0 : n == 1 ? 1 : n == 2 ? 2 : n == 3 ? 3 : n == 6 ? 4 : 5)"
    assert "REVIEW PENDING" in header.split('msgid ""', 1)[0]


def test_every_message_in_the_catalogue_is_translated(welsh: Catalog) -> None:
    assert list(i18n.untranslated(welsh)) == []


def test_every_message_of_the_layout_and_shared_pages_is_in_the_catalogue(welsh: Catalog, extracted: Catalog) -> None:
    known = {message.id if isinstance(message.id, str) else message.id[0] for message in welsh if message.id}
    web_messages = [
        message.id if isinstance(message.id, str) else message.id[0]
        for message in extracted
        if message.id and any(path.startswith("govserve/web/") for path, _ in message.locations)
    ]

    assert len(web_messages) > 200
    assert [msgid for msgid in web_messages if msgid not in known] == []


def test_translations_keep_the_placeholders_and_markup_of_their_message(welsh: Catalog) -> None:
    # A translation naming a placeholder the code does not pass, or with a bare "%", would crash
    # the Welsh page; one that drops a link or its URL would break it.
    for message in welsh:
        if not message.id:
            continue
        ids = _ids(message)
        names = set().union(*(NAMED.findall(msgid) for msgid in ids))
        tags = sorted(set().union(*(re.findall(r"<[^>]+>", msgid) for msgid in ids)))
        formatted = any("%" in msgid for msgid in ids)
        for form in _forms(message):
            assert set(NAMED.findall(form)) <= names, (message.id, form)
            assert sorted(set(re.findall(r"<[^>]+>", form))) == tags, (message.id, form)
            if formatted:
                form % dict.fromkeys(names, 1)  # raises on a bare or unknown %
            else:
                assert "%" not in form, (message.id, form)


def test_extract_keeps_translations_drops_old_messages_and_is_stable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extracted: Catalog
) -> None:
    # given a catalogue with a translation of a message in the code and one the code no longer has
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    monkeypatch.setattr(i18n, "extract_template", lambda: extracted)
    old = Catalog(locale="cy", project="govserve", charset="utf-8", fuzzy=False)
    old.add("Cookies", "Cwcis")
    old.add("A message the code no longer has", "Hen neges")
    i18n.po_path("cy").parent.mkdir(parents=True)
    i18n.po_path("cy").write_bytes(i18n.render_po(old))

    # when messages are extracted
    missing = i18n.extract()

    # then the translation stays, the old message goes, the new ones wait for a translation
    updated = i18n.read_catalogue(i18n.po_path("cy"), "cy")
    assert updated.get("Cookies").string == "Cwcis"
    assert updated.get("A message the code no longer has") is None
    assert updated.get("Privacy notice").string == ""
    assert "cy: Privacy notice" in missing
    assert "cy: Cookies" not in missing
    # and a second extraction writes the same bytes (sorted, no line numbers, same header date)
    first = i18n.po_path("cy").read_bytes()
    i18n.extract()
    assert i18n.po_path("cy").read_bytes() == first
    assert b"#: govserve/web/jinja2/web/base.html\n" in first  # references without line numbers
    # and compiling writes the .mo once, then only when the .po changes
    assert i18n.compile_catalogues() == [i18n.mo_path("cy")]
    assert i18n.compile_catalogues() == []

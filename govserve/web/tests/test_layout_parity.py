"""The written-out layout (web/base.html) gives exactly the markup of GOV.UK's template and macros.

Each case renders the test page twice through the whole middleware stack, on
the same session: once on ``web/base.html`` and once on
``reference/base_macros.html`` (the layout through govuk-frontend-jinja's
``template.html`` and its header, service navigation, phase banner, skip link,
back link, footer and button macros). Both are compared as a sequence of
elements (tag, attributes in any order, classes in order) and texts (spaces
collapsed), as the field components' parity test does; the CSP nonce and the
CSRF tokens, new on every request, are left out. An upgrade of
govuk-frontend-jinja that changes the markup fails here until base.html follows.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.template import engines
from django.test import Client
from jinja2 import ChoiceLoader, FileSystemLoader

from govserve.web.tests.html_tree import parse
from govserve.web.tests.layout_support import sign_in_citizen

pytestmark = [pytest.mark.django_db, pytest.mark.urls("govserve.web.tests.layout_support")]

REFERENCE = Path(__file__).resolve().parent
REFERENCE_LAYOUT = {"X-Test-Layout": "reference"}


@pytest.fixture(autouse=True)
def _still_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    # Both renders of a page see the same instant (the session's seconds left are on <body>).
    instant = datetime.datetime.now(tz=datetime.UTC)
    monkeypatch.setattr("govserve.core.clock.now", lambda: instant)


@pytest.fixture(autouse=True)
def _reference_templates() -> Iterator[None]:
    environment = engines["jinja2"].env  # type: ignore[attr-defined]
    loader = environment.loader
    environment.loader = ChoiceLoader([loader, FileSystemLoader(str(REFERENCE))])
    try:
        yield
    finally:
        environment.loader = loader


def tokens(html: str) -> list[tuple[Any, ...]]:
    """Return ``html`` as start tags (attributes sorted), end tags and texts (spaces collapsed)."""
    found: list[tuple[Any, ...]] = []

    class Reader(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            attributes = sorted(
                (name, " ".join((value or "").split()) if name == "class" else value) for name, value in attrs
            )
            found.append(("<", tag, attributes))

        def handle_endtag(self, tag: str) -> None:
            found.append((">", tag))

        def handle_data(self, data: str) -> None:
            text = " ".join(data.split())
            if text:
                found.append(("text", text))

    Reader().feed(html)
    return found


def _normalised(html: bytes) -> list[tuple[Any, ...]]:
    found = []
    for token in tokens(html.decode()):
        if token[0] == "<":
            attributes = dict(token[2])
            if "nonce" in attributes:
                attributes["nonce"] = "<nonce>"
            if attributes.get("name") == "csrfmiddlewaretoken":
                attributes["value"] = "<csrf>"
            found.append(("<", token[1], sorted(attributes.items())))
        else:
            found.append(token)
    return found


def _compare(client: Client, paths: list[str], languages: tuple[str, ...] = ("en", "cy")) -> None:
    for language in languages:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        for path in paths:
            written_out = client.get(path)
            reference = client.get(path, headers=REFERENCE_LAYOUT)
            assert written_out.status_code == reference.status_code == 200
            # the reference really is the macros' markup (their SVG logo starts on a new line)
            assert b"<svg\n" in reference.content
            assert b"<svg\n" not in written_out.content
            assert _normalised(written_out.content) == _normalised(reference.content), (language, path)


PAGES = [
    "/test/layout",
    "/test/layout?service=Street+trading+%26+markets",
    "/test/layout?errors=1&title=Your+name",
    "/test/layout?back=/services/street-trading/",
    "/test/layout?back=/services/&back_text=Back+to+%3Cservices%3E",
    "/test/layout?back=/services/&back_text=",
    "/test/layout?draft=1",
    "/test/layout?account=1",
    "/test/layout?account=0",
]
STAFF_PAGES = [
    "/staff/test/layout",
    "/staff/test/layout?staff_nav=1",
    "/staff/test/layout?staff_nav=4&service=Licensing",
    "/staff/test/layout?errors=1&back=/staff/",
]


def test_pages_without_sign_in(client: Client) -> None:
    _compare(client, PAGES + STAFF_PAGES)


def test_pages_for_a_signed_in_citizen(client: Client) -> None:
    sign_in_citizen(client)

    _compare(client, PAGES)


def test_staff_pages_for_signed_in_staff(client: Client) -> None:
    from govserve.accounts.tests.conftest import sign_in  # noqa: PLC0415
    from govserve.web.tests.test_layout import _officer  # noqa: PLC0415

    sign_in(client, _officer())

    _compare(client, STAFF_PAGES)


def test_an_error_page_has_the_layout(client: Client) -> None:
    page = client.get("/applications/test-layout-is-not-here")

    assert page.status_code == 404
    tree = parse(page.content)
    for tag, class_ in (
        ("header", "govuk-template__header"),
        ("main", "govuk-main-wrapper"),
        ("footer", "govuk-template__footer"),
    ):
        assert tree.one(tag, class_=class_)


def test_the_comparison_sees_a_difference_in_the_markup(client: Client) -> None:
    # The normalisation leaves out whitespace, nonces and CSRF tokens, and nothing else.
    written_out = _normalised(client.get("/test/layout").content)
    assert written_out == _normalised(client.get("/test/layout", headers=REFERENCE_LAYOUT).content)
    changed = client.get("/test/layout", headers=REFERENCE_LAYOUT).content.replace(
        b'class="govuk-footer__link"', b'class="govuk-footer__link govuk-link"', 1
    )

    assert _normalised(changed) != written_out

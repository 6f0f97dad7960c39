"""The shipped pages: accessibility statement, privacy notice, cookies, help and contact."""

# GOV.UK and Welsh text use typographic apostrophes.
# ruff: noqa: RUF001

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation
from pytest_django.fixtures import Settings

from govserve.web import pages
from govserve.web.tests.html_tree import Element, parse
from govserve.web.tests.layout_support import sign_in_citizen

pytestmark = pytest.mark.django_db

PAGES = {
    "/accessibility": (
        "Accessibility statement for Public services",
        "Datganiad hygyrchedd ar gyfer Gwasanaethau cyhoeddus",
    ),
    "/privacy": ("Privacy notice", "Hysbysiad preifatrwydd"),
    "/cookies": ("Cookies", "Cwcis"),
    "/help": ("Help and contact", "Help a chysylltu"),
}


def _get(client: Client, path: str, language: str = "en") -> Element:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(path)
    assert response.status_code == 200, path
    return parse(response.content)


def _headings(page: Element, tag: str) -> list[str]:
    return [heading.text() for heading in page.one("main").find_all(tag)]


@pytest.mark.parametrize("path", list(PAGES))
@pytest.mark.parametrize("language", ["en", "cy"])
def test_each_page_answers_in_both_languages_with_its_heading(client: Client, path: str, language: str) -> None:
    page = _get(client, path, language)

    english, welsh = PAGES[path]
    assert page.one("html").attrs["lang"] == language
    assert _headings(page, "h1") == [english if language == "en" else welsh]
    assert len(page.one("main").text()) > 500  # real content, not a placeholder


@pytest.mark.parametrize("path", list(PAGES))
def test_each_page_answers_only_get(client: Client, path: str) -> None:
    assert client.post(path).status_code == 405


def test_the_accessibility_statement_follows_the_model_statement(client: Client) -> None:
    page = _get(client, "/accessibility")

    assert _headings(page, "h2") == [
        "How accessible this website is",
        "Feedback and contact information",
        "Reporting accessibility problems with this website",
        "Enforcement procedure",
        "Technical information about this website’s accessibility",
        "Non-accessible content",
        "What we’re doing to improve accessibility",
        "Preparation of this accessibility statement",
    ]
    assert _headings(page, "h3") == [
        "Compliance status",
        "Non-compliance with the accessibility regulations",
        "Disproportionate burden",
        "Content that’s not within the scope of the accessibility regulations",
    ]
    text = page.one("main").text()
    assert "This website is partially compliant with the Web Content Accessibility Guidelines version 2.2 AA" in text
    assert "zoom in up to 400% without the text spilling off the screen" in text
    assert "This statement was prepared on 27 November 2026. It was last reviewed on 27 November 2026." in text
    assert page.one("a", href="https://www.equalityadvisoryservice.com/").text() == (
        "contact the Equality Advisory and Support Service (EASS)"
    )
    assert [link.text() for link in page.one("main").find_all("a", href="mailto:help@govserve.localhost")] == [
        "help@govserve.localhost",
        "help@govserve.localhost",
    ]


def test_the_accessibility_statement_in_welsh_dates_in_welsh(client: Client) -> None:
    text = _get(client, "/accessibility", "cy").one("main").text()

    assert "Cafodd y datganiad hwn ei baratoi ar 27 Tachwedd 2026." in text
    assert "chwyddo hyd at 400% heb i’r testun ddisgyn oddi ar y sgrin" in text


def test_the_organisation_and_contacts_come_from_the_settings(client: Client, settings: Settings) -> None:
    settings.GOVSERVE_ORGANISATION_NAME = "Westmoor City Council"
    settings.GOVSERVE_ORGANISATION_NAME_CY = "Cyngor Dinas Westmoor"
    settings.GOVSERVE_CONTACT_EMAIL = "digital@westmoor.gov.uk"
    settings.GOVSERVE_CONTACT_PHONE = "01632 960 123"
    settings.GOVSERVE_DPO_EMAIL = "dpo@westmoor.gov.uk"
    settings.GOVSERVE_POSTAL_ADDRESS = "Civic Centre, Westmoor, WM1 1AA"

    statement = _get(client, "/accessibility").one("main").text()
    privacy = _get(client, "/privacy").one("main")
    welsh_privacy = _get(client, "/privacy", "cy").one("main").text()
    help_page = _get(client, "/help").one("main")

    assert "This website is run by Westmoor City Council." in statement
    assert "call 01632 960 123" in statement
    assert (
        "The data controller for the personal information you give through this website is Westmoor City Council."
        in (privacy.text())
    )
    assert privacy.find_all("a", href="mailto:dpo@westmoor.gov.uk")
    assert "You can also write to the data protection officer at: Civic Centre, Westmoor, WM1 1AA" in privacy.text()
    assert (
        "Y rheolydd data ar gyfer y wybodaeth bersonol rydych yn ei rhoi drwy’r wefan hon yw Cyngor Dinas Westmoor."
        in (welsh_privacy)
    )
    assert help_page.find_all("a", href="mailto:digital@westmoor.gov.uk")
    assert "01632 960 123" in help_page.text()
    assert "Civic Centre, Westmoor, WM1 1AA" in help_page.text()


def test_without_a_phone_number_the_pages_offer_none(client: Client, settings: Settings) -> None:
    settings.GOVSERVE_CONTACT_PHONE = ""

    assert "call " not in _get(client, "/accessibility").one("main").text()
    assert _headings(_get(client, "/help"), "h3") == ["Email"]


def test_settings_are_escaped_on_the_pages(client: Client, settings: Settings) -> None:
    settings.GOVSERVE_ORGANISATION_NAME = '<script>alert("x")</script>'

    response = client.get("/privacy")

    assert b'<script>alert("x")</script>' not in response.content
    assert b"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in response.content


def test_the_privacy_notice_covers_what_the_law_asks(client: Client) -> None:
    page = _get(client, "/privacy")

    assert _headings(page, "h2") == [
        "Who is responsible for your information",
        "What information we collect",
        "Why we need your information and our lawful basis",
        "How long we keep your information",
        "How we protect your information",
        "Who we share your information with",
        "Cookies",
        "Your rights",
        "How to complain",
    ]
    text = page.one("main").text()
    assert "UK GDPR Article 6(1)(e)" in text
    assert "UK GDPR Article 9(2)(g)" in text
    assert "data processors" in text
    assert "Last updated: 27 November 2026" in text
    assert page.one("a", href="https://ico.org.uk/make-a-complaint/")
    assert page.one("main").one("a", href="/cookies")


def _cookie_rows(page: Element) -> list[list[str]]:
    table = page.one("table")
    return [
        [cell.text() for cell in row.find_all() if cell.tag in {"th", "td"}]
        for row in table.one("tbody").find_all("tr")
    ]


def test_the_cookies_page_lists_exactly_the_essential_cookies_with_their_expiry(client: Client) -> None:
    page = _get(client, "/cookies")

    assert _cookie_rows(page) == [
        [
            "sessionid",
            "Keeps you signed in and remembers where you are in an application.",
            "30 minutes after you last use the service",
        ],
        ["csrftoken", "Makes sure that forms you send come from this website and not from another one.", "1 year"],
        ["django_language", "Remembers whether you chose English or Welsh.", "1 year"],
    ]
    text = page.one("main").text()
    assert "We do not use cookies to measure how you use the website (analytics cookies)" in text
    assert "so you will not see a cookie banner" in text


def test_the_cookies_page_in_welsh(client: Client) -> None:
    rows = _cookie_rows(_get(client, "/cookies", "cy"))

    assert rows == [
        [
            "sessionid",
            "Yn eich cadw wedi mewngofnodi ac yn cofio ble rydych chi arni mewn cais.",
            "30 munud ar ôl i chi ddefnyddio’r gwasanaeth ddiwethaf",
        ],
        [
            "csrftoken",
            "Yn sicrhau bod y ffurflenni rydych yn eu hanfon yn dod o’r wefan hon ac nid o wefan arall.",
            "1 flwyddyn",
        ],
        ["django_language", "Yn cofio a wnaethoch ddewis Cymraeg neu Saesneg.", "1 flwyddyn"],
    ]


def test_the_cookie_list_follows_the_cookie_settings(client: Client, settings: Settings) -> None:
    settings.SESSION_COOKIE_NAME = "__Host-session"
    settings.SESSION_COOKIE_AGE = 2 * 60 * 60
    settings.LANGUAGE_COOKIE_AGE = 90 * 24 * 60 * 60

    rows = _cookie_rows(_get(client, "/cookies"))

    assert [(row[0], row[2]) for row in rows] == [
        ("__Host-session", "2 hours after you last use the service"),
        ("csrftoken", "1 year"),
        ("django_language", "90 days"),
    ]


def test_the_site_sets_no_cookie_the_cookies_page_does_not_list(client: Client) -> None:
    listed = {cookie.name for cookie in pages.essential_cookies()}
    set_names: set[str] = set()

    # a visitor browses, chooses Welsh, signs in, extends the session and signs out
    for response in (
        client.get("/"),
        client.get("/sign-in"),
        client.get("/language/cy?next=/help"),
        client.get("/help"),
    ):
        set_names |= set(response.cookies)
    sign_in_citizen(client)
    set_names |= set(client.get("/account").cookies)
    set_names |= set(client.post("/session/extend", headers={"accept": "application/json"}).cookies)
    set_names |= set(client.post("/sign-out").cookies)

    assert set_names
    assert set_names <= listed


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (59, "1 minute"),
        (60, "1 minute"),
        (30 * 60, "30 minutes"),
        (60 * 60, "1 hour"),
        (25 * 60 * 60, "1 day"),
        (14 * 24 * 60 * 60, "14 days"),
        (364 * 24 * 60 * 60, "1 year"),
        (2 * 365 * 24 * 60 * 60, "2 years"),
    ],
)
def test_cookie_lifetimes_read_as_people_say_them(seconds: int, text: str) -> None:
    with translation.override("en"):
        assert pages.duration_text(seconds) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (60, "1 munud"),
        (2 * 60, "2 funud"),
        (60 * 60, "1 awr"),
        (2 * 24 * 60 * 60, "2 ddiwrnod"),
        (364 * 24 * 60 * 60, "1 flwyddyn"),
    ],
)
def test_cookie_lifetimes_in_welsh_take_the_welsh_plural_forms(seconds: int, text: str) -> None:
    with translation.override("cy"):
        assert pages.duration_text(seconds) == text


def test_the_help_page_has_a_feedback_section_the_phase_banner_links_to(client: Client) -> None:
    page = _get(client, "/help")

    assert page.one("h2", id="feedback").text() == "Give feedback"
    assert page.one("div", class_="govuk-phase-banner").one("a").attrs["href"] == "/help#feedback"

"""The base layout around every page: language, skip link, header navigation, phase banner, footer, title."""

# GOV.UK titles use an en dash, and Welsh text the typographic apostrophe.
# ruff: noqa: RUF001

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client, RequestFactory
from pytest_django.fixtures import Settings

from govserve.accounts.tests.conftest import Staff, sign_in
from govserve.accounts.tests.factories import device_create, institution_create, role_grant, staff_create
from govserve.web.layout import page_layout
from govserve.web.tests.html_tree import Element, parse
from govserve.web.tests.layout_support import sign_in_citizen

pytestmark = [pytest.mark.django_db, pytest.mark.urls("govserve.web.tests.layout_support")]

ENGLISH_FOOTER = [
    ("/accessibility", "Accessibility statement"),
    ("/privacy", "Privacy notice"),
    ("/cookies", "Cookies"),
    ("/help", "Help and contact"),
]
WELSH_FOOTER = [
    ("/accessibility", "Datganiad hygyrchedd"),
    ("/privacy", "Hysbysiad preifatrwydd"),
    ("/cookies", "Cwcis"),
    ("/help", "Help a chysylltu"),
]


def _welsh(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "cy"
    return client


def _footer_links(page: Element) -> list[tuple[str | None, str]]:
    footer = page.one("footer")
    return [(link.attrs["href"], link.text()) for link in footer.one("ul").find_all("a")]


def _navigation(page: Element) -> list[tuple[str | None, str]]:
    navigation = page.one("section", class_="govuk-service-navigation")
    return [(link.attrs["href"], link.text()) for link in navigation.find_all("a")]


def _title(response: Any) -> str:
    # The page's <title>, not the SVG logo's.
    return parse(response.content).one("head").one("title").text()


def _language_switch(page: Element) -> Element:
    return page.one("nav", class_="govserve-language-select")


# --- language ---------------------------------------------------------------------------------------------


def test_an_english_page_has_the_layout_in_english(client: Client) -> None:
    response = client.get("/help")

    page = parse(response.content)
    assert response.status_code == 200
    assert page.one("html").attrs["lang"] == "en"
    assert page.one("head").one("title").text() == "Help and contact – Public services"
    skip = page.one("a", class_="govuk-skip-link")
    assert (skip.attrs["href"], skip.text()) == ("#main-content", "Skip to main content")
    assert page.one("main").attrs["id"] == "main-content"
    assert _footer_links(page) == ENGLISH_FOOTER
    assert "© Crown copyright" in page.one("footer").text()
    assert "Open Government Licence v3.0" in page.one("footer").text()
    banner = page.one("div", class_="govuk-phase-banner")
    assert banner.one("strong").text() == "Beta"
    assert [(a.attrs["href"], a.text()) for a in banner.find_all("a")] == [("/help#feedback", "give your feedback")]
    # GOV.UK Frontend 6: the phase banner sits inside the header, after the service navigation
    assert any(ancestor.tag == "header" for ancestor in banner.ancestors())


def test_the_language_switch_offers_the_other_language_in_that_language(client: Client) -> None:
    page = parse(client.get("/help").content)

    switch = _language_switch(page)
    assert switch.attrs["aria-label"] == "Choose a language"
    current = switch.one("span", aria_current="true")
    assert (current.attrs["lang"], current.text()) == ("en", "English")
    [link] = switch.find_all("a")
    assert link.attrs == {
        "href": "/language/cy?next=%2Fhelp",
        "hreflang": "cy",
        "lang": "cy",
        "rel": "alternate",
        "class": "govuk-link",
    }
    assert link.one("span", class_="govuk-visually-hidden").text() == "Newid yr iaith i’r Gymraeg"
    assert link.one("span", aria_hidden="true").text() == "Cymraeg"


def test_the_language_switch_comes_back_to_the_same_address_with_its_query(client: Client) -> None:
    page = parse(client.get("/test/layout?title=Search&q=market+stall").content)

    [link] = _language_switch(page).find_all("a")
    assert link.attrs["href"] == "/language/cy?next=%2Ftest%2Flayout%3Ftitle%3DSearch%26q%3Dmarket%2Bstall"


def test_a_welsh_page_has_the_layout_in_welsh(client: Client) -> None:
    response = _welsh(client).get("/help")

    page = parse(response.content)
    assert page.one("html").attrs["lang"] == "cy"
    assert page.one("head").one("title").text() == "Help a chysylltu – Gwasanaethau cyhoeddus"
    assert page.one("a", class_="govuk-skip-link").text() == "Neidio i’r prif gynnwys"
    assert _footer_links(page) == WELSH_FOOTER
    assert "© Hawlfraint y Goron" in page.one("footer").text()
    switch = _language_switch(page)
    assert switch.attrs["aria-label"] == "Dewiswch iaith"
    current = switch.one("span", aria_current="true")
    assert (current.attrs["lang"], current.text()) == ("cy", "Cymraeg")
    [link] = switch.find_all("a")
    assert (link.attrs["href"], link.attrs["hreflang"], link.attrs["lang"]) == ("/language/en?next=%2Fhelp", "en", "en")
    assert link.one("span", class_="govuk-visually-hidden").text() == "Change the language to English"
    assert page.one("div", class_="govuk-phase-banner").one("strong").text() == "Beta"


def test_the_browser_language_chooses_welsh_until_a_language_is_chosen(client: Client) -> None:
    page = parse(client.get("/help", headers={"accept-language": "cy-GB,cy;q=0.9,en;q=0.5"}).content)
    assert page.one("html").attrs["lang"] == "cy"

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = parse(client.get("/help", headers={"accept-language": "cy"}).content)
    assert page.one("html").attrs["lang"] == "en"


def test_error_pages_follow_the_language_too(client: Client) -> None:
    response = _welsh(client).get("/no-such-page")

    page = parse(response.content)
    assert response.status_code == 404
    assert page.one("html").attrs["lang"] == "cy"
    assert _footer_links(page) == WELSH_FOOTER


# --- title, back link, service name --------------------------------------------------------------------------


def test_the_title_says_error_first_when_the_page_has_errors(client: Client) -> None:
    assert _title(client.get("/test/layout?title=What+is+your+name%3F")) == "What is your name? – Public services"
    assert _title(client.get("/test/layout?title=What+is+your+name%3F&errors=1")) == (
        "Error: What is your name? – Public services"
    )
    welsh = _welsh(client).get("/test/layout?title=Beth+yw+eich+enw%3F&errors=1")
    assert _title(welsh) == "Gwall: Beth yw eich enw? – Gwasanaethau cyhoeddus"


def test_a_page_inside_a_service_names_the_service(client: Client) -> None:
    page = parse(client.get("/test/layout?title=Your+pitch&service=Apply+for+a+street+trading+licence").content)

    assert page.one("head").one("title").text() == "Your pitch – Apply for a street trading licence"
    navigation = page.one("section", class_="govuk-service-navigation")
    name = navigation.one("span", class_="govuk-service-navigation__service-name").one("a")
    assert (name.attrs["href"], name.text()) == ("/services/street-trading/", "Apply for a street trading licence")


def test_a_page_outside_a_service_shows_the_site_name(client: Client) -> None:
    page = parse(client.get("/help").content)

    name = page.one("span", class_="govuk-service-navigation__service-name").one("a")
    assert (name.attrs["href"], name.text()) == ("/", "Public services")


def test_the_site_name_comes_from_the_settings_in_each_language(client: Client, settings: Settings) -> None:
    settings.GOVSERVE_SITE_NAME = "Westmoor Council services"
    settings.GOVSERVE_SITE_NAME_CY = "Gwasanaethau Cyngor Westmoor"

    assert _title(client.get("/help")) == "Help and contact – Westmoor Council services"
    assert _title(_welsh(client).get("/help")) == "Help a chysylltu – Gwasanaethau Cyngor Westmoor"


def test_a_back_link_is_shown_when_the_page_sets_one(client: Client) -> None:
    assert parse(client.get("/test/layout").content).find_all("a", class_="govuk-back-link") == []

    link = parse(client.get("/test/layout?back=/apply/1/name").content).one("a", class_="govuk-back-link")
    assert (link.attrs["href"], link.text()) == ("/apply/1/name", "Back")

    link = parse(client.get("/test/layout?back=/applications/&back_text=Your+applications").content).one(
        "a", class_="govuk-back-link"
    )
    assert (link.attrs["href"], link.text()) == ("/applications/", "Your applications")

    link = parse(_welsh(client).get("/test/layout?back=/apply/1/name").content).one("a", class_="govuk-back-link")
    assert link.text() == "Yn ôl"


# --- navigation --------------------------------------------------------------------------------------------


def test_nobody_signed_in_sees_a_sign_in_link_that_returns_to_the_page(client: Client) -> None:
    page = parse(client.get("/test/layout?title=x").content)

    assert _navigation(page) == [("/", "Public services"), ("/sign-in?next=%2Ftest%2Flayout", "Sign in")]
    assert page.find_all("form", action="/sign-out") == []


def test_a_signed_in_citizen_sees_their_applications_account_and_a_sign_out_button(client: Client) -> None:
    sign_in_citizen(client)

    page = parse(client.get("/test/layout").content)

    assert _navigation(page) == [
        ("/", "Public services"),
        ("/applications/", "Your applications"),
        ("/account", "Your account"),
    ]
    navigation = page.one("section", class_="govuk-service-navigation")
    form = navigation.one("form")
    assert (form.attrs["method"], form.attrs["action"]) == ("post", "/sign-out")
    assert form.one("input", name="csrfmiddlewaretoken").attrs["type"] == "hidden"
    button = form.one("button")
    assert (button.attrs["type"], button.text()) == ("submit", "Sign out")
    assert "govuk-service-navigation__link" in (button.attrs["class"] or "").split()


def test_the_navigation_marks_the_section_the_citizen_is_in(client: Client) -> None:
    # /applications/ pages belong to the journeys app: ask the layout directly for one of them.
    sign_in_citizen(client)
    request = RequestFactory().get("/applications/3f2a/")
    request.session = client.session

    layout = page_layout(request)

    assert [(item["href"], item["active"]) for item in layout.navigation] == [
        ("/applications/", True),
        ("/account", False),
    ]


def test_signing_out_from_the_navigation_signs_the_citizen_out(client: Client) -> None:
    sign_in_citizen(client)
    page = parse(client.get("/test/layout").content)
    form = page.one("section", class_="govuk-service-navigation").one("form")

    response = client.post(form.attrs["action"] or "", {})

    assert response.status_code == 200
    assert "gs.kind" not in client.session
    assert _navigation(parse(client.get("/test/layout").content))[-1] == ("/sign-in?next=%2Ftest%2Flayout", "Sign in")


def _officer() -> Staff:
    institution = institution_create(code="city-council", name="Westmoor City Council")
    user = staff_create(username="officer")
    role_grant(user=user, institution=institution, role="licensing_officer")
    return Staff(user=user, device=device_create(user=user), institution=institution)


def test_staff_pages_show_staff_navigation_not_the_citizen_one(client: Client) -> None:
    sign_in(client, _officer())

    page = parse(client.get("/staff/test/layout").content)

    assert _navigation(page) == [("/", "Public services"), ("/staff/", "Staff home")]
    navigation = page.one("section", class_="govuk-service-navigation")
    assert navigation.one("nav").attrs["aria-label"] == "Staff menu"
    assert navigation.one("form").attrs["action"] == "/staff/sign-out"


def test_a_staff_page_can_bring_its_own_navigation_items(client: Client) -> None:
    sign_in(client, _officer())

    page = parse(client.get("/staff/test/layout?staff_nav=1").content)

    assert _navigation(page) == [("/", "Public services"), ("/staff/queues/", "Work queues")]
    assert page.one("a", href="/staff/queues/").attrs["aria-current"] == "true"


def test_staff_pages_offer_no_navigation_before_sign_in(client: Client) -> None:
    page = parse(client.get("/staff/test/layout").content)

    assert _navigation(page) == [("/", "Public services")]
    assert page.find_all("form", action="/staff/sign-out") == []


def test_a_citizen_session_is_not_a_staff_session_on_staff_pages(client: Client) -> None:
    sign_in_citizen(client)

    page = parse(client.get("/staff/test/layout").content)

    assert _navigation(page) == [("/", "Public services")]


def test_account_pages_keep_their_own_navigation_and_only_it(client: Client) -> None:
    sign_in_citizen(client)

    page = parse(client.get("/account").content)

    navigations = page.find_all(class_="govuk-service-navigation")
    assert len(navigations) == 1
    assert [(a.attrs["href"], a.text()) for a in navigations[0].find_all("a")] == [
        ("/account", "Your account"),
        ("/sign-out", "Sign out"),
    ]
    assert _footer_links(page) == ENGLISH_FOOTER


def test_staff_account_pages_keep_their_own_navigation(client: Client) -> None:
    page = parse(client.get("/staff/sign-in").content)

    navigations = page.find_all(class_="govuk-service-navigation")
    assert len(navigations) == 1
    assert navigations[0].one("span", class_="govuk-service-navigation__service-name").text() == "govserve staff"


# --- no inline script or style (Content-Security-Policy) ------------------------------------------------------


def _assert_no_inline_code(response_content: bytes, policy: str) -> None:
    nonce = policy.split("'nonce-", 1)[1].split("'", 1)[0]
    page = parse(response_content)
    scripts = page.find_all("script")
    assert scripts, "every page loads GOV.UK Frontend"
    for script in scripts:
        assert script.attrs.get("nonce") == nonce, script.attrs
        assert script.attrs.get("src") or script.text().startswith("document.body.className"), script.attrs
    assert page.find_all("style") == []
    for element in page.iter():
        assert "style" not in element.attrs, element.tag
        assert not [name for name in element.attrs if name.startswith("on")], (element.tag, element.attrs)
        assert not str(element.attrs.get("href") or "").lower().startswith("javascript:")


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/help",
        "/accessibility",
        "/privacy",
        "/cookies",
        "/sign-in",
        "/staff/sign-in",
        "/no-such-page",
        "/session/ended?next=/",
        "/test/layout?errors=1&back=/&draft=1",
    ],
)
@pytest.mark.parametrize("language", ["en", "cy"])
def test_no_page_has_inline_script_or_style(client: Client, path: str, language: str) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language

    response = client.get(path)

    assert response.status_code in {200, 404}
    _assert_no_inline_code(response.content, response["Content-Security-Policy"])


def test_no_inline_script_or_style_for_a_signed_in_citizen_with_the_timeout_warning(client: Client) -> None:
    sign_in_citizen(client)

    response = client.get("/test/layout")

    assert parse(response.content).find_all("dialog")  # the warning is on this page
    _assert_no_inline_code(response.content, response["Content-Security-Policy"])

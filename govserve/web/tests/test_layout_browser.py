"""The session-timeout warning in a real browser: Playwright driving Debian's chromium.

With a 10-second idle timeout the warning opens after 5 seconds. Checked: the
modal takes focus and keeps it (Tab cycles inside), Escape and "Stay signed in"
extend the session through /session/extend and give focus back, the countdown
reads in whole seconds, and with no answer the page goes to /session/ended
(on clocks the test moves, the page's and the server's: no waiting in real time).
No script or style is blocked by the Content-Security-Policy.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from govserve.web.tests.conftest import MovableClock

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.urls("govserve.web.tests.layout_support"),
]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def browser_page(live_server: LiveServer, transactional_db: None, settings: Settings) -> Iterator[Any]:
    if CHROMIUM is None:
        pytest.fail("Debian's chromium is not installed (scripts/system_deps.sh installs it)")
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - only the browser tests need it

    # Long enough for the browser to start before the session would end, short enough to wait for.
    settings.SESSION_COOKIE_AGE = 10
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        context = browser.new_context()
        page: Any = context.new_page()
        console: list[Any] = []
        page.on("console", lambda message: console.append(message))  # noqa: PLW0108 - Playwright wraps the callable
        page.console_errors = lambda: [message.text for message in console if message.type == "error"]
        yield page
        context.close()
        browser.close()


def _active_element_id(page: Any) -> str:
    return str(
        page.evaluate(
            "document.activeElement && (document.activeElement.id || document.activeElement.textContent.trim())"
        )
    )


def _focus_is_inside_the_dialog(page: Any) -> bool:
    return bool(page.evaluate("document.getElementById('govserve-timeout-dialog').contains(document.activeElement)"))


def test_the_warning_takes_focus_extends_on_escape_and_gives_focus_back(
    browser_page: Any, live_server: LiveServer
) -> None:
    page = browser_page
    page.goto(f"{live_server.url}/test/sign-in?next=/test/layout%3Ftitle%3DYour%2Bname")
    help_link = page.locator("footer a[href='/help']")
    help_link.focus()

    page.wait_for_selector("dialog[open]", timeout=8000)

    assert _active_element_id(page) == "govserve-timeout-heading"
    assert page.locator("[data-extend-problem]").is_hidden()
    assert re.fullmatch(r"[1-5] seconds?", page.locator("[data-countdown]").inner_text())
    for _ in range(6):  # Tab and Shift+Tab never leave the dialog
        page.keyboard.press("Tab")
        assert _focus_is_inside_the_dialog(page)
    for _ in range(3):
        page.keyboard.press("Shift+Tab")
        assert _focus_is_inside_the_dialog(page)

    with page.expect_response(lambda response: response.url.endswith("/session/extend")) as answer:
        page.keyboard.press("Escape")

    assert answer.value.status == 200
    assert answer.value.json()["extended"] is True
    page.wait_for_selector("dialog:not([open])", state="attached", timeout=2000)
    assert page.evaluate("document.activeElement.getAttribute('href')") == "/help"
    assert page.url == f"{live_server.url}/test/layout?title=Your+name"
    assert page.console_errors() == []


def _let_time_pass(page: Any, server_clock: MovableClock, seconds: float) -> None:
    """Move the server's clock, then the page's, by ``seconds``: the page's timers that fall due fire."""
    server_clock.advance(seconds=seconds)
    page.clock.run_for(round(seconds * 1000))


def test_stay_signed_in_extends_and_no_answer_ends_on_the_ended_page(
    browser_page: Any, live_server: LiveServer, settings: Settings, movable_clock: MovableClock
) -> None:
    # Both clocks are the test's (the page's timers and the server's idle count), so nothing waits
    # in real time; the timeout is long enough that real time passing never opens the warning.
    settings.SESSION_COOKIE_AGE = 600
    page = browser_page
    page.clock.install()
    page.goto(f"{live_server.url}/test/sign-in?next=/test/layout")
    timeout = int(page.locator("body").get_attribute("data-session-timeout") or 0)
    warning = int(page.locator("body").get_attribute("data-session-warning") or 0)
    assert 0 < warning < timeout

    _let_time_pass(page, movable_clock, timeout - warning + 0.5)
    page.wait_for_selector("dialog[open]", timeout=2000)
    with page.expect_response(lambda response: response.url.endswith("/session/extend")) as answer:
        page.get_by_role("button", name="Stay signed in").click()
    assert answer.value.json()["extended"] is True
    page.wait_for_selector("dialog:not([open])", state="attached", timeout=2000)

    # the warning comes back as the extended session nears its end; unanswered, the page leaves
    # 5 seconds after the deadline, and the server has ended the session by then
    _let_time_pass(page, movable_clock, timeout - warning + 0.5)
    page.wait_for_selector("dialog[open]", timeout=2000)
    _let_time_pass(page, movable_clock, warning + 5)
    page.wait_for_url("**/session/ended?**", timeout=15000)

    assert page.locator("h1").inner_text() == "For your security, we signed you out"
    assert page.console_errors() == []


COUNTDOWN = """async (seconds) => {
  const { countdownText } = await import('/static/web/session-timeout.js')
  const dialog = document.getElementById('govserve-timeout-dialog')
  return seconds.map((n) => countdownText(dialog, n))
}"""


def test_the_countdown_takes_the_plural_form_of_the_page_language(
    browser_page: Any, live_server: LiveServer, settings: Settings
) -> None:
    page = browser_page
    settings.SESSION_COOKIE_AGE = 600  # no warning opens while the countdown is computed
    seconds = [360, 180, 120, 60, 59, 1, 0]

    page.goto(f"{live_server.url}/test/sign-in?next=/test/layout")
    english = page.evaluate(COUNTDOWN, seconds)
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "cy", "url": live_server.url}])
    page.goto(f"{live_server.url}/test/layout")
    welsh = page.evaluate(COUNTDOWN, seconds)

    assert english == ["6 minutes", "3 minutes", "2 minutes", "1 minute", "59 seconds", "1 second", "0 seconds"]
    assert welsh == ["6 munud", "3 munud", "2 funud", "1 munud", "59 eiliad", "1 eiliad", "0 eiliad"]

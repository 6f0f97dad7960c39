"""Keyboard only: a citizen reports a street light without a mouse, and pages tab through cleanly.

Each page checked with :func:`assert_keyboard_operable` is tabbed through
forwards and backwards: focus follows the reading order, every stop shows a
visible focus indicator, and Tab always moves on (no trap). The answers are
given with Tab, typing, arrow keys, Space and Enter only.
"""

from __future__ import annotations

import pytest

from govserve.journeys.models import Application, ApplicationStatus
from govserve.journeys.tests.support import examples_publish
from tests.browser import people
from tests.browser.browsing import Tab
from tests.browser.conftest import OpenTab
from tests.browser.inventory import INVENTORY
from tests.browser.journey import Choose, Fill, Tick, Upload, answer_by_keyboard, jpeg_file
from tests.browser.keyboard import assert_keyboard_operable, focused, tab_to

pytestmark = pytest.mark.browser

_BY_ID = {page_type.id: page_type for page_type in INVENTORY}


def _is_focused(tab: Tab, selector: str) -> bool:
    return bool(tab.page.evaluate("(selector) => document.activeElement.matches(selector)", selector))


def test_a_citizen_reports_a_street_light_with_the_keyboard_alone(site: str, open_tab: OpenTab) -> None:
    # given the street light service, and a person who uses a keyboard, not a mouse
    examples_publish()
    tab = open_tab(javascript=True)
    tab.goto("/services/report-street-light/")
    assert_keyboard_operable(tab.page)
    answer_by_keyboard(tab, "Report a problem with a street light", [], button="Start now")
    assert_keyboard_operable(tab.page)
    answer_by_keyboard(tab, "Enter your email address", [Fill("Enter your email address", "ada@example.org")])

    # when they send a page without answering, the error summary takes focus and links to the question
    tab_to(tab.page, "#continue-button")
    tab.navigate(lambda: tab.page.keyboard.press("Enter"), status=400)
    assert _is_focused(tab, ".govuk-error-summary")
    tab.page.keyboard.press("Tab")
    stop = focused(tab.page)
    assert stop is not None
    assert stop.label.startswith('a "Select'), stop.label
    tab.page.keyboard.press("Enter")
    assert _is_focused(tab, "#on_private_land")
    assert_keyboard_operable(tab.page)

    # and they answer every question with the keyboard, a revealed question included
    answer_by_keyboard(tab, "Is the light on private land?", [Choose("No")])
    Choose("It is damaged").give_by_keyboard(tab.page)
    assert_keyboard_operable(tab.page)  # the revealed question follows its radio in the tab order
    answer_by_keyboard(tab, "What is wrong with the light?", [Choose("Yes", "Can you see any wires?")])
    answer_by_keyboard(
        tab,
        "Where is the light?",
        [Fill("Street name", "Babbage Street"), Fill("Postcode (if you know it)", "WM1 4QT")],
    )
    assert_keyboard_operable(tab.page)
    answer_by_keyboard(tab, "Add a photo of the problem (optional)", [Upload("Photo", jpeg_file())])
    answer_by_keyboard(
        tab,
        "Your details",
        [Fill("Your name", "Ada Lovelace"), Fill("Email address", "ada@example.org"), Choose("No updates")],
    )
    assert_keyboard_operable(tab.page)
    answer_by_keyboard(
        tab,
        "Check your answers before sending your application",
        [Tick("I confirm that the information I have given is correct and complete to the best of my knowledge.")],
        button="Accept and send",
    )

    # then the report is sent, and the confirmation page is operable too
    assert_keyboard_operable(tab.page)
    reference = tab.page.locator("#reference").inner_text().strip()
    assert Application.objects.get(reference=reference).status == ApplicationStatus.SUBMITTED


@pytest.mark.parametrize(
    "page_id",
    ["home", "citizen-sign-in-errors", "staff-code-error", "staff-enrol", "help", "citizen-account"],
)
def test_pages_tab_through_in_reading_order_without_javascript(page_id: str, open_tab: OpenTab) -> None:
    # given a browser without JavaScript on the page
    tab = open_tab(javascript=False)
    _BY_ID[page_id].reach(tab)
    # then the keyboard reaches everything in order, with a visible focus, and leaves the page
    assert_keyboard_operable(tab.page)
    if tab.error_summary():
        # the error summary comes before the form, so Tab reaches its links first
        tab.page.evaluate("() => document.activeElement && document.activeElement.blur()")
        tab_to(tab.page, ".govuk-error-summary a")


def test_the_session_timeout_warning_holds_focus_and_extends_the_session(site: str, open_tab: OpenTab) -> None:
    # given a signed-in citizen whose page runs on a clock the test controls
    tab = open_tab(javascript=True)
    tab.page.clock.install()
    people.applicant_sign_in(tab, people.applicant_create())
    tab.goto("/account")
    timeout = int(tab.page.locator("body").get_attribute("data-session-timeout") or 0)
    warning = int(tab.page.locator("body").get_attribute("data-session-warning") or 0)
    assert 0 < warning < timeout
    # when the warning time comes (WCAG 2.2.1: a warning, and a way to extend, before the session ends)
    tab.page.clock.run_for((timeout - warning + 1) * 1000)
    dialog = tab.page.get_by_role("dialog")
    assert dialog.is_visible()
    # then the dialog has focus, passes axe, and keeps Tab among its own controls while it is open
    assert _is_focused(tab, "#govserve-timeout-heading")
    tab.assert_accessible("session-timeout warning")
    seen = []
    for _ in range(4):
        tab.page.keyboard.press("Tab")
        stop = focused(tab.page)
        assert stop is not None
        assert tab.page.evaluate("() => document.activeElement.closest('dialog') !== null"), stop.label
        seen.append(stop.label)
    assert seen == ['button "Stay signed in"', 'button "Sign out"', 'button "Stay signed in"', 'button "Sign out"']
    # and Escape extends the session: the dialog closes and the server has the session's activity
    with tab.page.expect_response(lambda response: response.url.endswith("/session/extend")) as extended:
        tab.page.keyboard.press("Escape")
    assert extended.value.status == 200
    tab.page.wait_for_function("() => !document.querySelector('dialog').open")
    assert not dialog.is_visible()

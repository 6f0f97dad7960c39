"""The harness itself: Debian's chromium, a shared database, and checks that do fail when they should.

Each check of the other browser tests (CSP, axe-core, keyboard) is shown
here to fail on a page built to break it, so a green run means something.
Broken pages are served through Playwright's routing at a live-server URL
(same origin, the site's CSS), never added to the site itself.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import playwright
import pytest
from playwright._impl._driver import compute_driver_executable
from playwright.sync_api import Browser, Route

from govserve.audit.models import AuditEntry
from tests.browser import people
from tests.browser.browsing import Tab
from tests.browser.conftest import CHROMIUM, OpenTab
from tests.browser.keyboard import assert_keyboard_operable

pytestmark = pytest.mark.browser

_STYLESHEET = '<link rel="stylesheet" href="/static/govuk/govuk-frontend.min.css">'


def _serve(tab: Tab, path: str, body: str) -> None:
    """Answer ``path`` with ``body`` (no CSP header: the page may carry its own inline script)."""

    def fulfil(route: Route) -> None:
        route.fulfill(status=200, content_type="text/html; charset=utf-8", body=body)

    tab.page.route(f"{tab.base_url}{path}", fulfil)


def _page(body: str, *, script: str = "") -> str:
    return (
        f'<!DOCTYPE html><html lang="en"><head><title>Harness page</title>{_STYLESHEET}</head>'
        f'<body class="govuk-template__body"><main class="govuk-main-wrapper" id="main-content">{body}</main>'
        f"{script}</body></html>"
    )


def test_playwright_drives_debians_chromium_with_its_bundled_driver(browser: Browser) -> None:
    # given Debian's chromium binary
    reported = subprocess.run([str(CHROMIUM), "--version"], capture_output=True, text=True, check=True).stdout
    # then the browser under test is that build (same major.minor.build.patch)
    assert browser.browser_type.name == "chromium"
    assert browser.version in reported, (browser.version, reported)
    # and Playwright's node driver is the one inside the Python wheel (nothing downloaded)
    node, cli = compute_driver_executable()
    package = Path(playwright.__file__).parent
    assert Path(node).is_relative_to(package)
    assert Path(cli).is_relative_to(package)


def test_without_chromium_the_browser_tests_fail_and_say_why(tmp_path: Path) -> None:
    # given a machine where chromium is not where the tests look for it
    missing = tmp_path / "no-chromium"
    environment = {**os.environ, "GOVSERVE_CHROMIUM": str(missing)}
    environment.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    # when the browser tests run there
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "-rA",
            f"{__file__}::test_playwright_drives_debians_chromium_with_its_bundled_driver",
        ],
        capture_output=True,
        text=True,
        env=environment,
        cwd=Path(__file__).parents[2],
        timeout=120,
        check=False,
    )
    # then they fail (an error, never a skip) and name the fix
    output = run.stdout + run.stderr
    assert run.returncode == 1, output[-3000:]
    assert "1 error" in output, output[-3000:]
    assert re.search(r"\d+ skipped", output) is None, output[-3000:]
    assert f"Debian's chromium is not installed at {missing}" in output
    assert "make system-deps" in output


def test_the_live_server_and_the_test_share_one_database(open_tab: OpenTab) -> None:
    # given a citizen account created by the test (committed: transactional_db)
    applicant = people.applicant_create("grace@example.org")
    tab = open_tab(javascript=False)
    # when the server signs them in
    people.applicant_sign_in(tab, applicant)
    # then the server read what the test wrote, and the test reads what the server wrote
    assert tab.path == "/account"
    assert "grace@example.org" in tab.page.locator("main").inner_text()
    signed_in = AuditEntry.objects.filter(action="accounts.citizen.signed_in", subject_id=str(applicant.citizen.id))
    assert signed_in.count() == 1


def test_home_page_loads_with_its_styles_under_the_real_csp(open_tab: OpenTab, javascript: bool) -> None:
    # given a person with (or without) JavaScript
    tab = open_tab(javascript=javascript)
    # when they open the home page
    response = tab.goto("/")
    # then it is served with a nonce-based CSP, the GOV.UK styles apply, and nothing was refused
    policy = response.headers["content-security-policy"]
    assert "script-src 'self' 'nonce-" in policy
    font = tab.page.evaluate("() => getComputedStyle(document.querySelector('h1')).fontFamily")
    assert "GDS Transport" in font
    supported = tab.page.evaluate("() => document.body.classList.contains('govuk-frontend-supported')")
    assert supported is javascript
    tab.assert_clean()


def test_a_csp_violation_fails_the_page(open_tab: OpenTab) -> None:
    # given the real home page with an inline script that carries no nonce
    tab = open_tab(javascript=True)

    def inject(route: Route) -> None:
        response = route.fetch()
        body = response.text().replace("</body>", "<script>document.title = 'injected';</script></body>")
        route.fulfill(response=response, body=body)

    tab.page.route(f"{tab.base_url}/", inject)
    # when it loads, then the browser refuses the script and the check fails, naming the policy
    with pytest.raises(AssertionError, match="Content Security Policy violations"):
        tab.goto("/")
    assert tab.page.title() != "injected"
    tab.console.clear()


def test_audits_without_javascript_run_none_of_the_pages_scripts(open_tab: OpenTab) -> None:
    # given a page whose script would hide an unlabelled field when it runs
    tab = open_tab(javascript=True)
    script = "<script>document.querySelector('input').remove();</script>"
    _serve(tab, "/harness/script", _page('<h1 class="govuk-heading-l">Title</h1><input type="text">', script=script))
    tab.goto("/harness/script")
    # then the live page passes, and the markup as a browser without JavaScript shows it does not
    tab.assert_accessible()
    with pytest.raises(AssertionError, match=r'"label"'):
        tab.assert_accessible(also_without_javascript=True)


def test_axe_fails_a_page_with_an_unlabelled_field(open_tab: OpenTab, javascript: bool) -> None:
    # given a page whose text input has no label
    tab = open_tab(javascript=javascript)
    _serve(tab, "/harness/unlabelled", _page('<h1 class="govuk-heading-l">Title</h1><input type="text" name="x">'))
    tab.goto("/harness/unlabelled")
    # when axe-core audits it (live with JavaScript; as its static DOM without), then the rule is reported
    with pytest.raises(AssertionError, match=r'"label"') as failure:
        tab.assert_accessible()
    assert 'input[name="x"]' in str(failure.value) or "input" in str(failure.value)


def test_axe_sees_noscript_content_only_without_javascript(open_tab: OpenTab, javascript: bool) -> None:
    # given a page whose <noscript> block holds an image without alternative text
    tab = open_tab(javascript=javascript)
    body = '<h1 class="govuk-heading-l">Title</h1><noscript><img src="/assets/images/favicon.ico"></noscript>'
    _serve(tab, "/harness/noscript", _page(body))
    tab.goto("/harness/noscript")
    # when audited, then only the markup as a browser without JavaScript shows it has the violation
    if javascript:
        tab.assert_accessible()
        with pytest.raises(AssertionError, match=r"without JavaScript\): \[\"image-alt\"\]"):
            tab.assert_accessible(also_without_javascript=True)
    else:
        with pytest.raises(AssertionError, match=r"without JavaScript\): \[\"image-alt\"\]"):
            tab.assert_accessible()


def test_keyboard_check_fails_an_invisible_focus(open_tab: OpenTab) -> None:
    # given a button whose focus style has been removed (a common mistake)
    tab = open_tab(javascript=False)
    body = (
        '<a class="govuk-link" href="#a">A link</a>'
        '<button style="outline: none; box-shadow: none; background: #00703c; color: #fff">Continue</button>'
    )
    _serve(tab, "/harness/focus", _page(body))
    tab.goto("/harness/focus")
    # then the keyboard check names it
    with pytest.raises(AssertionError, match='no visible focus indicator on button "Continue"'):
        assert_keyboard_operable(tab.page)


def test_keyboard_check_fails_a_trap(open_tab: OpenTab) -> None:
    # given a field that swallows Tab
    tab = open_tab(javascript=True)
    body = '<label for="trap">Trap</label><input id="trap" class="govuk-input"><a class="govuk-link" href="#">Out</a>'
    script = (
        "<script>document.getElementById('trap').addEventListener('keydown', "
        "(event) => { if (event.key === 'Tab') event.preventDefault(); });</script>"
    )
    _serve(tab, "/harness/trap", _page(body, script=script))
    tab.goto("/harness/trap")
    # then the keyboard check reports the trap
    with pytest.raises(AssertionError, match="keyboard trap"):
        assert_keyboard_operable(tab.page)


def test_keyboard_check_fails_a_positive_tabindex(open_tab: OpenTab) -> None:
    # given a link that jumps the queue with tabindex="1"
    tab = open_tab(javascript=False)
    body = '<a class="govuk-link" href="#a">First</a><a class="govuk-link" href="#b" tabindex="1">Second</a>'
    _serve(tab, "/harness/order", _page(body))
    tab.goto("/harness/order")
    # then the keyboard check refuses it
    with pytest.raises(AssertionError, match="positive tabindex"):
        assert_keyboard_operable(tab.page)


def test_keyboard_check_passes_govuk_markup(open_tab: OpenTab, javascript: bool) -> None:
    # given GOV.UK markup: links, a text input, a radio group and a button
    tab = open_tab(javascript=javascript)
    body = (
        '<a class="govuk-link" href="#a">A link</a>'
        '<div class="govuk-form-group"><label class="govuk-label" for="name">Name</label>'
        '<input class="govuk-input" id="name" name="name" type="text"></div>'
        '<fieldset class="govuk-fieldset"><legend class="govuk-fieldset__legend">Colour</legend>'
        '<div class="govuk-radios"><div class="govuk-radios__item">'
        '<input class="govuk-radios__input" id="c1" name="c" type="radio" value="red">'
        '<label class="govuk-label govuk-radios__label" for="c1">Red</label></div>'
        '<div class="govuk-radios__item"><input class="govuk-radios__input" id="c2" name="c" type="radio" value="blue">'
        '<label class="govuk-label govuk-radios__label" for="c2">Blue</label></div></div></fieldset>'
        '<button class="govuk-button" type="submit">Continue</button>'
    )
    _serve(tab, "/harness/govuk", _page(body))
    tab.goto("/harness/govuk")
    # then every stop is reached in order, with a visible focus, and Tab leaves the page
    stops = assert_keyboard_operable(tab.page)
    assert [stop.label for stop in stops] == [
        'a "A link"',
        'input#name[name=name] ""',
        'input#c1[name=c] "red"',
        'button "Continue"',
    ]


@pytest.mark.parametrize(
    ("markup", "rule"),
    [
        # aria-expanded on a radio that reveals nothing GOV.UK-shaped
        (
            '<fieldset><legend>Pick</legend><input type="radio" id="r" name="r" aria-controls="x" '
            'aria-expanded="false" class="govuk-radios__input"><label for="r">A</label></fieldset><div id="x">X</div>',
            "aria-allowed-attr",
        ),
        # another refused attribute on a conditionally revealing radio
        (
            '<fieldset><legend>Pick</legend><input type="radio" id="r" name="r" aria-controls="c" aria-pressed="true" '
            'class="govuk-radios__input"><label for="r">A</label></fieldset>'
            '<div id="c" class="govuk-radios__conditional">More</div>',
            "aria-allowed-attr",
        ),
        # a file upload button whose name leaves out the words it shows
        (
            '<span id="l">Photo</span><button type="button" class="govuk-file-upload-button" '
            'aria-labelledby="l">Choose file</button>',
            "label-content-name-mismatch",
        ),
    ],
    ids=["expanded-without-conditional", "other-attribute", "upload-name-without-its-words"],
)
def test_findings_outside_the_recorded_exceptions_still_fail(open_tab: OpenTab, markup: str, rule: str) -> None:
    # given markup that looks like the GOV.UK components of decision 0005 but breaks the rule anyway
    tab = open_tab(javascript=True)
    _serve(tab, "/harness/set-aside", _page(f'<h1 class="govuk-heading-l">Title</h1>{markup}'))
    tab.goto("/harness/set-aside")
    # then axe's finding stands
    with pytest.raises(AssertionError, match=f'"{rule}"'):
        tab.assert_accessible()

"""A citizen's (or officer's) browser tab on the live server, with the checks every page gets.

:class:`Tab` wraps a Playwright page opened in its own browser context, with
or without JavaScript. Every navigation asserts the HTTP status, and
:meth:`Tab.assert_clean` (run after each navigation and at the end of each
test) fails on:

- any console message about the Content Security Policy (a refused inline
  script or style, a blocked source): the site's CSP uses nonces, so a
  violation means a page works differently in production than it looks;
- any uncaught JavaScript exception;
- any sub-resource (CSS, script, font, image) answered with an error status
  or not loaded at all.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Request, Response, ViewportSize

from tests.browser import axe

CSP_MESSAGE = re.compile(r"content[ -]security[ -]policy", re.IGNORECASE)
# WCAG 1.4.10 Reflow: content fits 320 CSS pixels wide without scrolling sideways.
NARROW: ViewportSize = {"width": 320, "height": 640}
# Elements wider than the viewport, except in data tables and preformatted text (two-dimensional
# content, which 1.4.10 exempts), when the page scrolls sideways at all.
_OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth <= width) return [];
  return [...document.querySelectorAll("body *")]
    .filter((element) => {
      if (element.closest("table, pre")) return false;
      const box = element.getBoundingClientRect();
      return box.width > 0 && box.height > 0 && box.right > width + 1 && element.checkVisibility();
    })
    .slice(0, 5)
    .map((element) => element.outerHTML.slice(0, 200));
}"""
# A laptop screen.
DESKTOP: ViewportSize = {"width": 1280, "height": 900}


@dataclass
class Tab:
    """One page in its own context (its own cookies): a person using the site."""

    context: BrowserContext
    page: Page
    auditor: Page
    base_url: str
    javascript: bool
    document: Response | None = None
    console: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_resources: list[str] = field(default_factory=list)

    @classmethod
    def open(cls, browser: Browser, auditor: Page, base_url: str, *, javascript: bool, **context_options: Any) -> Tab:
        """Open a new context and page; ``context_options`` go to ``browser.new_context``.

        ``auditor`` is the scripting page that audits markup as a browser without JavaScript shows it.
        """
        options: dict[str, Any] = {"viewport": DESKTOP, "locale": "en-GB", "java_script_enabled": javascript}
        options.update(context_options)
        context = browser.new_context(base_url=base_url, **options)
        context.set_default_timeout(10_000)
        context.set_default_navigation_timeout(15_000)
        tab = cls(context=context, page=context.new_page(), auditor=auditor, base_url=base_url, javascript=javascript)
        tab.page.on("console", tab._on_console)
        tab.page.on("pageerror", lambda error: tab.page_errors.append(str(error)))
        tab.page.on("response", tab._on_response)
        tab.page.on("requestfailed", tab._on_request_failed)
        # Intercept file choosers for the tab's whole life. Playwright turns interception on when the
        # first "filechooser" listener is added and off when the last goes, with a message it does not
        # wait for: with only expect_file_chooser() listening, a key press could reach Chromium first,
        # open the real (headless, cancelled) dialog, and the test wait for a chooser that never came.
        tab.page.on("filechooser", lambda chooser: None)
        return tab

    def _on_console(self, message: ConsoleMessage) -> None:
        self.console.append(f"{message.type}: {message.text}")

    def _on_response(self, response: Response) -> None:
        if response.request.resource_type == "document" and response.frame == self.page.main_frame:
            self.document = response
        # The document's own status is asserted by goto()/submit(); everything it loads must succeed.
        if response.request.resource_type != "document" and response.status >= 400:
            self.failed_resources.append(f"{response.status} {response.url}")

    def _on_request_failed(self, request: Request) -> None:
        failure = request.failure or ""
        # A navigation away (or a download) aborts what was still loading: not a fault of the page.
        if "ERR_ABORTED" not in failure and request.resource_type != "document":
            self.failed_resources.append(f"{failure} {request.url}")

    # --- navigation -----------------------------------------------------------------------------------

    def goto(self, path: str, *, status: int = 200) -> Response:
        """Open ``path`` (relative to the live server) and assert the response status."""
        response = self.page.goto(path, wait_until="load")
        assert response is not None, f"no response for {path}"
        assert response.status == status, f"GET {path}: expected {status}, got {response.status}\n{self.text()[:1500]}"
        self.assert_clean()
        return response

    def navigate(self, action: Callable[[], object], *, status: int = 200) -> Response:
        """Run ``action`` (a click, Enter on a button), wait for the page it loads and assert its status."""
        with self.page.expect_navigation(wait_until="load") as navigation:
            action()
        response = navigation.value
        assert response is not None, "the action loaded no page"
        assert response.status == status, (
            f"{response.request.method} {response.url}: expected {status}, got {response.status}\n{self.text()[:1500]}"
        )
        self.assert_clean()
        return response

    def click_button(self, name: str, *, status: int = 200) -> Response:
        """Press the button called ``name`` (exact accessible name) and wait for the next page."""
        button = self.page.get_by_role("button", name=name, exact=True)
        return self.navigate(button.click, status=status)

    def click_link(self, name: str, *, status: int = 200) -> Response:
        """Follow the link called ``name`` (exact accessible name) and wait for the next page."""
        link = self.page.get_by_role("link", name=name, exact=True)
        return self.navigate(link.first.click, status=status)

    # --- reading --------------------------------------------------------------------------------------

    @property
    def path(self) -> str:
        """Return the current URL without the server's origin."""
        return self.page.url.removeprefix(self.base_url)

    def text(self) -> str:
        """Return the visible text of the page (for messages and simple assertions)."""
        try:
            return self.page.inner_text("body")
        except Exception:
            return "<page text unavailable>"

    def heading(self) -> str:
        """Return the text of the page's h1."""
        return self.page.locator("h1").first.inner_text().strip()

    def error_summary(self) -> list[tuple[str, str]]:
        """Return the error summary's (message, link target) pairs, in order; [] without one."""
        links = self.page.locator(".govuk-error-summary__list a")
        return [
            (links.nth(i).inner_text().strip(), links.nth(i).get_attribute("href") or "") for i in range(links.count())
        ]

    # --- checks ---------------------------------------------------------------------------------------

    def assert_clean(self) -> None:
        """Fail on CSP messages, uncaught script errors or failed sub-resources so far (module docstring)."""
        csp = [message for message in self.console if CSP_MESSAGE.search(message)]
        assert not csp, f"Content Security Policy violations on {self.path}:\n" + "\n".join(csp)
        assert not self.page_errors, f"uncaught JavaScript errors on {self.path}:\n" + "\n".join(self.page_errors)
        assert not self.failed_resources, f"resources that failed to load on {self.path}:\n" + "\n".join(
            self.failed_resources
        )

    def assert_accessible(self, where: str = "", *, also_without_javascript: bool = False) -> None:
        """Run axe-core on the page as it is now; fail on any WCAG 2.2 AA violation.

        In a tab with JavaScript, ``also_without_javascript`` audits the server's HTML of the
        page too, as a browser without JavaScript shows it (the DOM before any script runs).
        """
        label = where or self.path
        if self.javascript:
            violations = axe.violations_in(self.page)
            assert not violations, axe.report(violations, where=f"{label} (with JavaScript)")
            if not also_without_javascript:
                return
            assert self.document is not None, "no page loaded"
            html = self.document.text()
        else:
            html = axe.static_dom(self.page)
        violations = axe.audit_static_html(self.auditor, self.page.url, html)
        assert not violations, axe.report(violations, where=f"{label} (without JavaScript)")

    @contextlib.contextmanager
    def narrow(self) -> Iterator[None]:
        """Show the page 320 CSS pixels wide (a small phone, or 1280 pixels zoomed to 400%) for a while."""
        wide = self.page.viewport_size
        self.page.set_viewport_size(NARROW)
        try:
            yield
        finally:
            if wide is not None:
                self.page.set_viewport_size(wide)

    def assert_reflows(self) -> None:
        """Fail when the page, 320 CSS pixels wide, scrolls sideways because of anything but a table."""
        with self.narrow():
            overflowing: list[str] = self.page.evaluate(_OVERFLOWING)
        assert not overflowing, f"{self.path} scrolls sideways at 320 CSS pixels (WCAG 1.4.10) because of:\n" + (
            "\n".join(overflowing)
        )

    def close(self) -> None:
        """Close the context (its cookies and pages)."""
        self.context.close()

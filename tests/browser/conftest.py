"""Fixtures of the browser tests: Debian's chromium through Playwright, and a live server.

- One chromium per run of this package (``browser``), a fresh context per
  tab (``open_tab``): contexts cost milliseconds, a browser start seconds.
  In a parallel run (``make pytest``: pytest-xdist) each worker process has
  its own chromium, live server (a port the OS picks) and test database.
- Chromium is Debian's ``/usr/bin/chromium`` (``scripts/system_deps.sh``
  installs it); Playwright's own download (``playwright install``) is never
  used, and works offline only because the Python wheel bundles its node
  driver. A missing chromium FAILS every browser test with the fix to run:
  CI requires real-browser tests, so they are never skipped.
- The server is pytest-django's ``live_server`` (Django's LiveServerThread,
  in this process, with the test settings and the whole middleware stack:
  CSP nonces, sessions, CSRF, rate limits) over the test database with
  ``transactional_db``: what a test writes is committed, so the server's
  threads see it, and the tables are emptied after each test. On SQLite the
  test database is in memory and Django hands the server thread the same
  connection (``connections_override``); on PostgreSQL (``DATABASE_URL``) the
  server opens its own connections to the test database.
- Playwright's synchronous API keeps an asyncio loop marked as running in
  the main thread while it lives, which Django's async-safety guard reads as
  "called from async code". The ORM calls of these tests are plain
  synchronous code, so the guard is relaxed (DJANGO_ALLOW_ASYNC_UNSAFE) for
  exactly as long as Playwright runs, and restored afterwards, so the tests
  of other packages keep the guard.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Error, Page, sync_playwright
from pytest_django.live_server_helper import LiveServer

from tests.browser.browsing import DESKTOP, Tab

CHROMIUM = Path(os.environ.get("GOVSERVE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
_ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"

OpenTab = Callable[..., Tab]


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test in tests/browser/ ``browser``, before ``-m`` selects, even if a module forgot to."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents and item.get_closest_marker("browser") is None:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Start Debian's chromium once for the whole browser package; fail (never skip) without it."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(
            f"Debian's chromium is not installed at {CHROMIUM}, and the browser tests need it "
            "(they are never skipped: CI requires real-browser tests). Install it with "
            "`make system-deps` (scripts/system_deps.sh, as root: apt-get install chromium) "
            "or point GOVSERVE_CHROMIUM at a chromium binary. Never `playwright install`.",
            pytrace=False,
        )
    previous = os.environ.get(_ASYNC_UNSAFE)
    os.environ[_ASYNC_UNSAFE] = "true"
    try:
        with sync_playwright() as playwright:
            try:
                launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            except Error as error:
                pytest.fail(f"chromium at {CHROMIUM} did not start under Playwright: {error}", pytrace=False)
            yield launched
            launched.close()
    finally:
        if previous is None:
            os.environ.pop(_ASYNC_UNSAFE, None)
        else:
            os.environ[_ASYNC_UNSAFE] = previous


@pytest.fixture(scope="package")
def auditor(browser: Browser) -> Iterator[Page]:
    """Return the scripting page that audits markup as browsers without JavaScript show it (axe.py)."""
    context = browser.new_context(viewport=DESKTOP, locale="en-GB")
    yield context.new_page()
    context.close()


@pytest.fixture
def site(live_server: LiveServer, transactional_db: None, tmp_path: Path, settings: Any) -> str:
    """Return the live server's base URL, over an empty, committed test database and a private file store."""
    from govserve.catalogue.selectors import compiled_cache_clear  # noqa: PLC0415 - after Django is set up

    media = tmp_path / "media"
    media.mkdir()
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(media)}},
    }
    settings.GOVSERVE_SCANNER = "test"
    # Links in emails (sign-in, resume) point at the live server.
    settings.PUBLIC_BASE_URL = live_server.url
    # Version numbers restart with every emptied database: no compiled definition may outlive it.
    compiled_cache_clear()
    return live_server.url


@pytest.fixture
def open_tab(browser: Browser, auditor: Page, site: str) -> Iterator[OpenTab]:
    """Return ``open_tab(javascript=True, **context_options) -> Tab``; every tab is checked and closed after."""
    tabs: list[Tab] = []

    def opener(*, javascript: bool = True, **context_options: Any) -> Tab:
        tab = Tab.open(browser, auditor, site, javascript=javascript, **context_options)
        tabs.append(tab)
        return tab

    yield opener
    try:
        for tab in tabs:
            tab.assert_clean()
    finally:
        for tab in tabs:
            tab.close()


@pytest.fixture(params=[True, False], ids=["js", "nojs"])
def javascript(request: pytest.FixtureRequest) -> bool:
    """Run the test twice: with JavaScript, and as a browser without it."""
    value: bool = request.param
    return value


@pytest.fixture
def tab(open_tab: OpenTab, javascript: bool) -> Tab:
    """Return one tab, with and without JavaScript (the test runs twice)."""
    return open_tab(javascript=javascript)


@pytest.fixture
def demo_mode(settings: Any) -> None:
    """Switch the demo on: the demo mail page shows the emails the site 'sent' (test settings keep it off)."""
    settings.GOVSERVE_DEMO = True

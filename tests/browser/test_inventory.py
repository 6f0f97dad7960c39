"""axe-core on every page type a person can see (tests/browser/inventory.py), with and without JavaScript.

Zero WCAG 2.2 AA violations, no rule disabled (tests/browser/axe.py), and
no sideways scrolling at 320 CSS pixels (WCAG 1.4.10, which axe cannot
check). The
inventory must keep up with the site: every route that renders HTML is
either in it or named in ``NOT_PAGES`` with the reason it is not a page.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.browser.conftest import OpenTab
from tests.browser.inventory import INVENTORY, NOT_PAGES, PageType
from tests.browser.inventory_journeys import PHONE_PAGES

pytestmark = pytest.mark.browser


def _named_routes(patterns: list[Any], namespace: str = "") -> Iterator[str]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}:{pattern.namespace}" if namespace and pattern.namespace else pattern.namespace
            yield from _named_routes(pattern.url_patterns, inner or namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}:{pattern.name}" if namespace else pattern.name


def test_inventory_lists_every_page_route() -> None:
    # given every named route of the site, except the Django admin (its own templates, administrators only)
    routes = {route for route in _named_routes(get_resolver().url_patterns) if not route.startswith("admin:")}
    # then each renders a page type of the inventory, or is named with the reason it renders no page
    covered = {page_type.route for page_type in INVENTORY}
    assert sorted(routes - covered - set(NOT_PAGES)) == []
    # and the inventory names no route that does not exist (a renamed route would go unaudited)
    named = {route for route in covered | set(NOT_PAGES) if not route.startswith("<")}
    assert sorted(named - routes) == []
    ids = {page_type.id for page_type in INVENTORY}
    assert len(ids) == len(INVENTORY)
    assert sorted(PHONE_PAGES - ids) == []


@pytest.mark.parametrize("page_type", INVENTORY, ids=lambda page_type: page_type.id)
def test_page_has_no_accessibility_violations(page_type: PageType, open_tab: OpenTab, settings: Any) -> None:
    # given a fresh browser and the settings the page needs
    for name, value in page_type.settings.items():
        setattr(settings, name, value)
    tab = open_tab(javascript=True)
    # when it reaches the page through the site
    page_type.reach(tab)
    # then axe-core finds no WCAG 2.2 AA violation, neither as enhanced by JavaScript nor as the
    # server's markup shows in a browser without it (the journey tests also browse without it)
    tab.assert_accessible(page_type.id, also_without_javascript=True)
    # and the page reflows on a 320 pixel wide screen, which axe cannot check
    tab.assert_reflows()
    if page_type.phone:
        with tab.narrow():
            tab.assert_accessible(f"{page_type.id} at 320 CSS pixels")

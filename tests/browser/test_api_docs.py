"""The API's browsable docs render in a real browser from this site's own assets (no CDN), under the CSP."""

from __future__ import annotations

import pytest

from tests.browser.conftest import OpenTab

pytestmark = pytest.mark.browser


def test_the_api_docs_render_offline_under_the_content_security_policy(open_tab: OpenTab) -> None:
    # given a browser that records every request the page makes
    tab = open_tab(javascript=True)
    requested: list[str] = []
    tab.page.on("request", lambda request: requested.append(request.url))
    # when it opens the docs
    tab.goto("/api/v1/docs")
    # then Swagger UI renders the operations from the OpenAPI document
    tab.page.get_by_text("/api/v1/applications/{application_id}/submit").first.wait_for(timeout=20_000)
    # and every request stayed on this site (the fixture's clean check fails on CSP or console errors)
    assert requested
    assert [url for url in requested if not url.startswith(tab.base_url)] == []

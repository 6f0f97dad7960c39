"""A PDF copy of an application's answers, rendered from HTML by weasyprint.

weasyprint (and its font and image stack) is imported only when a PDF is
asked for: it costs tens of megabytes per web worker, and most requests
never need it. The HTML has no external resources (inline styles, no
images, no fonts to fetch), so rendering never touches the network.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string

from govserve.core import clock
from govserve.journeys.models import Application


def _no_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """Refuse every resource the HTML might name: the copy is built from the answers alone."""
    msg = f"the answers PDF loads no external resources ({url[:60]!r} refused)"
    raise ValueError(msg)


def long_date(value: Any, language: str = "en") -> str:
    """Return the local date of ``value`` for people (the same form as the pages)."""
    from govserve.journeys.views.common import long_date as page_date  # noqa: PLC0415 - avoid a views import cycle

    return page_date(value, language)


def answers_pdf(
    *, request: HttpRequest, application: Application, title: str, sections: Sequence[dict[str, Any]]
) -> bytes:
    """Return the PDF of ``sections`` (check-your-answers rows) with the reference and the date it was sent."""
    import weasyprint  # noqa: PLC0415 - heavy: imported on first use only

    html = render_to_string(
        "journeys/answers_pdf.html",
        {
            "application": application,
            "title": title,
            "sections": sections,
            "generated_at": clock.now(),
            "long_date": long_date,
        },
        request=request,
    )
    document = weasyprint.HTML(string=html, url_fetcher=_no_fetch)
    content: bytes = document.write_pdf()
    return content

"""A PDF copy of an application's answers, rendered from HTML by weasyprint.

weasyprint (and its font and image stack) is imported only when a PDF is
asked for: it costs tens of megabytes per web worker, and most requests
never need it. The HTML has no external resources (inline styles, no
images, no fonts to fetch), so rendering never touches the network.

The PDF is tagged (PDF/UA-1: a structure tree of headings and the answers'
terms and descriptions, marked content, the document language and title,
shown as the window title), so screen readers read it as they read the page.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import translation

from govserve.core import clock
from govserve.journeys.models import Application

PDF_VARIANT = "pdf/ua-1"
"""Accessible PDF (ISO 14289-1): weasyprint tags the structure and writes the PDF/UA identification."""


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
    """Return the tagged PDF of ``sections`` (check-your-answers rows) with the reference and the date it was sent.

    The text is in the active language (the page's), and so are the PDF's
    ``/Lang`` and its title, "``title`` (en dash) reference", shown by PDF readers.
    """
    import weasyprint  # noqa: PLC0415 - heavy: imported on first use only

    language = "cy" if (translation.get_language() or "en").startswith("cy") else "en"
    html = render_to_string(
        "journeys/answers_pdf.html",
        {
            "application": application,
            "title": title,
            "sections": sections,
            "generated_at": clock.now(),
            "long_date": long_date,
            "language": language,
        },
        request=request,
    )
    document = weasyprint.HTML(string=html, url_fetcher=_no_fetch)
    content: bytes = document.write_pdf(pdf_variant=PDF_VARIANT)
    return content

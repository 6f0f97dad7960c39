"""A result's certificate: its template filled with the file's data, a QR code, and the PDF weasyprint makes of it.

The template is the text stored with the application's pinned version
(:mod:`govserve.catalogue.templates`), rendered by a *sandboxed* Jinja2
environment with autoescaping: a template is written by a service team, not
by the platform, so it can read the context it is given and nothing else
(no attribute games, no file or network access). The context
(:func:`result_context_build`):

- ``result``: ``name``, ``number``, ``issued_on`` and ``valid_until`` (dates
  as people read them, in the application's language; ``valid_until`` empty
  without expiry), ``issued_on_iso``, ``holder_name``, ``verify_url``,
  ``code``, ``qr_svg`` (an inline SVG of the QR code, 36.6 mm wide);
- ``issuer``: ``name`` and ``code`` of the registration's institution;
- ``application``: ``reference``, ``submitted_on``, ``language``;
- ``answers``: every answer as people read it, by field id (choices by their
  label, dates and money formatted, several lines joined by a new line);
- ``values``: the typed answers, for conditions in the template;
- ``processing``: the processing fields' values as people read them, by field
  id (what the roles recorded: an entry number, a visit date);
- ``processing_values``: the same, typed.

weasyprint and segno are imported only when a PDF or QR code is made: a web
worker that never issues one does not pay their memory. The HTML loads no
external resource (any URL is refused), so rendering never touches the network.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.urls import reverse
from markupsafe import Markup

from govserve.catalogue.compiled import CompiledDefinition
from govserve.catalogue.definitions.schema import Registration, Result
from govserve.catalogue.templates import template_compile
from govserve.journeys.fields.display import display_value
from govserve.journeys.fields.formats import format_date

if TYPE_CHECKING:
    from govserve.journeys.routing import JourneyState

QR_MODULE_MM = 0.6
PDF_VARIANT = "pdf/ua-1"


def verify_url(code: str) -> str:
    """Return the public address that verifies ``code``: ``PUBLIC_BASE_URL/verify/<code>``."""
    return f"{settings.PUBLIC_BASE_URL}{reverse('casework_results:verify_code', args=[code])}"


def qr_svg(url: str, *, title: str) -> Markup:
    """Return an inline SVG QR code of ``url`` (error correction M, 0.6 mm modules, a quiet zone of 4)."""
    import segno  # noqa: PLC0415 - imported on first use only

    code = segno.make(url, error="m", micro=False)
    svg = code.svg_inline(scale=QR_MODULE_MM, unit="mm", title=title, svgclass="qr-code", lineclass=None)
    return Markup(svg)  # noqa: S704 - segno's own markup; the title is escaped by segno


def template_render(text: str, context: Mapping[str, Any]) -> str:
    """Return the HTML of the template ``text`` filled with ``context`` (sandboxed, autoescaped)."""
    return template_compile(text).render(dict(context))


def _no_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """Refuse every resource the HTML might name: a certificate is self-contained."""
    msg = f"a result certificate loads no external resources ({url[:60]!r} refused)"
    raise ValueError(msg)


def pdf_render(html: str) -> bytes:
    """Return the tagged PDF (PDF/UA-1) of ``html``."""
    import weasyprint  # noqa: PLC0415 - heavy: imported on first use only

    document = weasyprint.HTML(string=html, url_fetcher=_no_fetch)
    content: bytes = document.write_pdf(pdf_variant=PDF_VARIANT)
    return content


@dataclass(frozen=True)
class CertificateFacts:
    """What a certificate says about its result (the row's data in plain values)."""

    number: str
    code: str
    issued_on: dt.date
    valid_until: dt.date | None
    holder_name: str
    issuer_name: str
    issuer_code: str


def holder_name_of(result: Result, answers: Mapping[str, Any]) -> str:
    """Return the holder's name: the answers of the result's ``holder_name`` fields joined by spaces."""
    parts = [str(answers.get(field_id) or "").strip() for field_id in result.holder_name]
    return " ".join(part for part in parts if part)


def answers_display(state: JourneyState, language: str, values: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Return every answer of the file (or ``values``: processing values) as people read it, by field id."""
    compiled = state.compiled
    fields = dict(compiled.definition.iter_fields())
    by_id = {field.id: field for field in fields.values()}
    shown: dict[str, str] = {}
    for field_id, value in (state.answers if values is None else values).items():
        definition_field = by_id.get(field_id)
        if definition_field is None or value is None:
            continue
        shown[field_id] = display_value(
            definition_field,
            value,
            language=language,
            catalogues=compiled.catalogues,
            currency=compiled.definition.currency,
            phone_region=compiled.definition.phone_region,
        )
    return shown


def result_context_build(
    *,
    compiled: CompiledDefinition,
    registration: Registration,
    result: Result,
    state: JourneyState,
    facts: CertificateFacts,
    reference: str,
    submitted_at: dt.datetime | None,
    language: str,
    processing: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Return the template context of one result (see the module docstring)."""
    url = verify_url(facts.code)
    name = result.name.get(language)
    zone = compiled.definition.time_zone
    from zoneinfo import ZoneInfo  # noqa: PLC0415 - tiny; kept beside its one use

    submitted_on = submitted_at.astimezone(ZoneInfo(zone)).date() if submitted_at is not None else None
    return {
        "result": {
            "id": result.id,
            "registration": registration.id,
            "name": name,
            "number": facts.number,
            "issued_on": format_date(facts.issued_on, language),
            "issued_on_iso": facts.issued_on.isoformat(),
            "valid_until": format_date(facts.valid_until, language) if facts.valid_until else "",
            "valid_until_iso": facts.valid_until.isoformat() if facts.valid_until else "",
            "holder_name": facts.holder_name,
            "verify_url": url,
            "code": facts.code,
            "qr_svg": qr_svg(url, title=f"QR code: {url}"),
        },
        "issuer": {"name": facts.issuer_name, "code": facts.issuer_code},
        "application": {
            "reference": reference,
            "submitted_on": format_date(submitted_on, language) if submitted_on else "",
            "language": language,
        },
        "answers": answers_display(state, language),
        "values": dict(state.answers),
        "processing": answers_display(state, language, processing or {}),
        "processing_values": dict(processing or {}),
    }


def add_period(start: dt.date, period: str) -> dt.date:
    """Return the last day of a ``period`` (ISO 8601, years/months/weeks/days) that begins on ``start``.

    ``P1Y`` from 27 November 2026 ends on 26 November 2027; a month end is
    clamped (``P1M`` from 31 January ends on 27 February, the day before 28 February).
    """
    years = months = weeks = days = 0
    number = ""
    for character in period.removeprefix("P"):
        if character.isdigit():
            number += character
            continue
        value = int(number or "0")
        number = ""
        if character == "Y":
            years = value
        elif character == "M":
            months = value
        elif character == "W":
            weeks = value
        elif character == "D":
            days = value
        else:
            msg = f"not an ISO 8601 period of years, months, weeks and days: {period!r}"
            raise ValueError(msg)
    month_index = start.month - 1 + months + 12 * years
    year, month = start.year + month_index // 12, month_index % 12 + 1
    day = min(start.day, _days_in_month(year, month))
    end = dt.date(year, month, day) + dt.timedelta(weeks=weeks, days=days)
    return end - dt.timedelta(days=1)


def _days_in_month(year: int, month: int) -> int:
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return (following - dt.timedelta(days=1)).day

"""The certificate: expiry dates, the sandboxed template, the QR code (decoded) and the context."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from types import MappingProxyType

import pytest
import zxingcpp
from jinja2.exceptions import SecurityError
from PIL import Image, ImageDraw

from govserve.casework.results import errors, services
from govserve.casework.results.models import IssuedResult
from govserve.casework.results.rendering import add_period, qr_svg, template_render
from govserve.casework.results.tests.support import OFFICER, approved_trading
from govserve.journeys.selectors import state_load


@pytest.mark.parametrize(
    ("start", "period", "last_day"),
    [
        (dt.date(2026, 11, 27), "P1Y", dt.date(2027, 11, 26)),
        (dt.date(2026, 1, 31), "P1M", dt.date(2026, 2, 27)),
        (dt.date(2028, 2, 29), "P1Y", dt.date(2029, 2, 27)),
        (dt.date(2026, 11, 27), "P18M", dt.date(2028, 5, 26)),
        (dt.date(2026, 11, 27), "P2W", dt.date(2026, 12, 10)),
        (dt.date(2026, 11, 27), "P90D", dt.date(2027, 2, 24)),
        (dt.date(2026, 11, 27), "P1Y2M3D", dt.date(2028, 1, 29)),
    ],
)
def test_a_period_ends_the_day_before_the_same_day_after_it(start: dt.date, period: str, last_day: dt.date) -> None:
    assert add_period(start, period) == last_day


def test_a_template_is_sandboxed_and_escapes_answers() -> None:
    assert template_render("{{ name }}", {"name": "<b>Ada</b>"}) == "&lt;b&gt;Ada&lt;/b&gt;"
    with pytest.raises(SecurityError):
        template_render("{{ name.__class__.__mro__[1].__subclasses__() }}", {"name": "x"})
    with pytest.raises(SecurityError):
        template_render("{% set _ = items.append(1) %}", {"items": []})


def _svg_modules(svg: str) -> tuple[int, list[tuple[int, int, int]]]:
    """Return (size in modules, horizontal runs (x, y, length)) of segno's inline SVG path."""
    width = float(re.search(r'viewBox="0 0 ([0-9.]+) ', svg).group(1))  # type: ignore[union-attr]
    scale = float(re.search(r'transform="scale\(([0-9.]+)\)"', svg).group(1))  # type: ignore[union-attr]
    path = re.search(r' d="([^"]+)"', svg).group(1)  # type: ignore[union-attr]
    x = y = 0.0
    runs: list[tuple[int, int, int]] = []
    for command, numbers in re.findall(r"([MmHh])([-0-9. ]+)", path):
        values = [float(number) for number in numbers.split()]
        if command == "M":
            x, y = values
        elif command == "m":
            x, y = x + values[0], y + values[1]
        elif command == "h":
            runs.append((round(x), int(y), round(values[0])))
            x += values[0]
    return round(width / scale), runs


def _decode(svg: str) -> str:
    size, runs = _svg_modules(svg)
    pixels = 8
    image = Image.new("L", (size * pixels, size * pixels), 255)
    draw = ImageDraw.Draw(image)
    for x, y, length in runs:
        draw.rectangle([x * pixels, y * pixels, (x + length) * pixels - 1, (y + 1) * pixels - 1], fill=0)
    found = zxingcpp.read_barcodes(image)
    assert len(found) == 1
    return str(found[0].text)


def test_the_qr_svg_decodes_to_the_address() -> None:
    url = "https://services.example.gov.uk/verify/" + "a2" * 78

    assert _decode(str(qr_svg(url, title="QR"))) == url


@pytest.mark.usefixtures("examples")
def test_the_certificate_html_fills_the_template_with_the_file_and_a_qr_of_its_verify_address() -> None:
    row = services.results_issue(approved_trading(), actor=OFFICER)[0]

    html = services.result_html(row)

    assert f"<dd>{row.number}</dd>" in html
    assert "<dd>Ada Lovelace</dd>" in html
    assert "Goods: Cut flowers and bouquets" in html  # the option's label, not its value
    assert "Market Square, pitch 1" in html
    svg = re.search(r"<svg.*?</svg>", html, re.DOTALL)
    assert svg is not None
    assert _decode(svg.group(0)) == f"https://services.example.gov.uk/verify/{row.code}"


@pytest.mark.usefixtures("examples")
def test_a_version_without_the_template_text_refuses_to_issue(monkeypatch: pytest.MonkeyPatch) -> None:
    # given a pinned version stored without its templates (a bundle of format 1 carries none)
    application = approved_trading()
    original = state_load

    def without_templates(*args: object, **kwargs: object) -> object:
        state = original(*args, **kwargs)  # type: ignore[arg-type]
        return dataclasses.replace(state, compiled=dataclasses.replace(state.compiled, templates=MappingProxyType({})))

    monkeypatch.setattr(services, "state_load", without_templates)

    # then issuing is refused with what to do, and nothing is issued
    with pytest.raises(errors.ResultTemplateMissingError, match="publish the service again"):
        services.results_issue(application, actor=OFFICER)
    assert not IssuedResult.objects.exists()

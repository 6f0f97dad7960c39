"""A citizen filling in the example services, by what the page says (labels, legends, button text).

Answers are found the way a person finds them: by the visible label of a
field, the legend of a group of radios or date inputs, the text of a button.
A field that cannot be found by its label fails the test, so every answer
given here is also a check that the field is labelled.

Each answer can be given with a mouse (``give``) or with the keyboard alone
(``give_by_keyboard``: Tab to the field, type, arrow keys for radios, Space
for checkboxes), which is how the keyboard-only run completes a service.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from django.core.files.uploadedfile import UploadedFile
from PIL import Image
from playwright.sync_api import FilePayload, Locator, Page

from govserve.journeys.access import Applicant
from govserve.journeys.services import page_answers_save
from tests.browser.browsing import Tab
from tests.browser.keyboard import tab_to

_MARK = "data-browser-test-target"


def _mark(locator: Locator) -> str:
    """Mark the element so the keyboard can be sent to it; return a selector for it."""
    locator.evaluate(f"(element) => element.setAttribute('{_MARK}', '')")
    return f"[{_MARK}]"


def _unmark(page: Page) -> None:
    page.evaluate(f"() => document.querySelectorAll('[{_MARK}]').forEach((e) => e.removeAttribute('{_MARK}'))")


def _tab_to_locator(page: Page, locator: Locator) -> None:
    tab_to(page, _mark(locator))
    _unmark(page)


def _type_into(page: Page, field: Locator, value: str) -> None:
    """Tab to ``field``, clear it and type ``value``, with keys only."""
    _tab_to_locator(page, field)
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.type(value)


@dataclass(frozen=True)
class Fill:
    """Type ``value`` into the text field labelled ``label`` (replacing what is there)."""

    label: str
    value: str

    def target(self, page: Page) -> Locator:
        return page.get_by_label(self.label, exact=True)

    def give(self, page: Page) -> None:
        self.target(page).fill(self.value)

    def give_by_keyboard(self, page: Page) -> None:
        _type_into(page, self.target(page), self.value)


@dataclass(frozen=True)
class Choose:
    """Choose the radio labelled ``label`` (in the group whose legend is ``legend``, when given)."""

    label: str
    legend: str = ""

    def target(self, page: Page) -> Locator:
        scope = page.get_by_role("group", name=self.legend, exact=True) if self.legend else page
        return scope.get_by_role("radio", name=self.label, exact=True)

    def give(self, page: Page) -> None:
        self.target(page).check()

    def give_by_keyboard(self, page: Page) -> None:
        radio = self.target(page)
        name = radio.get_attribute("name")
        # Tab reaches the group at its checked radio (or the first); arrow keys move and check.
        tab_to(page, f'input[type="radio"][name="{name}"]')
        for _ in range(page.locator(f'input[type="radio"][name="{name}"]').count()):
            if radio.evaluate("(element) => element === document.activeElement"):
                break
            page.keyboard.press("ArrowDown")
        assert radio.evaluate("(element) => element === document.activeElement"), f"arrows never reached {self.label}"
        if not radio.is_checked():
            page.keyboard.press("Space")
        assert radio.is_checked()


@dataclass(frozen=True)
class Tick:
    """Tick the checkbox labelled ``label``."""

    label: str

    def target(self, page: Page) -> Locator:
        return page.get_by_role("checkbox", name=self.label, exact=True)

    def give(self, page: Page) -> None:
        self.target(page).check()

    def give_by_keyboard(self, page: Page) -> None:
        checkbox = self.target(page)
        _tab_to_locator(page, checkbox)
        if not checkbox.is_checked():
            page.keyboard.press("Space")
        assert checkbox.is_checked()


@dataclass(frozen=True)
class Pick:
    """Pick ``option`` in the drop-down list labelled ``label``."""

    label: str
    option: str

    def give(self, page: Page) -> None:
        page.get_by_label(self.label, exact=True).select_option(label=self.option)

    def give_by_keyboard(self, page: Page) -> None:
        select = page.get_by_label(self.label, exact=True)
        _tab_to_locator(page, select)
        # Typing the start of an option's text selects it in a focused, closed select.
        page.keyboard.type(self.option)
        chosen = select.evaluate("(element) => element.options[element.selectedIndex].text.trim()")
        assert chosen == self.option, chosen


@dataclass(frozen=True)
class Date:
    """Enter a date in the Day, Month and Year inputs of the group whose legend is ``legend``."""

    legend: str
    day: int
    month: int
    year: int

    def _parts(self, page: Page) -> list[tuple[Locator, str]]:
        group = page.get_by_role("group", name=self.legend, exact=True)
        return [
            (group.get_by_label("Day", exact=True), str(self.day)),
            (group.get_by_label("Month", exact=True), str(self.month)),
            (group.get_by_label("Year", exact=True), str(self.year)),
        ]

    def give(self, page: Page) -> None:
        for field, value in self._parts(page):
            field.fill(value)

    def give_by_keyboard(self, page: Page) -> None:
        for field, value in self._parts(page):
            _type_into(page, field, value)


@dataclass(frozen=True)
class Upload:
    """Choose ``file`` for the upload labelled ``label``, through the browser's file chooser.

    The control is a file input, or with JavaScript GOV.UK Frontend's "Choose file" button in front of
    a hidden one: either way the person activates it and picks the file in the chooser.
    """

    label: str
    file: FilePayload

    def give(self, page: Page) -> None:
        with page.expect_file_chooser() as chooser:
            page.get_by_label(self.label, exact=True).click()
        chooser.value.set_files(self.file)

    def give_by_keyboard(self, page: Page) -> None:
        _tab_to_locator(page, page.get_by_label(self.label, exact=True))
        with page.expect_file_chooser() as chooser:
            page.keyboard.press("Space")
        chooser.value.set_files(self.file)


Answer = Fill | Choose | Tick | Pick | Date | Upload


def jpeg_file(name: str = "photo.jpg") -> FilePayload:
    """Return a small, real JPEG for upload fields."""
    buffer = io.BytesIO()
    Image.new("RGB", (48, 48), (200, 120, 40)).save(buffer, format="JPEG")
    return {"name": name, "mimeType": "image/jpeg", "buffer": buffer.getvalue()}


def pdf_file(name: str = "insurance.pdf") -> FilePayload:
    """Return a small, real PDF for document uploads."""
    from govserve.documents.tests.samples import pdf_document  # noqa: PLC0415 - test data of the documents app

    return {"name": name, "mimeType": "application/pdf", "buffer": pdf_document("Insurance certificate")}


def answer(tab: Tab, heading: str, answers: list[Answer], *, audit: bool = True, button: str = "Continue") -> None:
    """On the page headed ``heading``: audit it, give the answers, audit again if it changed, press ``button``."""
    assert tab.heading() == heading, f"expected the page {heading!r}, got {tab.heading()!r} at {tab.path}"
    if audit:
        tab.assert_accessible(heading)
    for given in answers:
        given.give(tab.page)
    if (
        audit
        and tab.javascript
        and tab.page.locator(".govuk-radios__conditional, .govuk-checkboxes__conditional").count()
    ):
        # The answers may have revealed a conditional question: audit the page as it is now.
        tab.assert_accessible(f"{heading} (answered)")
    tab.click_button(button)


def answer_by_keyboard(tab: Tab, heading: str, answers: list[Answer], *, button: str = "Continue") -> None:
    """Answer the page with the keyboard alone and press ``button`` with Enter."""
    assert tab.heading() == heading, f"expected the page {heading!r}, got {tab.heading()!r} at {tab.path}"
    for given in answers:
        given.give_by_keyboard(tab.page)
    _tab_to_locator(tab.page, tab.page.get_by_role("button", name=button, exact=True).first)
    tab.navigate(lambda: tab.page.keyboard.press("Enter"))


def application_id_from(path: str) -> uuid.UUID:
    """Return the application id in an /apply/<id>/... path."""
    parts = Path(path.split("?", 1)[0]).parts
    assert parts[1] == "apply", path
    return uuid.UUID(parts[2])


def answers_saved(
    application_id: uuid.UUID,
    applicant: Applicant,
    forms: Mapping[str, Mapping[str, list[str]]],
    pages: list[str],
    *,
    files: Mapping[str, Mapping[str, UploadedFile[bytes]]] | None = None,
) -> None:
    """Save the answers of ``pages`` through the journey's service, as if the pages had been submitted.

    For tests whose subject is a later page: the pages before it are not what they test.
    ``files`` are the uploads of a page, by page id and field id.
    """
    for page_id in pages:
        page_answers_save(
            application_id=application_id,
            applicant=applicant,
            page_id=page_id,
            data=forms.get(page_id, {}),
            files=(files or {}).get(page_id),
            language="en",
        )


def street_light_started(tab: Tab) -> uuid.UUID:
    """Start a street light report in ``tab`` (anonymous: the session is granted it); return its id."""
    tab.goto("/services/report-street-light/")
    tab.click_button("Start now")
    Fill("Enter your email address", "charles@example.org").give(tab.page)
    tab.click_button("Continue")
    assert tab.heading() == "Is the light on private land?"
    return application_id_from(tab.path)

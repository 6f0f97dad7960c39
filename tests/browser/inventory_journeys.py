"""The citizen journey's page types (issue 4), for the inventory in tests/browser/inventory.py.

The state a page needs (a draft answered up to a page, a sent application)
is built through the journey's own services where the pages before it are
not what is audited, and through the browser where the session must hold it
(signing in, an anonymous applicant's access to their report).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable

from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import FilePayload

from govserve.catalogue.services import service_retire
from govserve.journeys.access import Applicant
from govserve.journeys.models import Application
from govserve.journeys.services import application_start
from govserve.journeys.tests.support import (
    LIGHT_FORMS,
    LIGHT_PATH,
    NEWBORN_FORMS,
    STREET_LIGHT,
    STREET_TRADING,
    TRADING_FORMS,
    TRADING_PATH,
    date_form,
    examples_publish,
)
from tests.browser import people
from tests.browser.browsing import Tab
from tests.browser.journey import Choose, Date, Fill, Tick, answers_saved, jpeg_file, pdf_file, street_light_started

Reach = Callable[[Tab], None]
DECLARATION = "I confirm that the information I have given is correct and complete to the best of my knowledge."


def _jpeg_upload() -> SimpleUploadedFile:
    payload = jpeg_file()
    return SimpleUploadedFile(payload["name"], payload["buffer"], content_type=payload["mimeType"])


def _trading(tab: Tab, pages: list[str]) -> uuid.UUID:
    """Sign a citizen in and answer the street trading licence up to (not including) the next page."""
    examples_publish(STREET_TRADING)
    applicant = people.applicant_create()
    people.applicant_sign_in(tab, applicant)
    who = Applicant(citizen=applicant.citizen)
    started = application_start(service_id=STREET_TRADING, applicant=who, language="en")
    files = {"photo": {"photo": _jpeg_upload()}}
    answers_saved(started.application.id, who, TRADING_FORMS, pages, files=files)
    return started.application.id


def _light(tab: Tab, pages: list[str]) -> uuid.UUID:
    """Start a street light report in the browser (anonymous) and answer ``pages``."""
    examples_publish(STREET_LIGHT)
    application_id = street_light_started(tab)
    answers_saved(application_id, Applicant(granted=frozenset({application_id})), LIGHT_FORMS, pages)
    return application_id


def _page(service: Callable[[Tab, list[str]], uuid.UUID], pages: list[str], page: str, *, status: int = 200) -> Reach:
    def reach(tab: Tab) -> None:
        application_id = service(tab, pages)
        tab.goto(f"/apply/{application_id}/{page}", status=status)

    return reach


def _then(first: Reach, *steps: Callable[[Tab], object]) -> Reach:
    def reach(tab: Tab) -> None:
        first(tab)
        for step in steps:
            step(tab)

    return reach


def _press(button: str, status: int = 200) -> Callable[[Tab], object]:
    return lambda tab: tab.click_button(button, status=status)


def _follow(link: str, status: int = 200) -> Callable[[Tab], object]:
    return lambda tab: tab.click_link(link, status=status)


def _follow_starting(prefix: str) -> Callable[[Tab], object]:
    """Follow the link whose accessible name starts with ``prefix`` ("Change Grace Hopper, ...")."""

    def step(tab: Tab) -> object:
        link = tab.page.get_by_role("link", name=re.compile("^" + re.escape(prefix)))
        return tab.navigate(link.first.click)

    return step


def _give(*answers: Choose | Fill | Tick | Date) -> Callable[[Tab], None]:
    def step(tab: Tab) -> None:
        for given in answers:
            given.give(tab.page)

    return step


def _catalogue(path: str) -> Reach:
    def reach(tab: Tab) -> None:
        examples_publish()
        tab.goto(path)

    return reach


def _signed_in(path: str) -> Reach:
    def reach(tab: Tab) -> None:
        examples_publish(STREET_TRADING)
        people.applicant_sign_in(tab, people.applicant_create())
        tab.goto(path)

    return reach


def _in_welsh(tab: Tab) -> None:
    """Switch the page to Welsh with the language switch (the definition's Welsh text shows)."""
    tab.navigate(tab.page.locator('a[hreflang="cy"]').first.click)
    assert tab.page.locator("html").get_attribute("lang") == "cy"


def _service_closed(tab: Tab) -> None:
    examples_publish(STREET_LIGHT)
    service_retire(service_id=STREET_LIGHT, actor=None, reason="test")
    tab.goto(f"/services/{STREET_LIGHT}/", status=410)


def _start_email(tab: Tab) -> None:
    examples_publish(STREET_LIGHT)
    tab.goto(f"/services/{STREET_LIGHT}/")
    tab.click_button("Start now")


def _newborn_care(tab: Tab) -> None:
    examples_publish()
    applicant = people.applicant_create()
    people.applicant_sign_in(tab, applicant)
    who = Applicant(citizen=applicant.citizen)
    started = application_start(service_id="register-newborn", applicant=who, language="en")
    born = dt.date.today() - dt.timedelta(days=2)  # noqa: DTZ011 - the service compares with the local date
    forms = {"baby-date-of-birth": date_form("baby_date_of_birth", born), **NEWBORN_FORMS}
    answers_saved(
        started.application.id, who, forms, ["baby-date-of-birth", "baby", "mother", "second-parent-question"]
    )
    tab.goto(f"/apply/{started.application.id}/care-programmes")


def _documents_uploaded(tab: Tab) -> None:
    _page(_trading, TRADING_PATH, "documents")(tab)
    tab.page.locator("#file-public-liability-insurance").set_input_files(pdf_file())
    tab.navigate(tab.page.locator("#upload-public-liability-insurance").click)


def _light_sent(tab: Tab) -> None:
    _page(_light, LIGHT_PATH, "check-answers")(tab)
    Tick(DECLARATION).give(tab.page)
    tab.click_button("Accept and send")


def _group_item_added(tab: Tab) -> None:
    _page(_trading, TRADING_PATH[:6], "assistants")(tab)
    Choose("Yes").give(tab.page)
    tab.click_button("Continue")
    Fill("Assistant's full name", "Grace Hopper").give(tab.page)
    Date("Assistant's date of birth", 9, 12, 1980).give(tab.page)
    tab.click_button("Save and continue")


def _resume_link(tab: Tab) -> None:
    examples_publish(STREET_LIGHT)
    started = application_start(
        service_id=STREET_LIGHT, applicant=Applicant(), language="en", contact_email="charles@example.org"
    )
    assert started.access_token is not None
    tab.goto(f"/apply/resume/{started.access_token}")


def _access_needed(tab: Tab) -> None:
    application_id = _light(tab, [])
    tab.context.clear_cookies()
    tab.goto(f"/apply/{application_id}/private-land", status=403)


def _expired(tab: Tab) -> None:
    application_id = _trading(tab, ["age"])
    Application.objects.filter(pk=application_id).update(expires_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    tab.goto(f"/apply/{application_id}/", status=410)


def _draft_detail(tab: Tab) -> None:
    application_id = _trading(tab, ["age"])
    tab.goto(f"/applications/{application_id}/")


def _withdrawn(tab: Tab) -> None:
    """A sent report withdrawn through its pages: the detail page shows the status and the history."""
    _light_sent(tab)
    tab.click_link("Check the progress of your application")
    tab.click_link("Withdraw this application")
    Choose("Yes").give(tab.page)
    tab.click_button("Continue")
    assert "You withdrew the application" in tab.text()


def _dashboard_filtered(tab: Tab) -> None:
    """The applicant's list filtered to a status and a search that match nothing."""
    _draft_detail(tab)
    tab.goto("/applications/")
    tab.page.get_by_label("Status", exact=True).select_option(label="Decided")
    Fill("Reference or service", "no such reference").give(tab.page)
    tab.click_button("Filter")
    assert tab.page.locator("#no-applications").is_visible()


def _documents_upload_refused(tab: Tab) -> None:
    """A file that is not what it claims, uploaded on the documents page: the plain form's 400."""
    _page(_trading, TRADING_PATH, "documents")(tab)
    fake: FilePayload = {"name": "insurance.pdf", "mimeType": "application/pdf", "buffer": b"not a pdf at all\n" * 40}
    tab.page.locator("#file-public-liability-insurance").set_input_files(fake)
    if tab.javascript:
        # the upload script shows the server's error page in place (tests/browser/test_upload_progress.py)
        with tab.page.expect_response(lambda response: response.request.method == "POST") as answer:
            tab.page.locator("#upload-public-liability-insurance").click()
        assert answer.value.status == 400
        tab.failed_resources.remove(f"400 {answer.value.url}")
        tab.page.locator(".govuk-error-summary").wait_for()
    else:
        tab.navigate(tab.page.locator("#upload-public-liability-insurance").click, status=400)


def _question_file_error(tab: Tab) -> None:
    """The street light photo question answered with a "photo" that is text: the page with its error."""
    _page(_light, LIGHT_PATH[:3], "photo")(tab)
    fake: FilePayload = {"name": "lamp.jpg", "mimeType": "image/jpeg", "buffer": b"this is not an image at all\n" * 20}
    tab.page.locator('input[type="file"][name="photo"]').set_input_files(fake)
    if tab.javascript:
        with tab.page.expect_response(lambda response: response.request.method == "POST") as answer:
            tab.page.get_by_role("button", name="Continue", exact=True).click()
        assert answer.value.status == 400
        tab.failed_resources.remove(f"400 {answer.value.url}")
        tab.page.locator(".govuk-error-summary").wait_for()
    else:
        tab.navigate(tab.page.get_by_role("button", name="Continue", exact=True).click, status=400)


def _feedback(tab: Tab) -> None:
    Choose("Satisfied").give(tab.page)
    Fill("How could we improve this service? (optional)", "Clear questions.").give(tab.page)
    tab.click_button("Send feedback")


# Page types also audited at phone width.
PHONE_PAGES = frozenset(
    {
        "services",
        "start-page-anonymous",
        "question-conditional-revealed",
        "question-date-error",
        "group-with-an-item",
        "documents-uploaded",
        "check-answers",
        "confirmation",
        "dashboard",
    }
)

# (id, route, reach): wrapped into PageType by tests/browser/inventory.py.
JOURNEY_PAGES: tuple[tuple[str, str, Reach], ...] = (
    ("services", "journeys:service_list", _catalogue("/services/")),
    ("services-search-no-match", "journeys:service_list", _catalogue("/services/?q=no+such+service")),
    ("start-page-anonymous", "journeys:service_start", _catalogue(f"/services/{STREET_LIGHT}/")),
    ("start-page-signed-in", "journeys:service_start", _signed_in(f"/services/{STREET_TRADING}/")),
    ("start-page-welsh", "journeys:service_start", _then(_catalogue(f"/services/{STREET_LIGHT}/"), _in_welsh)),
    ("service-closed", "journeys:service_start", _service_closed),
    ("start-email", "journeys:application_new", _start_email),
    (
        "start-email-error",
        "journeys:application_new",
        _then(_start_email, _give(Fill("Enter your email address", "nope")), _press("Continue", 400)),
    ),
    ("question-radios", "journeys:question", _page(_light, [], "private-land")),
    ("question-radios-error", "journeys:question", _then(_page(_light, [], "private-land"), _press("Continue", 400))),
    (
        "question-conditional-revealed",
        "journeys:question",
        _then(_page(_light, LIGHT_PATH[:1], "problem"), _give(Choose("It is damaged"))),
    ),
    ("question-text-postcode-textarea", "journeys:question", _page(_light, LIGHT_PATH[:2], "location")),
    ("question-file", "journeys:question", _page(_light, LIGHT_PATH[:3], "photo")),
    ("question-file-error", "journeys:question", _question_file_error),
    (
        "question-exit",
        "journeys:question",
        _then(_page(_light, [], "private-land"), _give(Choose("Yes")), _press("Continue")),
    ),
    (
        "question-exit-feedback-sent",
        "journeys:question",
        _then(_page(_light, [], "private-land"), _give(Choose("Yes")), _press("Continue"), _feedback),
    ),
    ("question-date", "journeys:question", _page(_trading, [], "age")),
    (
        "question-date-error",
        "journeys:question",
        _then(
            _page(_trading, [], "age"), _give(Date("What is your date of birth?", 31, 2, 1990)), _press("Continue", 400)
        ),
    ),
    ("question-email-phone", "journeys:question", _page(_trading, TRADING_PATH[:2], "contact-details")),
    ("question-address", "journeys:question", _page(_trading, TRADING_PATH[:3], "home-address")),
    ("question-radios-hints-conditional", "journeys:question", _page(_trading, TRADING_PATH[:4], "trading-type")),
    ("question-select-number", "journeys:question", _page(_trading, TRADING_PATH[:5], "pitch")),
    ("question-checkboxes", "journeys:question", _newborn_care),
    ("group-empty", "journeys:question", _page(_trading, TRADING_PATH[:6], "assistants")),
    (
        "group-item-add",
        "journeys:group_item_add",
        _then(_page(_trading, TRADING_PATH[:6], "assistants"), _give(Choose("Yes")), _press("Continue")),
    ),
    (
        "group-item-add-error",
        "journeys:group_item_add",
        _then(
            _page(_trading, TRADING_PATH[:6], "assistants"),
            _give(Choose("Yes")),
            _press("Continue"),
            _press("Save and continue", 400),
        ),
    ),
    ("group-with-an-item", "journeys:question", _group_item_added),
    ("group-item-change", "journeys:group_item", _then(_group_item_added, _follow_starting("Change Grace Hopper"))),
    (
        "group-item-remove",
        "journeys:group_item_remove",
        _then(_group_item_added, _follow_starting("Remove Grace Hopper")),
    ),
    ("documents", "journeys:documents", _page(_trading, TRADING_PATH, "documents")),
    (
        "documents-error",
        "journeys:documents",
        _then(_page(_trading, TRADING_PATH, "documents"), _press("Continue", 400)),
    ),
    ("documents-uploaded", "journeys:documents", _documents_uploaded),
    ("documents-upload-refused", "journeys:documents", _documents_upload_refused),
    ("fees", "journeys:fees", _then(_documents_uploaded, _press("Continue"))),
    ("check-answers", "journeys:check_answers", _page(_light, LIGHT_PATH, "check-answers")),
    (
        "check-answers-error",
        "journeys:check_answers",
        _then(_page(_light, LIGHT_PATH, "check-answers"), _press("Accept and send", 400)),
    ),
    ("confirmation", "journeys:confirmation", _light_sent),
    ("confirmation-feedback-sent", "journeys:confirmation", _then(_light_sent, _feedback)),
    ("save-and-return-signed-in", "journeys:save_and_return", _page(_trading, ["age"], "save-and-return")),
    ("save-and-return-anonymous", "journeys:save_and_return", _page(_light, [], "save-and-return")),
    (
        "save-and-return-link-sent",
        "journeys:save_and_return",
        _then(_page(_light, [], "save-and-return"), _press("Email me a new link")),
    ),
    ("resume-link", "journeys:resume", _resume_link),
    ("resume-link-invalid", "journeys:resume", _then(_catalogue("/apply/resume/not-a-token"), _press("Continue", 404))),
    ("access-needed", "journeys:question", _access_needed),
    ("application-expired", "journeys:application_resume", _expired),
    ("dashboard-empty", "journeys:application_list", _signed_in("/applications/")),
    ("dashboard", "journeys:application_list", _then(_draft_detail, lambda tab: tab.goto("/applications/"))),
    ("dashboard-filtered-no-match", "journeys:application_list", _dashboard_filtered),
    ("application-draft", "journeys:application_detail", _draft_detail),
    (
        "application-sent",
        "journeys:application_detail",
        _then(_light_sent, _follow("Check the progress of your application")),
    ),
    ("application-withdrawn", "journeys:application_detail", _withdrawn),
    ("delete-draft", "journeys:application_delete", _then(_draft_detail, _follow("Delete this application"))),
    (
        "delete-draft-error",
        "journeys:application_delete",
        _then(_draft_detail, _follow("Delete this application"), _press("Continue", 400)),
    ),
    (
        "withdraw",
        "journeys:application_withdraw",
        _then(_light_sent, _follow("Check the progress of your application"), _follow("Withdraw this application")),
    ),
)

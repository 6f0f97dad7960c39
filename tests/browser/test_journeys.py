"""Citizens complete the three example services in a real browser, with JavaScript and without.

Every page on the way is audited with axe-core (WCAG 2.2 AA) as the browser
shows it, and every page is checked for CSP violations and script errors
(tests/browser/browsing.py). What the browser did is then checked in the
database: the application the confirmation page names exists, in the status
the service gives it.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from govserve.journeys.access import Applicant
from govserve.journeys.models import Application, ApplicationStatus
from govserve.journeys.tests.support import LIGHT_FORMS, LIGHT_PATH, examples_publish
from tests.browser import people
from tests.browser.browsing import Tab
from tests.browser.conftest import OpenTab
from tests.browser.journey import (
    Choose,
    Date,
    Fill,
    Pick,
    Tick,
    Upload,
    answer,
    answers_saved,
    jpeg_file,
    pdf_file,
    street_light_started,
)

pytestmark = pytest.mark.browser

REFERENCE = re.compile(r"^[0-9A-Z-]{6,20}$")


@pytest.fixture
def examples(site: str) -> None:
    """Publish the example catalogue and the three example services in the live server's database."""
    examples_publish()


def _start(tab: Tab, service_title: str) -> None:
    """Find the service in the catalogue, open its start page and press Start now."""
    tab.goto("/services/")
    tab.assert_accessible("services")
    tab.click_link(service_title)
    assert tab.heading() == service_title
    tab.assert_accessible(f"start page of {service_title}")
    tab.click_button("Start now")


def _check_and_send(tab: Tab) -> str:
    """Accept the declaration on check your answers, send, and return the reference shown."""
    assert tab.heading() == "Check your answers before sending your application"
    tab.assert_accessible("check your answers")
    Tick("I confirm that the information I have given is correct and complete to the best of my knowledge.").give(
        tab.page
    )
    tab.click_button("Accept and send")
    tab.assert_accessible("confirmation")
    reference = tab.page.locator("#reference").inner_text().strip()
    assert REFERENCE.match(reference), reference
    return reference


def _sent(reference: str) -> Application:
    return Application.objects.get(reference=reference)


# --- report a street light (anonymous) ------------------------------------------------------------------


def test_report_a_street_light_without_an_account(examples: None, tab: Tab) -> None:
    # given a person without an account, with or without JavaScript
    _start(tab, "Report a problem with a street light")
    # when they give an email address, answer every question and send the report
    answer(tab, "Enter your email address", [Fill("Enter your email address", "charles@example.org")])
    answer(tab, "Is the light on private land?", [Choose("No")])
    answer(tab, "What is wrong with the light?", [Choose("It is damaged"), Choose("Yes", "Can you see any wires?")])
    answer(
        tab,
        "Where is the light?",
        [
            Fill("Lamp post number (if you can see it)", "WM-04512"),
            Fill("Street name", "Babbage Street"),
            Fill("Describe where the light is", "Opposite number 12"),
        ],
    )
    answer(tab, "Add a photo of the problem (optional)", [Upload("Photo", jpeg_file())])
    answer(
        tab,
        "Your details",
        [
            Fill("Your name", "Charles Babbage"),
            Fill("Email address", "charles.babbage@example.org"),
            Choose("Yes, by email"),
        ],
    )
    reference = _check_and_send(tab)
    # then the confirmation names the report, which the council has received
    assert "We have sent you a confirmation email." in tab.text()
    assert _sent(reference).status == ApplicationStatus.SUBMITTED
    assert _sent(reference).service_id == "report-street-light"


# --- street trading licence (signed in) ----------------------------------------------------------------


def test_apply_for_a_street_trading_licence_signed_in(examples: None, demo_mode: None, tab: Tab) -> None:
    # given the demo citizen, signed in with their password
    applicant = people.demo_citizen()
    people.applicant_sign_in(tab, applicant, next_path="/services/street-trading-licence/")
    assert tab.heading() == "Apply for a street trading licence"
    tab.click_button("Start now")
    # when they answer every question, add an assistant, upload the documents and send
    answer(tab, "What is your date of birth?", [Date("What is your date of birth?", 27, 3, 1990)])
    answer(tab, "What is your full name?", [Fill("Full name", "Ada Lovelace")])
    answer(
        tab,
        "How can we contact you?",
        [Fill("Email address", "ada.lovelace@example.org"), Fill("UK phone number", "07700 900123")],
    )
    answer(
        tab,
        "What is your home address?",
        [
            Fill("Address line 1", "12 Analytical Row"),
            Fill("Town or city", "Westmoor"),
            Fill("Postcode", "WM1 1AA"),
        ],
    )
    answer(
        tab,
        "What will you sell?",
        [Choose("Goods"), Fill("Describe what you will sell", "Cut flowers and bouquets")],
    )
    answer(
        tab,
        "Where and when will you trade?",
        [
            Pick("Pitch", "Market Square, pitch 1"),
            Fill("How many days a week will you trade?", "5"),
            Choose("12 months"),
        ],
    )
    answer(tab, "Who will help you at the pitch?", [Choose("Yes")])
    answer(
        tab,
        tab.heading(),
        [Fill("Assistant's full name", "Grace Hopper"), Date("Assistant's date of birth", 9, 12, 1980)],
        button="Save and continue",
    )
    assert "Grace Hopper" in tab.text()
    answer(tab, "Who will help you at the pitch?", [Choose("No")])
    answer(tab, "Upload a photo of your face", [Upload("Photo of your face", jpeg_file("ada.jpg"))])
    # documents: the insurance is uploaded, the signed conditions are given in person
    assert tab.heading() == "Documents"
    tab.assert_accessible("documents")
    assert "Signed licence conditions" in tab.text()
    tab.page.locator("#file-public-liability-insurance").set_input_files(pdf_file())
    tab.navigate(tab.page.locator("#upload-public-liability-insurance").click)
    assert "insurance.pdf" in tab.page.locator("#uploaded-public-liability-insurance").inner_text()
    tab.assert_accessible("documents, uploaded")
    tab.click_button("Continue")
    # fees: 12 months (£250) and 5 days a week (£50)
    assert tab.heading() == "Fees"
    tab.assert_accessible("fees")
    assert "£300" in tab.page.locator("#fee-total").inner_text()
    tab.click_button("Continue")
    reference = _check_and_send(tab)
    # then the licence application waits for its fee, and the dashboard lists it
    assert _sent(reference).status == ApplicationStatus.AWAITING_PAYMENT
    assert _sent(reference).citizen_id == applicant.citizen.id
    tab.click_link("Check the progress of your application")
    tab.assert_accessible("application detail")
    assert reference in tab.text()
    tab.goto("/applications/")
    tab.assert_accessible("your applications")
    assert reference in tab.text()


# --- register a newborn (signed in) -------------------------------------------------------------------


def test_register_a_newborn_signed_in(examples: None, tab: Tab) -> None:
    # given a parent, signed in
    people.applicant_sign_in(tab, people.applicant_create("anne@example.org"), next_path="/services/")
    tab.click_link("Register a birth and newborn care")
    tab.assert_accessible("start page")
    tab.click_button("Start now")
    born = dt.date.today() - dt.timedelta(days=2)  # noqa: DTZ011 - the service compares with the local date
    # when they register the baby, with the optional infant care programme
    answer(tab, "When was the baby born?", [Date("When was the baby born?", born.day, born.month, born.year)])
    answer(
        tab,
        "About the baby",
        [
            Fill("Given names", "Augusta Ada"),
            Fill("Family name", "Byron"),
            Choose("Female"),
            Choose("In a hospital or birth centre"),
        ],
    )
    answer(
        tab,
        "About the mother",
        [
            Fill("Mother's full name", "Anne Isabella Milbanke"),
            Date("Mother's date of birth", 17, 5, 1992),
            Fill("Mother's NHS number", "485 777 3456"),
            Fill("Address line 1", "13 Piccadilly Terrace"),
            Fill("Town or city", "Westmoor"),
            Fill("Postcode", "WM1 2BB"),
        ],
    )
    answer(tab, "Do you want to name a second parent on the birth certificate?", [Choose("No")])
    answer(tab, "Which optional programmes do you want to join?", [Tick("Infant care and vaccinations for the baby")])
    answer(tab, "How many extra birth certificates do you want?", [Fill("Extra certificates (£12.50 each)", "2")])
    answer(tab, "How can we contact you?", [Fill("Email address", "anne.milbanke@example.org")])
    # documents: asked once although two registrations need the identity document
    assert tab.heading() == "Documents"
    tab.assert_accessible("documents")
    for document_id in ("mother-identity-document", "birth-notification"):
        tab.page.locator(f"#file-{document_id}").set_input_files(pdf_file(f"{document_id}.pdf"))
        tab.navigate(tab.page.locator(f"#upload-{document_id}").click)
    tab.assert_accessible("documents, uploaded")
    tab.click_button("Continue")
    assert tab.heading() == "Fees"
    tab.assert_accessible("fees")
    assert "£25" in tab.text()
    tab.click_button("Continue")
    reference = _check_and_send(tab)
    # then the registration is submitted, with a decision date
    assert _sent(reference).status == ApplicationStatus.SUBMITTED
    assert tab.page.locator("#decision-date").is_visible()


# --- save and return ------------------------------------------------------------------------------------


def test_save_and_return_from_the_dashboard(examples: None, open_tab: OpenTab) -> None:
    # given a signed-in citizen who has answered two questions
    applicant = people.applicant_create("ada@example.org")
    tab = open_tab(javascript=True)
    people.applicant_sign_in(tab, applicant, next_path="/services/street-trading-licence/")
    tab.click_button("Start now")
    answer(tab, "What is your date of birth?", [Date("What is your date of birth?", 27, 3, 1990)], audit=False)
    answer(tab, "What is your full name?", [Fill("Full name", "Ada Lovelace")], audit=False)
    # when they save and leave, then come back another day in another browser
    tab.click_link("Save and come back later")
    assert tab.heading() == "Your answers have been saved"
    tab.assert_accessible("saved (signed in)")
    tab.close()
    later = open_tab(javascript=True)
    people.applicant_sign_in(later, applicant, next_path="/applications/")
    reference = Application.objects.get(citizen=applicant.citizen).reference
    later.click_link(reference)
    later.assert_accessible("draft application")
    later.click_button("Continue your application")
    # then they carry on where they left off, and their answers are still there
    assert later.heading() == "How can we contact you?"
    later.click_link("Back")
    assert later.heading() == "What is your full name?"
    assert later.page.get_by_label("Full name", exact=True).input_value() == "Ada Lovelace"


def test_save_and_return_by_the_emailed_link(examples: None, open_tab: OpenTab, demo_mode: None) -> None:
    # given an anonymous report with two pages answered, in a browser without JavaScript
    tab = open_tab(javascript=False)
    street_light_started(tab)
    answer(tab, "Is the light on private land?", [Choose("No")], audit=False)
    answer(tab, "What is wrong with the light?", [Choose("It flickers")], audit=False)
    tab.click_link("Save and come back later")
    assert tab.heading() == "Your answers have been saved"
    tab.assert_accessible("saved (anonymous)")
    # when they open the link from their email in another browser
    other = open_tab(javascript=False)
    other.goto("/demo/mail")
    link = other.page.locator(".govuk-inset-text a", has_text="/apply/resume/").first.get_attribute("href") or ""
    other.goto(link.removeprefix(other.base_url))
    assert other.heading() == "Continue your application"
    other.assert_accessible("resume link")
    other.click_button("Continue")
    # then the report opens where they left off, with their answers
    assert other.heading() == "Where is the light?"
    other.click_link("Back")
    assert other.heading() == "What is wrong with the light?"
    assert other.page.get_by_role("radio", name="It flickers", exact=True).is_checked()


# --- change an answer -----------------------------------------------------------------------------------


def test_change_an_answer_from_check_your_answers(examples: None, tab: Tab) -> None:
    # given a report answered up to check your answers
    application_id = street_light_started(tab)
    granted = Applicant(granted=frozenset({application_id}))
    answers_saved(application_id, granted, LIGHT_FORMS, LIGHT_PATH)
    tab.goto(f"/apply/{application_id}/check-answers")
    assert "Babbage Street" in tab.page.locator("main").inner_text()
    # when they change the street
    tab.click_link("Change Street name")
    assert tab.heading() == "Where is the light?"
    tab.assert_accessible("changing an answer")
    Fill("Street name", "Lovelace Lane").give(tab.page)
    tab.click_button("Continue")
    # then they are back on check your answers, which shows the new answer only
    assert tab.heading() == "Check your answers before sending your application"
    main = tab.page.locator("main").inner_text()
    assert "Lovelace Lane" in main
    assert "Babbage Street" not in main


# --- validation errors ----------------------------------------------------------------------------------


def test_validation_errors_are_summarised_and_linked_to_their_fields(examples: None, tab: Tab) -> None:
    # given a signed-in citizen on the date of birth question
    people.applicant_sign_in(tab, people.applicant_create(), next_path="/services/street-trading-licence/")
    tab.click_button("Start now")
    # when they enter a date that does not exist
    Date("What is your date of birth?", 31, 2, 1990).give(tab.page)
    tab.click_button("Continue", status=400)
    # then the title, the summary and the field say so, and what they typed is kept
    assert tab.page.title().startswith("Error: ")
    assert tab.error_summary() == [("Date of birth must be a real date", "#date_of_birth-day")]
    inline = tab.page.locator("#date_of_birth-error").text_content() or ""
    assert " ".join(inline.split()) == "Error: Date of birth must be a real date"
    group = tab.page.get_by_role("group", name="What is your date of birth?", exact=True)
    assert [group.get_by_label(part, exact=True).input_value() for part in ("Day", "Month", "Year")] == [
        "31",
        "2",
        "1990",
    ]
    tab.assert_accessible("date error")
    summary = tab.page.locator(".govuk-error-summary")
    if tab.javascript:
        # GOV.UK Frontend moves focus to the summary, and its link to the field
        assert summary.evaluate("(element) => element === document.activeElement")
        tab.page.get_by_role("link", name="Date of birth must be a real date").click()
        assert tab.page.evaluate("() => document.activeElement.id") == "date_of_birth-day"
    else:
        # without JavaScript the summary is the first thing in the page's content, and its link jumps to the field
        assert summary.evaluate(
            "(element) => element === document.querySelector('main .govuk-grid-column-two-thirds > *')"
        )
        tab.page.get_by_role("link", name="Date of birth must be a real date").click()
        assert tab.page.url.endswith("#date_of_birth-day")
        assert tab.page.locator("#date_of_birth-day").is_visible()
    # and when they leave a required question empty, it says what to do
    Date("What is your date of birth?", 27, 3, 1990).give(tab.page)
    tab.click_button("Continue")
    tab.click_button("Continue", status=400)
    assert tab.error_summary() == [("Enter your full name", "#full_name")]
    tab.assert_accessible("required error")

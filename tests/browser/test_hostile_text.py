"""Issue 8: script written into answers, messages and notes never runs, on citizen pages, staff pages or in PDFs.

A citizen's street trading application carries a payload in each kind of text
it holds: the name (a script element), the goods description (an image whose
error handler sets a flag), an assistant's name (a quote that closes an
attribute, then an SVG with an onload handler), the address (template syntax
of Jinja2 and of the notification templates, and a ``javascript:`` URL), and
a message to the team (an iframe with a script in ``srcdoc``); an officer's
internal note closes a textarea and opens a script. Every page that shows
them is opened in chromium with JavaScript on: the applicant's check-answers
page (of a draft holding the same payloads) and application page, the staff
file view and its printable version, and the licence's public verification
page. On each, no flag was set, no dialog
opened, no element the payloads describe exists, no Content Security Policy
violation was reported (``Tab.assert_clean``), and the payload reads back as
the literal text typed. The answers PDF and the licence PDF (weasyprint) show
the payloads as text, too: markup in an answer never becomes markup in a PDF.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.db import transaction
from playwright.sync_api import Dialog
from pypdf import PdfReader

from govserve.audit.actors import Actor
from govserve.casework import services as casework_services
from govserve.casework.results.models import IssuedResult
from govserve.casework.tests.support import open_task
from govserve.core.jobs import run_pending
from govserve.journeys import services as journeys
from govserve.journeys.access import Applicant as JourneyApplicant
from govserve.journeys.models import Application, ApplicationStatus
from govserve.journeys.resubmission import application_status_record
from govserve.journeys.tests.support import STREET_TRADING, TRADING_FORMS, TRADING_PATH, examples_publish
from govserve.journeys.tests.test_services import assistant_form
from tests.browser import casework, people
from tests.browser.browsing import Tab
from tests.browser.conftest import OpenTab

pytestmark = pytest.mark.browser

NAME = '<script>window.__xss="script"</script>Ada'
GOODS = "<img src=x onerror=\"window.__xss='img'\">Cut flowers"
ASSISTANT = '"><svg onload="window.__xss=\'svg\'">Grace'
ADDRESS = "{{ 7*7 }} ((reference)) javascript:window.__xss=1"
MESSAGE = "<iframe srcdoc=\"<script>parent.__xss='iframe'</script>\"></iframe>Hello team"
NOTE = "</textarea><script>window.__xss='note'</script>Checked"
ANSWERS = [NAME, GOODS, ASSISTANT, ADDRESS]

FORMS = {
    **TRADING_FORMS,
    "your-name": {"full_name": [NAME]},
    "home-address": {**TRADING_FORMS["home-address"], "home_address-line1": [ADDRESS]},
    "trading-type": {"trading_type": ["goods"], "goods_description": [GOODS]},
}

_PROBE = """() => ({
    flag: window.__xss === undefined ? null : String(window.__xss),
    injected: document.querySelectorAll(
        "img[src='x'], svg[onload], iframe[srcdoc], script:not([src]):not([nonce]), [onerror], [onload]"
    ).length,
})"""


def _filled(who: JourneyApplicant) -> Application:
    application = journeys.application_start(service_id=STREET_TRADING, applicant=who, language="en").application
    from govserve.journeys.tests.conftest import jpeg_upload, pdf_upload  # noqa: PLC0415 - test data

    for page_id in TRADING_PATH:
        journeys.page_answers_save(
            application_id=application.id,
            applicant=who,
            page_id=page_id,
            data=FORMS.get(page_id, {}),
            files={"photo": jpeg_upload()} if page_id == "photo" else None,
            language="en",
        )
        if page_id == "assistants":
            journeys.group_item_save(
                application_id=application.id,
                applicant=who,
                page_id="assistants",
                group_id="assistants",
                item_id=None,
                data=assistant_form(ASSISTANT, dt.date(1980, 12, 9)),
                language="en",
            )
    journeys.requirement_upload(
        application_id=application.id, applicant=who, document_id="public-liability-insurance", upload=pdf_upload()
    )
    return application


def _submitted_and_paid(application: Application, who: JourneyApplicant) -> Application:
    sent = journeys.application_submit(
        application_id=application.id,
        applicant=who,
        idempotency_key="hostile-submit",
        declaration_accepted=True,
        language="en",
    ).application
    assert sent.status == ApplicationStatus.AWAITING_PAYMENT
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=sent.pk)
        application_status_record(locked, to_status=ApplicationStatus.SUBMITTED, actor_kind="system")
        casework_services.file_open(locked)
    sent.refresh_from_db()
    return sent


def _dialogs_of(tab: Tab) -> list[str]:
    """Return the list every alert, confirm or prompt the tab's pages open goes to (watched from now on)."""
    dialogs: list[str] = []

    def opened(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    tab.page.on("dialog", opened)
    return dialogs


def _assert_inert(tab: Tab, dialogs: list[str], *expected: str) -> None:
    probe: dict[str, Any] = tab.page.evaluate(_PROBE)
    assert probe == {"flag": None, "injected": 0}, (tab.path, probe)
    assert dialogs == []
    tab.assert_clean()
    text = tab.text()
    for value in expected:
        assert value in text, (tab.path, value)


def _pdf_text(tab: Tab, path: str) -> str:
    response = tab.context.request.get(tab.base_url + path)
    assert response.status == 200, (path, response.status)
    assert response.headers["content-type"].startswith("application/pdf")
    reader = PdfReader(io.BytesIO(response.body()))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def test_script_in_answers_messages_and_notes_never_runs_and_reads_back_as_typed(open_tab: OpenTab) -> None:
    # given a citizen's draft and submitted street trading application, each with a payload in every text
    examples_publish(STREET_TRADING)
    person = people.applicant_create("hostile@example.org")
    who = JourneyApplicant(citizen=person.citizen)
    draft = _filled(who)
    application = _submitted_and_paid(_filled(who), who)
    casework_services.message_send_applicant(application=application, actor=Actor.system("applicant"), body=MESSAGE)
    officer = casework.operator_create("olive", casework.OFFICER, first_name="Olive")
    casework_services.note_add(user=officer.user, file_id=open_task(application).case_file_id, body=NOTE)

    # when the applicant reads their check-answers page and their application
    citizen = open_tab(javascript=True)
    citizen_dialogs = _dialogs_of(citizen)
    people.applicant_sign_in(citizen, person)
    citizen.goto(f"/apply/{draft.id}/check-answers")
    # then nothing runs, and each answer reads back as typed
    _assert_inert(citizen, citizen_dialogs, NAME, GOODS, ASSISTANT, ADDRESS)
    citizen.goto(f"/applications/{application.id}/")
    _assert_inert(citizen, citizen_dialogs, MESSAGE)

    # when the officer opens the file and its printable version
    staff = open_tab(javascript=True)
    staff_dialogs = _dialogs_of(staff)
    people.officer_sign_in(staff, officer)
    staff.goto(casework.file_path(application))
    # then nothing runs there either
    _assert_inert(staff, staff_dialogs, NAME, GOODS, ASSISTANT, MESSAGE, NOTE)
    staff.goto(casework.file_path(application) + "print")
    _assert_inert(staff, staff_dialogs, NAME, GOODS)

    # and the PDFs show the payloads as text: the answers PDF, and the licence once approved
    answers_pdf = _pdf_text(citizen, f"/applications/{application.id}/answers.pdf")
    for value in (NAME, GOODS, ASSISTANT):
        assert value in answers_pdf, value
    casework.approved_through_services(application, officer)
    run_pending()
    licence = IssuedResult.objects.get(application=application)
    assert NAME in _pdf_text(citizen, f"/results/{licence.id}/download")
    # and the public verification page, which shows the holder's name for this service, runs nothing
    citizen.goto(f"/verify/{licence.code}")
    _assert_inert(citizen, citizen_dialogs, NAME)

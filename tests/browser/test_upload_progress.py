"""Uploads with a progress bar where JavaScript runs, and as plain forms where it does not (issue 4).

With JavaScript, journeys/upload-progress.js sends the file form with XMLHttpRequest: a labelled
<progress> and a status live region follow the upload, then the browser goes where the server's
redirect led; a refused file shows the server's error page in place, the error summary focused.
Without JavaScript the same forms post as plain multipart forms. The upload is slowed down through
the DevTools protocol so that its progress can be watched.
"""

from __future__ import annotations

import io
import os
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from playwright.sync_api import FilePayload, Request

from govserve.documents.models import Document
from govserve.journeys.access import Applicant
from govserve.journeys.models import Application
from govserve.journeys.services import application_start
from govserve.journeys.tests.support import (
    LIGHT_FORMS,
    LIGHT_PATH,
    STREET_TRADING,
    TRADING_FORMS,
    TRADING_PATH,
    examples_publish,
)
from tests.browser import people
from tests.browser.browsing import Tab
from tests.browser.conftest import OpenTab
from tests.browser.journey import answers_saved, jpeg_file, pdf_file, street_light_started

pytestmark = pytest.mark.browser

UPLOAD_BYTES_PER_SECOND = 48 * 1024
STATUS_WATCH = """() => {
  const region = document.querySelector('#upload-progress-public-liability-insurance-status');
  const panel = document.querySelector('#upload-progress-public-liability-insurance');
  const record = () => window.recordUpload(
    region.textContent.trim(), !panel.hidden, Number(panel.querySelector('progress').value));
  new MutationObserver(record).observe(region, {childList: true, characterData: true, subtree: true});
}"""


def _large_png(name: str = "insurance.png") -> FilePayload:
    """Return a real PNG of about 270 KB (noise does not compress): about 6 seconds on the slowed connection."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", (300, 300), os.urandom(300 * 300 * 3)).save(buffer, format="PNG")
    return {"name": name, "mimeType": "image/png", "buffer": buffer.getvalue()}


def _documents_page(tab: Tab) -> uuid.UUID:
    """Sign a citizen in, answer the street trading questions and open the documents page."""
    examples_publish(STREET_TRADING)
    applicant = people.applicant_create()
    people.applicant_sign_in(tab, applicant)
    who = Applicant(citizen=applicant.citizen)
    started = application_start(service_id=STREET_TRADING, applicant=who, language="en")
    photo = jpeg_file()
    files = {"photo": {"photo": SimpleUploadedFile(photo["name"], photo["buffer"], content_type=photo["mimeType"])}}
    answers_saved(started.application.id, who, TRADING_FORMS, TRADING_PATH, files=files)
    tab.goto(f"/apply/{started.application.id}/documents")
    assert tab.heading() == "Documents"
    return started.application.id


def _uploads(application_id: uuid.UUID) -> list[str]:
    application = Application.objects.get(pk=application_id)
    return list(
        Document.objects.filter(owner=application.crypto_owner, slot="document:public-liability-insurance")
        .order_by("created_at")
        .values_list("slot", flat=True)
    )


def test_an_upload_shows_its_progress_with_javascript(site: str, open_tab: OpenTab) -> None:
    # given a citizen on the documents page, with JavaScript, on a slow connection
    tab = open_tab(javascript=True)
    application_id = _documents_page(tab)
    seen: list[tuple[str, bool, float]] = []
    tab.page.expose_function("recordUpload", lambda text, shown, value: seen.append((text, shown, value)))
    tab.page.evaluate(STATUS_WATCH)
    sent: list[Request] = []
    tab.page.on("request", lambda request: sent.append(request) if request.method == "POST" else None)
    devtools = tab.context.new_cdp_session(tab.page)
    devtools.send("Network.enable")
    devtools.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": UPLOAD_BYTES_PER_SECOND},
    )
    # the progress bar is not shown before an upload
    assert tab.page.locator("#upload-progress-public-liability-insurance").is_hidden()

    # when they choose a file and press Upload
    tab.page.locator("#file-public-liability-insurance").set_input_files(_large_png())
    with tab.page.expect_navigation(wait_until="load", timeout=60_000) as navigation:
        tab.page.locator("#upload-public-liability-insurance").click()
        # while it uploads, the progress bar and its announcements pass axe too
        tab.page.locator("#upload-progress-public-liability-insurance progress").wait_for(state="visible")
        tab.assert_accessible("documents, while a file uploads")
    assert navigation.value is not None
    assert navigation.value.status == 200
    tab.assert_clean()

    # then the file went by XMLHttpRequest, its progress was shown and announced in quarters,
    # and the browser went where the server's redirect led: the documents page, with the file
    assert [request.resource_type for request in sent] == ["xhr"]
    texts = [text for text, _shown, _value in seen]
    assert texts[0] == "0% of your file uploaded"
    assert texts[-1] == "100% of your file uploaded"
    assert set(texts) <= {f"{step}% of your file uploaded" for step in (0, 25, 50, 75, 100)}
    assert len(texts) >= 3, texts  # at least one step between the start and the end: progress was seen
    assert all(shown for _text, shown, _value in seen)
    assert [value for _text, _shown, value in seen] == sorted(value for _text, _shown, value in seen)
    assert tab.path == f"/apply/{application_id}/documents"
    assert "insurance.png" in tab.page.locator("#uploaded-public-liability-insurance").inner_text()
    assert len(_uploads(application_id)) == 1
    tab.assert_accessible("documents, after an upload with progress")


def test_a_refused_file_shows_the_error_in_place_with_javascript(site: str, open_tab: OpenTab) -> None:
    # given a citizen on the documents page, with JavaScript
    tab = open_tab(javascript=True)
    application_id = _documents_page(tab)

    # when they upload a "PDF" that is really text
    fake: FilePayload = {"name": "insurance.pdf", "mimeType": "application/pdf", "buffer": b"not a pdf at all\n" * 40}
    tab.page.locator("#file-public-liability-insurance").set_input_files(fake)
    with tab.page.expect_response(lambda response: response.request.method == "POST") as answer:
        tab.page.locator("#upload-public-liability-insurance").click()
    assert answer.value.status == 400
    # the refusal is the answer this test expects, not a resource that failed
    tab.failed_resources.remove(f"400 {answer.value.url}")

    # then the page shows the server's errors as after a plain post: the title, the summary with focus
    summary = tab.page.locator(".govuk-error-summary")
    summary.wait_for()
    tab.page.wait_for_function("() => document.activeElement.classList.contains('govuk-error-summary')")
    assert tab.page.title().startswith("Error: ")
    assert tab.error_summary()[0][1] == "#file-public-liability-insurance"
    assert tab.page.locator("#file-public-liability-insurance-error").is_visible()
    assert tab.path == f"/apply/{application_id}/documents"
    assert _uploads(application_id) == []
    tab.assert_accessible("documents, refused upload shown in place")
    # and the form is enhanced again: a good file now uploads and the page moves on
    tab.page.locator("#file-public-liability-insurance").set_input_files(pdf_file())
    tab.navigate(tab.page.locator("#upload-public-liability-insurance").click)
    assert "insurance.pdf" in tab.page.locator("#uploaded-public-liability-insurance").inner_text()


def test_without_javascript_the_upload_is_a_plain_form(site: str, open_tab: OpenTab) -> None:
    # given a citizen on the documents page in a browser without JavaScript
    tab = open_tab(javascript=False)
    application_id = _documents_page(tab)
    sent: list[Request] = []
    tab.page.on("request", lambda request: sent.append(request) if request.method == "POST" else None)

    # when they choose a file and press Upload
    assert tab.page.locator("#upload-progress-public-liability-insurance").is_hidden()
    tab.page.locator("#file-public-liability-insurance").set_input_files(pdf_file())
    tab.navigate(tab.page.locator("#upload-public-liability-insurance").click)

    # then the form posted as a page load, and the redirect shows the file
    assert [request.resource_type for request in sent] == ["document"]
    assert "insurance.pdf" in tab.page.locator("#uploaded-public-liability-insurance").inner_text()
    assert len(_uploads(application_id)) == 1


def test_a_question_page_file_goes_with_progress_and_moves_on(site: str, open_tab: OpenTab) -> None:
    # given a street light report on its photo question, with JavaScript
    examples_publish()
    tab = open_tab(javascript=True)
    application_id = street_light_started(tab)
    answers_saved(application_id, Applicant(granted=frozenset({application_id})), LIGHT_FORMS, LIGHT_PATH[:3])
    tab.goto(f"/apply/{application_id}/photo")
    sent: list[Request] = []
    tab.page.on("request", lambda request: sent.append(request) if request.method == "POST" else None)

    # when they choose a photo and continue
    tab.page.locator('input[type="file"][name="photo"]').set_input_files(jpeg_file())
    tab.navigate(tab.page.get_by_role("button", name="Continue", exact=True).click)

    # then it went by XMLHttpRequest and the browser followed the redirect to the next question
    assert [request.resource_type for request in sent] == ["xhr"]
    assert tab.heading() == "Your details"
    assert Application.objects.get(pk=application_id).answers.filter(field_id="photo").exists()

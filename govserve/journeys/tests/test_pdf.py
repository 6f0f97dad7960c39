"""The PDF copy of a sent application's answers: tagged (PDF/UA-1), titled, in the language of the page."""

from __future__ import annotations

import io
import re
import uuid
from typing import Any

import pytest
from django.conf import settings
from pypdf import PdfReader
from pypdf.generic import BooleanObject, DictionaryObject

from govserve.journeys import services
from govserve.journeys.models import Application
from govserve.journeys.tests.support import LIGHT_FORMS, LIGHT_PATH, Browser, applicant

pytestmark = pytest.mark.usefixtures("examples")
DASH = " \N{EN DASH} "  # GOV.UK titles: service, en dash, reference


def _sent_report(client: Browser) -> Application:
    """Start a street light report in ``client``'s session, answer it through the services and send it."""
    start_page = client.get("/services/report-street-light/").content.decode()
    key = re.search(r'name="start_key" value="([^"]+)"', start_page)
    assert key is not None
    response = client.post(
        "/services/report-street-light/start", {"start_key": key.group(1), "email": "charles@example.org"}
    )
    application_id = uuid.UUID(response["Location"].split("/")[2])
    who = applicant(None, application_id)
    for page_id in LIGHT_PATH:
        services.page_answers_save(
            application_id=application_id, applicant=who, page_id=page_id, data=LIGHT_FORMS[page_id], language="en"
        )
    services.application_submit(
        application_id=application_id,
        applicant=who,
        idempotency_key="pdf-test-submission",
        declaration_accepted=True,
        language="en",
    )
    return Application.objects.get(pk=application_id)


def _pdf(client: Browser, application: Application) -> PdfReader:
    response = client.get(f"/applications/{application.id}/answers.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    return PdfReader(io.BytesIO(response.content))


def _catalog(reader: PdfReader) -> DictionaryObject:
    return _dictionary(reader.trailer["/Root"])


def _dictionary(value: Any) -> DictionaryObject:
    """Return the dictionary ``value`` is or refers to (fail on anything else)."""
    found = value.get_object() if hasattr(value, "get_object") else value
    assert isinstance(found, DictionaryObject), found
    return found


def test_the_answers_pdf_is_tagged_and_titled(client: Browser) -> None:
    # given a sent street light report
    application = _sent_report(client)

    # when the applicant downloads the copy of their answers
    reader = _pdf(client, application)
    catalog = _catalog(reader)

    # then it is a tagged PDF: marked content, a structure tree with the headings, the language
    assert _dictionary(catalog["/MarkInfo"])["/Marked"] == BooleanObject(True)
    tree = _dictionary(catalog["/StructTreeRoot"])
    assert str(tree["/Type"]) == "/StructTreeRoot"
    assert "/H1" in _structure_types(tree)
    assert {"/H2", "/DL", "/DT", "/DD"} & _structure_types(tree)
    assert str(catalog["/Lang"]) == "en"
    # and it says it conforms to PDF/UA-1, and readers show its title, not its file name
    metadata = reader.xmp_metadata
    assert metadata is not None
    assert b"pdfuaid" in metadata.stream.get_data()
    assert _dictionary(catalog["/ViewerPreferences"])["/DisplayDocTitle"] == BooleanObject(True)
    assert reader.metadata is not None
    assert reader.metadata.title == f"Report a problem with a street light{DASH}{application.reference}"
    # and it holds the reference and the answers
    text = "".join(page.extract_text() for page in reader.pages)
    assert application.reference in text
    assert "Babbage Street" in text


def test_the_answers_pdf_speaks_the_language_of_the_page(client: Browser) -> None:
    # given a sent report, and the applicant reading the site in Welsh
    application = _sent_report(client)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "cy"

    # when they download the copy
    reader = _pdf(client, application)

    # then the text, the title and the language of the PDF are Welsh
    assert str(_catalog(reader)["/Lang"]) == "cy"
    assert reader.metadata is not None
    assert reader.metadata.title == f"Rhoi gwybod am broblem gyda golau stryd{DASH}{application.reference}"
    assert "Cyfeirnod" in "".join(page.extract_text() for page in reader.pages)


def test_a_draft_has_no_pdf_yet(client: Browser) -> None:
    # given a report that has not been sent
    start_page = client.get("/services/report-street-light/").content.decode()
    key = re.search(r'name="start_key" value="([^"]+)"', start_page)
    assert key is not None
    response = client.post(
        "/services/report-street-light/start", {"start_key": key.group(1), "email": "charles@example.org"}
    )
    application_id = response["Location"].split("/")[2]

    # when its PDF is asked for, then the applicant is sent to the application instead
    pdf = client.get(f"/applications/{application_id}/answers.pdf")
    assert pdf.status_code == 302
    assert pdf["Location"] == f"/applications/{application_id}/"


def _structure_types(element: DictionaryObject, depth: int = 0) -> set[str]:
    """Return every structure type (``/S``) under ``element``."""
    found: set[str] = set()
    if "/S" in element:
        found.add(str(element["/S"]))
    kids = element.get("/K")
    if kids is None or depth > 40:
        return found
    items = kids if isinstance(kids, list) else [kids]
    for kid in items:
        node = kid.get_object() if hasattr(kid, "get_object") else kid
        if isinstance(node, DictionaryObject):
            found |= _structure_types(node, depth + 1)
    return found

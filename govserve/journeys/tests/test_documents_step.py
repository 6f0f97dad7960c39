"""The documents step as a browser without JavaScript uses it: upload, replace, remove, then continue."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from govserve.journeys import services
from govserve.journeys.models import Application, JourneyEvent
from govserve.journeys.selectors import documents_of
from govserve.journeys.tests.conftest import jpeg_upload, pdf_upload
from govserve.journeys.tests.support import TRADING_FORMS, TRADING_PATH, Browser, applicant, citizen_new, sign_in

pytestmark = pytest.mark.usefixtures("examples")
DOCUMENT = "public-liability-insurance"


def _at_documents(client: Browser) -> Application:
    """Sign a citizen in and answer every street trading question; return the application."""
    citizen = citizen_new()
    sign_in(client, citizen)
    who = applicant(citizen)
    application = services.application_start(
        service_id="street-trading-licence", applicant=who, language="en"
    ).application
    for page_id in TRADING_PATH:
        services.page_answers_save(
            application_id=application.id,
            applicant=who,
            page_id=page_id,
            data=TRADING_FORMS.get(page_id, {}),
            files={"photo": jpeg_upload()} if page_id == "photo" else None,
            language="en",
        )
    return application


def _uploaded(client: Browser, application: Application) -> str | None:
    page = client.get(f"/apply/{application.id}/documents").content.decode()
    found = re.search(rf'id="uploaded-{DOCUMENT}">\s*Uploaded: <strong>([^<]+)</strong>', page)
    return found.group(1) if found else None


def _insurance(application: Application) -> list[str]:
    return [summary.filename for summary in documents_of(application) if summary.slot == f"document:{DOCUMENT}"]


def test_an_upload_is_replaced_then_removed(client: Browser) -> None:
    # given the documents page of a street trading application, nothing uploaded
    application = _at_documents(client)
    base = f"/apply/{application.id}/documents"
    assert _uploaded(client, application) is None

    # when the insurance is uploaded
    response = client.post(
        base, {"action": "upload", "document": DOCUMENT, f"file-{DOCUMENT}": pdf_upload("first.pdf")}
    )

    # then the page shows it
    assert response.status_code == 302
    assert response["Location"] == base
    assert _uploaded(client, application) == "first.pdf"
    assert _insurance(application) == ["first.pdf"]

    # when another file is uploaded in its place
    client.post(base, {"action": "upload", "document": DOCUMENT, f"file-{DOCUMENT}": pdf_upload("second.pdf")})

    # then it replaces the first: one document, the new one
    assert _uploaded(client, application) == "second.pdf"
    assert _insurance(application) == ["second.pdf"]

    # when it is removed
    response = client.post(base, {"action": "remove", "document": DOCUMENT})

    # then nothing is uploaded, and continuing asks for it
    assert response["Location"] == base
    assert _uploaded(client, application) is None
    assert _insurance(application) == []
    missing = client.post(base, {"action": "continue"})
    assert missing.status_code == 400
    assert "Upload proof of public liability insurance" in missing.content.decode()


def test_a_refused_replacement_keeps_the_file_already_uploaded(client: Browser) -> None:
    # given an insurance certificate already uploaded
    application = _at_documents(client)
    base = f"/apply/{application.id}/documents"
    client.get(base)
    client.post(base, {"action": "upload", "document": DOCUMENT, f"file-{DOCUMENT}": pdf_upload("good.pdf")})

    # when a "PDF" that is really text is uploaded in its place
    fake = SimpleUploadedFile("bad.pdf", b"not a pdf at all\n" * 20, content_type="application/pdf")
    refused = client.post(base, {"action": "upload", "document": DOCUMENT, f"file-{DOCUMENT}": fake})

    # then the page says why, linked to the file input, and the good file is still the one uploaded
    assert refused.status_code == 400
    assert f'href="#file-{DOCUMENT}"' in refused.content.decode()
    assert _insurance(application) == ["good.pdf"]
    assert _uploaded(client, application) == "good.pdf"


def test_documents_given_in_person_are_listed_with_what_to_do(client: Browser) -> None:
    # given the documents page of a street trading application
    application = _at_documents(client)

    # then the signed conditions are listed as given in person, with no upload form
    page = client.get(f"/apply/{application.id}/documents").content.decode()
    listed = re.search(r'<ul class="govuk-list govuk-list--bullet" id="in-person-list">(.*?)</ul>', page, re.S)
    assert listed is not None
    text = " ".join(re.sub(r"<[^>]+>", " ", listed.group(1)).split())
    assert text.startswith("Signed licence conditions : you will sign it in front of a member of staff.")
    assert 'id="file-licence-declaration"' not in page
    assert 'id="file-public-liability-insurance"' in page


def test_the_upload_scripts_request_is_not_counted_as_a_page_view(client: Browser) -> None:
    # given the documents page after an upload, as the upload script's request follows the redirect
    application = _at_documents(client)
    base = f"/apply/{application.id}/documents"
    client.get(base)
    client.post(base, {"action": "upload", "document": DOCUMENT, f"file-{DOCUMENT}": pdf_upload()})
    views = JourneyEvent.objects.filter(kind="page_view", application_id=application.id, page_id="documents")
    services.page_views_flush()  # page views are buffered (services module docstring)
    before = views.count()

    # when the script's request fetches the page it was redirected to
    followed = client.get(base, headers={"X-Requested-With": "XMLHttpRequest"})

    # then the page is served as usual but no view is recorded; the browser's own load is one view
    assert followed.status_code == 200
    services.page_views_flush()
    assert views.count() == before
    assert client.get(base).status_code == 200
    services.page_views_flush()
    assert views.count() == before + 1

"""The journey in a browser-like client: each example end to end, and bad requests that must not break it."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from govserve.catalogue.services import service_retire
from govserve.core import clock
from govserve.documents.models import Document
from govserve.journeys.models import Application, ApplicationStatus, Feedback, JourneyEvent
from govserve.journeys.tests.conftest import jpeg_upload, pdf_upload
from govserve.journeys.tests.support import (
    LIGHT_FORMS,
    LIGHT_PATH,
    NEWBORN_FORMS,
    NEWBORN_PATH,
    TRADING_FORMS,
    Browser,
    citizen_new,
    date_form,
    sign_in,
)
from govserve.journeys.views import journey
from govserve.journeys.views.common import long_date
from govserve.notifications.email import FIELD_BODY
from govserve.notifications.models import OutboundEmail
from govserve.privacy.crypto import unseal_text

pytestmark = pytest.mark.usefixtures("examples")


def html(response: Any) -> str:
    return str(response.content.decode())


def hidden(response: Any, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]+)"', html(response))
    assert found is not None, f"no hidden {name}"
    return found.group(1)


def back_link(response: Any) -> str:
    found = re.search(r'<a href="([^"]+)" class="govuk-back-link"', html(response))
    assert found is not None, "no back link"
    return found.group(1)


def start(client: Browser, service_id: str, **extra: str) -> tuple[Application, str]:
    """Open the start page, press Start now (and give an email if asked); return the application and first page."""
    start_page = client.get(f"/services/{service_id}/")
    assert start_page.status_code == 200
    response = client.post(f"/services/{service_id}/start", {"start_key": hidden(start_page, "start_key"), **extra})
    assert response.status_code == 302, html(response)
    application = Application.objects.order_by("-created_at").first()
    assert application is not None
    assert response["Location"] == f"/apply/{application.id}/"
    first = client.get(response["Location"])
    assert first.status_code == 302
    return application, first["Location"]


def answer(client: Browser, url: str, form: dict[str, Any], *, expect: str | None = None) -> str:
    """GET the page (200), POST the form, return where it redirects."""
    assert client.get(url).status_code == 200, url
    response = client.post(url, form)
    assert response.status_code == 302, (url, html(response)[:3000])
    if expect is not None:
        assert response["Location"] == expect
    return str(response["Location"])


def signed_in_client(client: Browser, email: str = "ada@example.org") -> Browser:
    sign_in(client, citizen_new(email))
    return client


def check_and_send(client: Browser, application: Application) -> Any:
    check = client.get(f"/apply/{application.id}/check-answers")
    assert check.status_code == 200, html(check)[:2000]
    return client.post(
        f"/apply/{application.id}/check-answers",
        {"submit_key": hidden(check, "submit_key"), "declaration": "accepted"},
    )


# --- street trading, end to end ------------------------------------------------------------------------


def test_street_trading_end_to_end(client: Browser) -> None:
    signed_in_client(client)
    assert "Apply for a street trading licence" in html(client.get("/services/"))
    application, url = start(client, "street-trading-licence")
    base = f"/apply/{application.id}"
    assert url == f"{base}/age"

    # question pages in order, with back links along the path taken
    url = answer(client, url, TRADING_FORMS["age"], expect=f"{base}/your-name")
    assert back_link(client.get(url)) == f"{base}/age"
    url = answer(client, url, TRADING_FORMS["your-name"], expect=f"{base}/contact-details")
    url = answer(client, url, TRADING_FORMS["contact-details"], expect=f"{base}/home-address")
    url = answer(client, url, TRADING_FORMS["home-address"], expect=f"{base}/trading-type")
    url = answer(client, url, TRADING_FORMS["trading-type"], expect=f"{base}/pitch")
    assert back_link(client.get(url)) == f"{base}/trading-type"  # the food page is not on the path
    url = answer(client, url, TRADING_FORMS["pitch"], expect=f"{base}/assistants")

    # add another: one assistant, then "no"
    assistants = client.get(url)
    assert "Do you need to add an assistant?" in html(assistants)
    add = answer(client, url, {"add_another": "yes"}, expect=f"{base}/assistants/assistants/add")
    answer(
        client,
        add,
        {
            "assistant_name": "Grace Hopper",
            **{k: v[0] for k, v in date_form("assistant_date_of_birth", dt.date(1980, 12, 9)).items()},
        },
        expect=f"{base}/assistants",
    )
    summary = client.get(url)
    assert "Grace Hopper" in html(summary)
    assert "Do you need to add another assistant?" in html(summary)
    url = answer(client, url, {"add_another": "no"}, expect=f"{base}/photo")

    # a file field: plain multipart form
    assert client.get(url).status_code == 200
    response = client.post(url, {"photo": jpeg_upload()})
    assert response.status_code == 302
    assert response["Location"] == f"{base}/documents"

    # documents computed from the answers: one upload, one to sign in person
    documents = client.get(f"{base}/documents")
    assert documents.status_code == 200
    assert "Proof of public liability insurance" in html(documents)
    assert "Signed licence conditions" in html(documents)
    assert "Food hygiene certificate" not in html(documents)
    missing = client.post(f"{base}/documents", {"action": "continue"})
    assert missing.status_code == 400
    assert "Upload proof of public liability insurance" in html(missing)
    uploaded = client.post(
        f"{base}/documents",
        {"action": "upload", "document": "public-liability-insurance", "file-public-liability-insurance": pdf_upload()},
    )
    assert uploaded["Location"] == f"{base}/documents"
    assert client.post(f"{base}/documents", {"action": "continue"})["Location"] == f"{base}/fees"

    # fees: 12 months (£250) + 5 days (£50)
    fees = client.get(f"{base}/fees")
    assert fees.status_code == 200
    assert re.search(r'id="fee-total"><strong>£300</strong>', html(fees))

    # check your answers: the declaration is required
    check = client.get(f"{base}/check-answers")
    assert back_link(check) == f"{base}/fees"
    assert "Ada Lovelace" in html(check)
    assert "Grace Hopper" in html(check)
    refused = client.post(f"{base}/check-answers", {"submit_key": hidden(check, "submit_key")})
    assert refused.status_code == 400
    assert "<title>Error:" in html(refused)
    assert 'href="#declaration"' in html(refused)
    key = hidden(check, "submit_key")
    sent = client.post(f"{base}/check-answers", {"submit_key": key, "declaration": "accepted"})
    assert sent["Location"] == f"{base}/confirmation"

    application.refresh_from_db()
    assert application.status == ApplicationStatus.AWAITING_PAYMENT
    confirmation = client.get(f"{base}/confirmation")
    assert confirmation.status_code == 200
    assert f'<strong id="reference">{application.reference}</strong>' in html(confirmation)
    assert "£300" in html(confirmation)
    rated = client.post(f"{base}/confirmation", {"rating": "5", "comment": ""})
    assert rated["Location"] == f"{base}/confirmation?feedback=sent"
    assert Feedback.objects.get(application=application).rating == 5

    # a double click (same key) shows the same confirmation; the pages of a sent application redirect
    again = client.post(f"{base}/check-answers", {"submit_key": key, "declaration": "accepted"})
    assert again["Location"] == f"{base}/confirmation"
    assert JourneyEvent.objects.filter(kind="submission", application_id=application.id).count() == 1
    assert client.get(f"{base}/age")["Location"] == f"/applications/{application.id}/"

    # the PDF copy
    pdf = client.get(f"/applications/{application.id}/answers.pdf")
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")

    # the dashboard lists it
    dashboard = client.get("/applications/")
    assert dashboard.status_code == 200
    assert application.reference in html(dashboard)
    assert 'id="applications-open"' in html(dashboard)


def test_newborn_end_to_end_with_merged_documents(client: Browser) -> None:
    signed_in_client(client)
    application, url = start(client, "register-newborn")
    base = f"/apply/{application.id}"
    born = clock.now().date() - dt.timedelta(days=2)
    url = answer(
        client, url, {k: v[0] for k, v in date_form("baby_date_of_birth", born).items()}, expect=f"{base}/baby"
    )
    for page_id in NEWBORN_PATH[1:]:
        assert url == f"{base}/{page_id}"
        url = answer(client, url, NEWBORN_FORMS[page_id])
    assert url == f"{base}/documents"

    documents = html(client.get(url))
    # the identity document is asked once for two registrations; the birth certificate the first issues is not asked
    assert documents.count('id="document-mother-identity-document"') == 1
    assert 'id="document-birth-notification"' in documents
    assert 'id="document-birth-certificate"' not in documents
    assert "Signature in the birth register" in documents
    for document_id in ("mother-identity-document", "birth-notification"):
        client.post(url, {"action": "upload", "document": document_id, f"file-{document_id}": pdf_upload()})
    assert client.post(url, {"action": "continue"})["Location"] == f"{base}/fees"
    assert "£25" in html(client.get(f"{base}/fees"))

    sent = check_and_send(client, application)
    assert sent["Location"] == f"{base}/confirmation"
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED
    confirmation = html(client.get(f"{base}/confirmation"))
    assert 'id="decision-date"' in confirmation


def test_street_light_anonymous_end_to_end_and_resume_by_link(client: Browser) -> None:
    # the start page asks for an email address first
    start_page = client.get("/services/report-street-light/")
    asked = client.post("/services/report-street-light/start", {"start_key": hidden(start_page, "start_key")})
    assert asked.status_code == 200
    assert 'name="email"' in html(asked)
    bad = client.post(
        "/services/report-street-light/start", {"start_key": hidden(start_page, "start_key"), "email": "nope"}
    )
    assert bad.status_code == 400
    assert "Enter an email address in the correct format" in html(bad)
    assert Application.objects.count() == 0

    application, url = start(client, "report-street-light", email="charles@example.org")
    base = f"/apply/{application.id}"
    for page_id in LIGHT_PATH[:3]:
        url = answer(client, url, LIGHT_FORMS[page_id])

    # another browser cannot open it; the emailed link can
    other = Browser()
    assert other.get(url).status_code == 403
    email = OutboundEmail.objects.get(purpose="resume_application")
    body = unseal_text(owner=email.owner, field=FIELD_BODY, sealed=bytes(email.body_sealed))
    link = re.search(r"https?://[^/]+(/apply/resume/\S+)", body)
    assert link is not None
    assert other.get(link.group(1)).status_code == 200  # a button, not yet used
    assert other.post(link.group(1))["Location"] == f"{base}/"
    assert other.get(f"{base}/")["Location"] == f"{base}/photo"

    url = answer(other, f"{base}/photo", {}, expect=f"{base}/your-details")
    url = answer(other, url, LIGHT_FORMS["your-details"], expect=f"{base}/check-answers")
    sent = check_and_send(other, application)
    assert sent["Location"] == f"{base}/confirmation"
    confirmation = html(other.get(f"{base}/confirmation"))
    assert "We have sent you a confirmation email." in confirmation


def test_an_exit_page_has_a_back_link_and_takes_feedback(client: Browser) -> None:
    signed_in_client(client)
    application, url = start(client, "street-trading-licence")
    base = f"/apply/{application.id}"
    young = clock.now().date().replace(year=clock.now().year - 15)

    url = answer(
        client, url, {k: v[0] for k, v in date_form("date_of_birth", young).items()}, expect=f"{base}/too-young"
    )
    exit_page = client.get(url)
    assert "You cannot apply for a street trading licence" in html(exit_page)
    assert back_link(exit_page) == f"{base}/age"
    assert JourneyEvent.objects.filter(kind="exit", page_id="too-young").count() == 1

    missing = client.post(url, {"rating": ""})
    assert missing.status_code == 400
    assert "Select how satisfied you are" in html(missing)
    thanked = client.post(url, {"rating": "2", "comment": "I am 16 and want to sell cakes"})
    assert thanked["Location"] == f"{url}?feedback=sent"
    assert Feedback.objects.get().page_id == "too-young"
    assert 'id="feedback-thanks"' in html(client.get(thanked["Location"]))


# --- errors and robustness -----------------------------------------------------------------------------------


def test_a_validation_error_keeps_the_input_and_links_the_summary_to_the_field(client: Browser) -> None:
    signed_in_client(client)
    application, url = start(client, "street-trading-licence")

    client.get(url)
    response = client.post(url, {"date_of_birth-day": "31", "date_of_birth-month": "2", "date_of_birth-year": "1990"})

    assert response.status_code == 400
    page = html(response)
    assert "<title>Error:" in page
    assert 'class="govuk-error-summary"' in page
    assert 'href="#date_of_birth-day"' in page
    assert 'value="31"' in page
    assert not application.answers.exists()


def test_skipping_ahead_redirects_to_the_first_unanswered_page(client: Browser) -> None:
    signed_in_client(client)
    application, _first = start(client, "street-trading-licence")
    base = f"/apply/{application.id}"

    assert client.get(f"{base}/pitch")["Location"] == f"{base}/age"
    assert client.post_crafted(f"{base}/pitch", TRADING_FORMS["pitch"])["Location"] == f"{base}/age"
    assert client.get(f"{base}/check-answers")["Location"] == f"{base}/age"
    assert client.get(f"{base}/documents")["Location"] == f"{base}/age"
    assert client.get(f"{base}/no-such-page").status_code == 404
    assert not application.answers.exists()


def test_another_citizens_application_is_not_found(client: Browser) -> None:
    signed_in_client(client, "owner@example.org")
    application, url = start(client, "street-trading-licence")

    intruder = Browser()
    signed_in_client(intruder, "intruder@example.org")
    assert intruder.get(url).status_code == 404
    intruder.get("/applications/")  # a page of their own, for a valid token
    assert intruder.post_crafted(url, TRADING_FORMS["age"]).status_code == 404
    assert intruder.get(f"/applications/{application.id}/").status_code == 404
    assert not application.answers.exists()


def test_an_ended_session_asks_to_sign_in_and_keeps_the_answers(client: Browser) -> None:
    signed_in_client(client)
    application, url = start(client, "street-trading-licence")
    answer(client, url, TRADING_FORMS["age"])

    client.logout()
    response = Browser().get(url)

    assert response.status_code == 403
    assert "Sign in" in html(response)
    assert application.answers.count() == 1


@pytest.mark.parametrize(
    ("form", "status"),
    [
        ({"trading_type": "<script>alert(1)</script>", "goods_description": "x"}, 400),
        ({"trading_type": "", "goods_description": "x"}, 400),
        ({"goods_description": "x"}, 400),
        ({"trading_type": "goods", "goods_description": "x" * 501}, 400),
        ({"trading_type": "goods", "goods_description": "x", "unknown_field": "y"}, 302),
        # two values for one radio: the first one counts, as a browser would send only one
        ({"trading_type": ["goods", "food"], "goods_description": "x"}, 302),
    ],
)
def test_tampered_or_missing_fields_are_errors_not_crashes(client: Browser, form: dict[str, Any], status: int) -> None:
    signed_in_client(client)
    application, url = start(client, "street-trading-licence")
    base = f"/apply/{application.id}"
    for page_id in ("age", "your-name", "contact-details", "home-address"):
        url = answer(client, url, TRADING_FORMS[page_id])
    assert url == f"{base}/trading-type"

    response = client.post_crafted(url, form)

    assert response.status_code == status
    assert "<script>alert(1)</script>" not in html(response)
    assert application.answers.filter(field_id="trading_type").exists() == (status == 302)


def test_a_tampered_return_or_submit_key_does_no_harm(client: Browser) -> None:
    signed_in_client(client)
    application, url = start(client, "street-trading-licence")

    client.get(url)
    response = client.post_crafted(f"{url}?return=https://evil.example", TRADING_FORMS["age"])
    assert response["Location"] == f"/apply/{application.id}/your-name"

    bad_key = client.post_crafted(
        f"/apply/{application.id}/check-answers", {"submit_key": "x", "declaration": "accepted"}
    )
    assert bad_key.status_code == 302  # not finished: back to the first unanswered page
    assert Application.objects.get(pk=application.pk).status == ApplicationStatus.DRAFT


def test_an_oversize_post_is_a_clear_400_not_a_500(client: Browser, settings: Any) -> None:
    signed_in_client(client)
    application, url = start(client, "street-trading-licence")
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000

    response = client.post(
        url, {"date_of_birth-day": "1" * 20_000, "date_of_birth-month": "3", "date_of_birth-year": "1990"}
    )

    assert response.status_code == 400
    assert not application.answers.exists()


def test_an_overlong_answer_is_a_validation_error(client: Browser) -> None:
    signed_in_client(client)
    application, url = start(client, "street-trading-licence")
    url = answer(client, url, TRADING_FORMS["age"])

    client.get(url)
    response = client.post(url, {"full_name": "A" * 5000})

    assert response.status_code == 400
    assert "full_name" in html(response)
    assert not application.answers.filter(field_id="full_name").exists()


def test_change_from_check_answers_returns_to_check_answers(client: Browser) -> None:
    signed_in_client(client)
    application, url = start(client, "register-newborn")
    base = f"/apply/{application.id}"
    born = clock.now().date() - dt.timedelta(days=2)
    url = answer(client, url, {k: v[0] for k, v in date_form("baby_date_of_birth", born).items()})
    for page_id in NEWBORN_PATH[1:]:
        url = answer(client, url, NEWBORN_FORMS[page_id])
    check = html(client.get(f"{base}/check-answers"))
    assert f'href="{base}/baby?return=check"' in check

    changed = client.post(f"{base}/baby?return=check", {**NEWBORN_FORMS["baby"], "baby_given_names": "Ada"})
    assert changed["Location"] == f"{base}/check-answers"

    # a change that brings a new question: answer it, then back to check answers
    more = client.post(f"{base}/second-parent-question?return=check", {"second_parent": "yes"})
    assert more["Location"] == f"{base}/second-parent?return=check"
    back = client.get(more["Location"])
    assert back_link(back) == f"{base}/check-answers"


def test_withdraw_and_delete_from_the_dashboard(client: Browser) -> None:
    signed_in_client(client)
    draft, _ = start(client, "street-trading-licence")
    detail = client.get(f"/applications/{draft.id}/")
    assert detail.status_code == 200
    assert 'id="no-messages"' in html(detail)
    assert 'id="no-results"' in html(detail)

    client.get(f"/applications/{draft.id}/delete")
    assert client.post(f"/applications/{draft.id}/delete", {}).status_code == 400
    deleted = client.post(f"/applications/{draft.id}/delete", {"confirm": "yes"})
    assert deleted["Location"] == "/applications/?deleted=1"
    assert not Application.objects.filter(pk=draft.pk).exists()


def test_the_catalogue_search(client: Browser) -> None:
    found = html(client.get("/services/?q=street+light"))
    assert "Report a problem with a street light" in found
    assert "Register a birth" not in found
    nothing = html(client.get("/services/?q=zebra"))
    assert 'id="no-services"' in nothing


def test_the_start_page_states_time_and_fees(client: Browser) -> None:
    page = html(client.get("/services/street-trading-licence/"))

    assert "within 15 working days" in page
    assert "Licence fee" in page
    assert "the amount depends on your answers" in page
    assert client.get("/services/no-such-service/").status_code == 404


def test_submissions_are_rate_limited_per_client(client: Browser, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(journey, "SUBMIT_LIMIT", 2)
    frozen = clock.now()  # the limit counts in fixed windows: the test must not straddle an edge
    monkeypatch.setattr(clock, "now", lambda: frozen)
    signed_in_client(client)
    application, _ = start(client, "street-trading-licence")
    target = f"/apply/{application.id}/check-answers"

    client.get(target)
    statuses = [client.post_crafted(target, {"submit_key": "k" * 20}).status_code for _ in range(3)]

    assert statuses[-1] == 429


def test_a_retired_service_is_closed_to_new_applications_but_a_draft_finishes(client: Browser) -> None:
    signed_in_client(client)
    application, url = start(client, "street-trading-licence")
    service_retire(service_id="street-trading-licence", actor=None, reason="closing")

    closed = client.get("/services/street-trading-licence/")
    assert closed.status_code == 410
    assert "This service is closed" in html(closed)
    assert "Apply for a street trading licence" not in html(client.get("/services/"))
    assert client.post_crafted("/services/street-trading-licence/start", {"start_key": "k" * 32}).status_code == 410

    # the draft carries on
    assert answer(client, url, TRADING_FORMS["age"]) == f"/apply/{application.id}/your-name"


def test_an_expired_draft_says_so(client: Browser) -> None:
    signed_in_client(client)
    application, url = start(client, "street-trading-licence")
    # past its expiry, before the expiry job ran
    Application.objects.filter(pk=application.pk).update(expires_at=clock.now() - dt.timedelta(seconds=1))

    response = client.get(url)

    assert response.status_code == 410
    assert "This application has expired" in html(response)
    assert client.post_crafted(url, TRADING_FORMS["age"]).status_code == 410
    assert not application.answers.exists()


def test_pages_speak_welsh_with_the_definitions_welsh_text(client: Browser) -> None:
    signed_in_client(client)
    _application, url = start(client, "street-trading-licence")
    client.cookies["django_language"] = "cy"

    page = html(client.get(url))

    assert 'lang="cy"' in page
    assert "Beth yw eich dyddiad geni?" in page


def test_the_question_page_says_when_a_draft_is_deleted(client: Browser) -> None:
    signed_in_client(client)
    application, _url = start(client, "street-trading-licence")

    saved = html(client.get(f"/apply/{application.id}/save-and-return"))

    assert application.expires_at is not None
    assert long_date(application.expires_at, "en") in saved
    assert "your applications" in saved


def test_tampered_document_and_item_ids_are_refused_quietly(client: Browser) -> None:
    signed_in_client(client)
    application, url = start(client, "street-trading-licence")
    base = f"/apply/{application.id}"
    for page_id in ("age", "your-name", "contact-details", "home-address", "trading-type", "pitch"):
        url = answer(client, url, TRADING_FORMS[page_id])

    # an item id that is not in the list, or is not an id at all
    assert client.get(f"{base}/assistants/assistants/ffffffffffff").status_code == 404
    assert (
        client.post_crafted(f"{base}/assistants/assistants/ffffffffffff/remove", {"remove": "yes"}).status_code == 404
    )
    assert client.get(f"{base}/assistants/no-such-group/add").status_code == 404
    answer(client, url, {"add_another": "no"})
    client.get(f"{base}/photo")
    assert client.post(f"{base}/photo", {"photo": jpeg_upload()})["Location"] == f"{base}/documents"
    client.get(f"{base}/documents")

    # a document the answers do not need (not a food trader), one that does not exist, a removal of nothing
    for form in (
        {"action": "upload", "document": "food-hygiene-certificate", "file-food-hygiene-certificate": pdf_upload()},
        {"action": "upload", "document": "../../etc/passwd"},
        {"action": "remove", "document": "public-liability-insurance"},
        {"action": "explode"},
    ):
        response = client.post_crafted(f"{base}/documents", form)
        assert response.status_code == 302, form
        assert response["Location"] == f"{base}/documents"
    assert not application.submitted_documents.exists()
    assert Document.objects.filter(owner=application.crypto_owner, slot__startswith="document:").count() == 0


def test_an_upload_refused_by_the_checks_is_shown_on_the_page(client: Browser) -> None:
    signed_in_client(client)
    application, url = start(client, "street-trading-licence")
    base = f"/apply/{application.id}"
    for page_id in ("age", "your-name", "contact-details", "home-address", "trading-type", "pitch"):
        url = answer(client, url, TRADING_FORMS[page_id])
    answer(client, url, {"add_another": "no"})

    # a "photo" that is really text
    fake = SimpleUploadedFile("me.jpg", b"this is not an image at all, just text", content_type="image/jpeg")
    client.get(f"{base}/photo")
    response = client.post(f"{base}/photo", {"photo": fake})

    assert response.status_code == 400
    assert 'href="#photo"' in html(response)
    assert not application.answers.filter(field_id="photo").exists()
    # nothing chosen at all: the required message
    empty = client.post(f"{base}/photo", {})
    assert empty.status_code == 400
    assert not application.answers.filter(field_id="photo").exists()


def test_the_address_given_at_the_start_fills_the_first_email_question(client: Browser) -> None:
    application, url = start(client, "report-street-light", email="charles@example.org")
    base = f"/apply/{application.id}"
    for page_id in LIGHT_PATH[:4]:
        url = answer(client, url, LIGHT_FORMS[page_id])
    assert url == f"{base}/your-details"

    page = html(client.get(url))

    assert 'value="charles@example.org"' in page
    assert not application.answers.filter(field_id="reporter_email").exists()

"""What every journey page sets in the layout: the service in the header, and the session-timeout notice.

The header names the service and links to its start page (GOV.UK service
navigation) on every page of an application; the pages where answers are
given say, without JavaScript, when the session ends (WCAG 2.2.1).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

import pytest

from govserve.journeys import services
from govserve.journeys.models import Application
from govserve.journeys.tests.conftest import jpeg_upload, pdf_upload
from govserve.journeys.tests.support import (
    LIGHT_FORMS,
    LIGHT_PATH,
    TRADING_FORMS,
    TRADING_PATH,
    Browser,
    applicant,
    citizen_new,
    date_form,
    sign_in,
)

pytestmark = pytest.mark.usefixtures("examples")

SERVICE_LINK = re.compile(
    r'<span class="govuk-service-navigation__service-name">\s*<a href="([^"]+)" '
    r'class="govuk-service-navigation__link">\s*([^<]+?)\s*</a>'
)
NOTICE = re.compile(r'<p class="govuk-body-s govserve-session-notice">([^<]+)</p>')
SAVED = "Your answers are saved each time you continue."
SIGNED_IN_NOTICE = f"We will sign you out if you do nothing for 30 minutes. {SAVED}"
ANONYMOUS_NOTICE = f"Your session will end if you do nothing for 30 minutes. {SAVED}"
TRADING_TITLE = "Apply for a street trading licence"
LIGHT_TITLE = "Report a problem with a street light"


def _html(client: Browser, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return str(response.content.decode())


def _header(page: str) -> tuple[str, str]:
    found = SERVICE_LINK.search(page)
    assert found is not None, "no service name in the header"
    return found.group(1), found.group(2)


def _notices(page: str) -> list[str]:
    return NOTICE.findall(page)


def _trading_started(client: Browser) -> Application:
    citizen = citizen_new()
    sign_in(client, citizen)
    started = services.application_start(
        service_id="street-trading-licence", applicant=applicant(citizen), language="en"
    )
    return started.application


def _save(application: Application, who: Any, forms: dict[str, Any], pages: list[str]) -> None:
    for page_id in pages:
        services.page_answers_save(
            application_id=application.id,
            applicant=who,
            page_id=page_id,
            data=forms.get(page_id, {}),
            files={"photo": jpeg_upload()} if page_id == "photo" and "age" in forms else None,
            language="en",
        )


def test_every_page_of_a_signed_in_application_names_the_service_and_the_timeout(client: Browser) -> None:
    # given a signed-in applicant with a street trading draft, one assistant in the list
    application = _trading_started(client)
    who = applicant(application.citizen)
    base = f"/apply/{application.id}"
    _save(application, who, TRADING_FORMS, TRADING_PATH[:6])
    item_id = services.group_item_save(
        application_id=application.id,
        applicant=who,
        page_id="assistants",
        group_id="assistants",
        item_id=None,
        data={"assistant_name": ["Grace Hopper"], **date_form("assistant_date_of_birth", dt.date(1980, 12, 9))},
        language="en",
    )
    start_url = "/services/street-trading-licence/"
    # pages where answers are given: the service in the header and the notice, once
    answering = [
        f"{base}/age",
        f"{base}/assistants",
        f"{base}/assistants/assistants/add",
        f"{base}/assistants/assistants/{item_id}",
        f"{base}/assistants/assistants/{item_id}/remove",
    ]
    for path in answering:
        page = _html(client, path)
        assert _header(page) == (start_url, TRADING_TITLE), path
        assert _notices(page) == [SIGNED_IN_NOTICE], path
    # when the questions are answered: documents, fees and check your answers too
    _save(application, who, TRADING_FORMS, ["assistants", "photo"])
    services.requirement_upload(
        application_id=application.id,
        applicant=who,
        document_id="public-liability-insurance",
        upload=pdf_upload(),
    )
    for path in (f"{base}/documents", f"{base}/fees", f"{base}/check-answers"):
        page = _html(client, path)
        assert _header(page) == (start_url, TRADING_TITLE), path
        assert _notices(page) == [SIGNED_IN_NOTICE], path
    # pages where nothing is answered name the service but do not repeat the notice
    for path in (f"{base}/save-and-return", f"/applications/{application.id}/"):
        page = _html(client, path)
        assert _header(page) == (start_url, TRADING_TITLE), path
        assert _notices(page) == [], path


def test_an_anonymous_applicants_pages_say_the_session_ends_rather_than_a_sign_out(client: Browser) -> None:
    # given an anonymous street light report started in this session
    start_page = _html(client, "/services/report-street-light/")
    key = re.search(r'name="start_key" value="([^"]+)"', start_page)
    assert key is not None
    email_page = client.post("/services/report-street-light/start", {"start_key": key.group(1)})
    # the email address page names the service and states the timeout
    assert email_page.status_code == 200
    assert _header(email_page.content.decode()) == ("/services/report-street-light/", LIGHT_TITLE)
    assert _notices(email_page.content.decode()) == [ANONYMOUS_NOTICE]
    response = client.post(
        "/services/report-street-light/start", {"start_key": key.group(1), "email": "charles@example.org"}
    )
    application_id = uuid.UUID(response["Location"].split("/")[2])
    base = f"/apply/{application_id}"
    # then the question pages do too
    page = _html(client, f"{base}/private-land")
    assert _header(page) == ("/services/report-street-light/", LIGHT_TITLE)
    assert _notices(page) == [ANONYMOUS_NOTICE]
    # and the exit page names the service without the notice (nothing more is answered there)
    client.post(f"{base}/private-land", {"on_private_land": "yes"})
    exit_page = _html(client, f"{base}/not-council")
    assert _header(exit_page) == ("/services/report-street-light/", LIGHT_TITLE)
    assert _notices(exit_page) == []


def test_the_confirmation_page_names_the_service(client: Browser) -> None:
    # given an anonymous report answered in full and sent
    start_page = _html(client, "/services/report-street-light/")
    key = re.search(r'name="start_key" value="([^"]+)"', start_page)
    assert key is not None
    response = client.post(
        "/services/report-street-light/start", {"start_key": key.group(1), "email": "charles@example.org"}
    )
    application_id = uuid.UUID(response["Location"].split("/")[2])
    who = applicant(None, application_id)
    application = Application.objects.get(pk=application_id)
    _save(application, who, LIGHT_FORMS, LIGHT_PATH)
    check = _html(client, f"/apply/{application_id}/check-answers")
    submit_key = re.search(r'name="submit_key" value="([^"]+)"', check)
    assert submit_key is not None
    sent = client.post(
        f"/apply/{application_id}/check-answers", {"submit_key": submit_key.group(1), "declaration": "accepted"}
    )
    assert sent["Location"] == f"/apply/{application_id}/confirmation"

    # when the confirmation is shown, then the header names the service and there is no notice
    page = _html(client, f"/apply/{application_id}/confirmation")
    assert _header(page) == ("/services/report-street-light/", LIGHT_TITLE)
    assert _notices(page) == []


def test_the_delete_withdraw_and_expired_pages_name_the_service(client: Browser) -> None:
    # given a signed-in applicant with a draft, and a sent report on the same session
    application = _trading_started(client)
    start_url = "/services/street-trading-licence/"

    # then deleting the draft asks to confirm under the service's name
    page = _html(client, f"/applications/{application.id}/delete")
    assert _header(page) == (start_url, TRADING_TITLE)

    # and once the draft has expired, the page that says so names the service too
    Application.objects.filter(pk=application.id).update(expires_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    page = _html(client, f"/apply/{application.id}/", status=410)
    assert _header(page) == (start_url, TRADING_TITLE)

    # and withdrawing a sent application asks to confirm under the service's name
    who = applicant(application.citizen)
    sent = services.application_start(service_id="report-street-light", applicant=who, language="en").application
    _save(sent, who, LIGHT_FORMS, LIGHT_PATH)
    services.application_submit(
        application_id=sent.id,
        applicant=who,
        idempotency_key="layout-withdraw",
        declaration_accepted=True,
        language="en",
    )
    page = _html(client, f"/applications/{sent.id}/withdraw")
    assert _header(page) == ("/services/report-street-light/", LIGHT_TITLE)

"""The applicant's list of applications as a page: grouped by status, filtered and searched by the form."""

from __future__ import annotations

import re

import pytest

from govserve.journeys import services
from govserve.journeys.models import Application
from govserve.journeys.tests.support import LIGHT_FORMS, LIGHT_PATH, Browser, applicant, citizen_new, sign_in

pytestmark = pytest.mark.usefixtures("examples")


def _page(client: Browser, query: str = "") -> str:
    response = client.get(f"/applications/{query}")
    assert response.status_code == 200
    return str(response.content.decode())


def _listed(page: str) -> dict[str, list[str]]:
    """Return the references listed in each status group's table, by group."""
    tables = re.findall(r'<table class="govuk-table" id="applications-([a-z]+)">(.*?)</table>', page, re.S)
    return {group: re.findall(r'id="application-([0-9A-Z-]+)"', body) for group, body in tables}


@pytest.fixture
def two_applications(client: Browser) -> tuple[Application, Application]:
    """A signed-in citizen with a street trading draft and a sent street light report."""
    citizen = citizen_new()
    sign_in(client, citizen)
    who = applicant(citizen)
    draft = services.application_start(service_id="street-trading-licence", applicant=who, language="en").application
    sent = services.application_start(service_id="report-street-light", applicant=who, language="en").application
    for page_id in LIGHT_PATH:
        services.page_answers_save(
            application_id=sent.id, applicant=who, page_id=page_id, data=LIGHT_FORMS[page_id], language="en"
        )
    services.application_submit(
        application_id=sent.id,
        applicant=who,
        idempotency_key="dashboard-sent",
        declaration_accepted=True,
        language="en",
    )
    sent.refresh_from_db()
    return draft, sent


def test_the_list_groups_applications_by_status(
    client: Browser, two_applications: tuple[Application, Application]
) -> None:
    draft, sent = two_applications

    # when the applicant opens their applications, then each is in its group
    assert _listed(_page(client)) == {"draft": [draft.reference], "open": [sent.reference]}


def test_the_status_filter_keeps_its_choice(client: Browser, two_applications: tuple[Application, Application]) -> None:
    _draft, sent = two_applications

    # when they filter to the applications waiting for a decision
    page = _page(client, "?status=open&q=")

    # then only that one is listed, and the filter shows what was chosen
    assert _listed(page) == {"open": [sent.reference]}
    assert re.search(r'<option value="open" selected>', page)


def test_searching_by_reference_or_service(client: Browser, two_applications: tuple[Application, Application]) -> None:
    draft, sent = two_applications

    # then a reference typed in lower case without its dash finds it, and so does a service's title
    assert _listed(_page(client, f"?q={sent.reference.lower().replace('-', '')}")) == {"open": [sent.reference]}
    assert _listed(_page(client, "?q=street+trading")) == {"draft": [draft.reference]}


def test_a_filter_that_matches_nothing_says_so(
    client: Browser, two_applications: tuple[Application, Application]
) -> None:
    # when the filter matches nothing, or the status was tampered with
    for query in ("?status=decided", "?status=nonsense", "?q=no+such+thing", f"?q={'x' * 5000}"):
        page = _page(client, query)

        # then no table, and the page says that nothing matches (not that there are no applications)
        assert _listed(page) == {}, query
        assert "No applications match. Try another status or search." in page, query


def test_the_list_needs_a_signed_in_citizen(client: Browser) -> None:
    # when nobody is signed in, then the list asks to sign in
    response = client.get("/applications/")
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in")

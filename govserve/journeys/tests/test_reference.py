"""The reference an applicant is given: short, from an alphabet without look-alikes, shown in the panel."""

from __future__ import annotations

import re

import pytest

from govserve.core.ids import REFERENCE_ALPHABET, normalise_reference
from govserve.journeys import services
from govserve.journeys.models import Application
from govserve.journeys.tests.support import LIGHT_FORMS, LIGHT_PATH, Browser, applicant

pytestmark = pytest.mark.usefixtures("examples")

LOOK_ALIKES = set("0O1IL2Z5S8BUV")
REFERENCE = re.compile(rf"^[{REFERENCE_ALPHABET}]{{4}}-[{REFERENCE_ALPHABET}]{{4}}$")


def _sent(client: Browser) -> Application:
    start_page = client.get("/services/report-street-light/").content.decode()
    key = re.search(r'name="start_key" value="([^"]+)"', start_page)
    assert key is not None
    response = client.post(
        "/services/report-street-light/start", {"start_key": key.group(1), "email": "charles@example.org"}
    )
    application = Application.objects.get(pk=response["Location"].split("/")[2])
    who = applicant(None, application.id)
    for page_id in LIGHT_PATH:
        services.page_answers_save(
            application_id=application.id, applicant=who, page_id=page_id, data=LIGHT_FORMS[page_id], language="en"
        )
    services.application_submit(
        application_id=application.id,
        applicant=who,
        idempotency_key=f"reference-{application.id.hex}",
        declaration_accepted=True,
        language="en",
    )
    application.refresh_from_db()
    return application


def test_the_alphabet_has_no_look_alike_characters() -> None:
    # then no character can be mistaken for another when read aloud or from paper
    assert not LOOK_ALIKES & set(REFERENCE_ALPHABET)
    assert len(set(REFERENCE_ALPHABET)) == len(REFERENCE_ALPHABET)


def test_a_sent_application_gets_a_short_unambiguous_reference_shown_in_the_panel(client: Browser) -> None:
    # given a sent report
    application = _sent(client)

    # then its reference is two groups of four from the alphabet
    assert REFERENCE.match(application.reference), application.reference
    # and the confirmation page shows it in the GOV.UK panel
    page = client.get(f"/apply/{application.id}/confirmation").content.decode()
    panel = re.search(
        r'<div class="govuk-panel govuk-panel--confirmation"\s+id="confirmation-panel">(.*?)</div>', page, re.S
    )
    assert panel is not None
    assert f'<strong id="reference">{application.reference}</strong>' in panel.group(1)
    # and typed back in another form (lower case, spaces), it reads as the same reference
    assert normalise_reference(application.reference.lower().replace("-", " ")) == application.reference


def test_references_do_not_repeat(client: Browser) -> None:
    # given several sent applications, then each has its own reference
    references = {_sent(client).reference for _ in range(5)}
    assert len(references) == 5

"""The applicant's side of casework (issue 5): a sent-back application, its changes pages, for the inventory.

The application is sent through the journey's own services and sent back
through casework's (the staff pages are audited on their own); the pages
audited here are the applicant's, reached in the browser as the signed-in citizen.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from govserve.accounts.models import Institution, RoleAssignment, User
from govserve.casework.services import decision_record
from govserve.casework.tests.support import newborn_submitted, open_task
from govserve.journeys.access import Applicant
from govserve.journeys.tests.support import examples_publish
from tests.browser import people
from tests.browser.browsing import Tab

Reach = Callable[[Tab], None]


def _sent_back(tab: Tab) -> uuid.UUID:
    """Sign a citizen in; their newborn registration is sent back with the baby's given names flagged."""
    examples_publish()
    applicant = people.applicant_create()
    people.applicant_sign_in(tab, applicant)
    application, _ = newborn_submitted(Applicant(citizen=applicant.citizen))
    registrar = User.objects.create(username="registrar-inventory", is_active=True)
    RoleAssignment.objects.create(
        user=registrar, institution=Institution.objects.get(code="civil-registry"), role="registrar"
    )
    decision_record(
        user=registrar,
        task_id=open_task(application).id,
        decision="send_back",
        reason="The names differ from the hospital notification",
        message="Please check the spelling of the baby's given names.",
        flagged_fields=["baby_given_names"],
    )
    return application.id


def _detail(tab: Tab) -> None:
    application_id = _sent_back(tab)
    tab.goto(f"/applications/{application_id}/")
    assert tab.page.locator("#changes-needed").is_visible()


def _changes(tab: Tab) -> None:
    _detail(tab)
    tab.click_link("See what to change and send it again")


def _changes_error(tab: Tab) -> None:
    _changes(tab)
    tab.click_button("Send application again", status=400)
    assert tab.error_summary(), "no error summary"


def _changes_page(tab: Tab) -> None:
    _changes(tab)
    tab.page.locator("#flagged-answers a").first.click()
    tab.page.wait_for_load_state()


SENT_BACK_PAGES: tuple[tuple[str, str, Reach], ...] = (
    ("application-sent-back", "journeys:application_detail", _detail),
    ("changes", "journeys:application_changes", _changes),
    ("changes-error", "journeys:application_changes", _changes_error),
    ("changes-page", "journeys:changes_page", _changes_page),
)

SENT_BACK_NOT_PAGES: dict[str, str] = {
    "journeys:changes_upload": "POST only: uploads a flagged document, then redirects to the changes page",
    "journeys:application_message": "POST only: sends the applicant's message, then redirects to the application",
}

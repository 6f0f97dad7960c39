"""Staff casework in the browser: operators with flow roles, paid applications with open files, reaching pages.

The state a page needs (a submitted and paid application, a claimed task) is
built through the services; the operator always signs in through the real
pages (password, then a TOTP code) and acts through them where the action
is the subject.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from govserve.accounts.tests.factories import device_create, institution_create, role_grant, staff_create
from govserve.casework.models import Task
from govserve.casework.tests.support import file_of, open_task, trading_paid
from govserve.journeys.models import Application
from govserve.journeys.tests.support import STREET_TRADING, example_text, examples_publish, publish_text
from tests.browser import people
from tests.browser.browsing import Tab

Reach = Callable[[Tab], None]
COUNCIL = "city-council"
OFFICER = "licensing-officer"
MANAGER = "licensing-manager"
LEADER = "team-leader"


def operator_create(username: str = "operator", *roles: str, first_name: str = "Olive") -> people.Officer:
    """Create a Westmoor City Council operator holding the flow ``roles`` (licensing officer by default)."""
    institution = institution_create(code=COUNCIL, name="Westmoor City Council")
    user = staff_create(username=username, first_name=first_name, last_name="Operator")
    for role in roles or (OFFICER,):
        role_grant(user=user, institution=institution, role=role)
    return people.Officer(user=user, device=device_create(user=user))


def trading_file(*, corrects: bool = False) -> Application:
    """Publish the street trading licence (optionally letting the officer correct the goods description).

    Return a submitted, paid application whose file waits for a licensing officer.
    """
    examples_publish(STREET_TRADING)
    if corrects:
        text = example_text(STREET_TRADING).replace(
            "      sees: [full_name,", "      corrects: [goods_description]\n      sees: [full_name,", 1
        )
        assert "corrects: [goods_description]" in text
        publish_text(text, f"{STREET_TRADING}.yaml")
    application, _applicant = trading_paid()
    return application


def signed_in_with_file(tab: Tab, *, roles: tuple[str, ...] = (OFFICER,), corrects: bool = False) -> Application:
    """Sign an operator in and return a paid street trading application waiting in their pool."""
    application = trading_file(corrects=corrects)
    people.officer_sign_in(tab, operator_create("operator", *roles))
    return application


def claim_on_file_page(tab: Tab, application: Application) -> Task:
    """Open the file page and press "Claim this task"; return the claimed task."""
    tab.goto(file_path(application))
    tab.click_button("Claim this task")
    task = open_task(application)
    assert task.status == "claimed", task.status
    return task


def file_path(application: Application) -> str:
    """Return the staff file page of ``application``."""
    return f"/staff/files/{file_of(application).id}/"


def file_id(application: Application) -> uuid.UUID:
    """Return the case file id of ``application``."""
    return file_of(application).id


def approved_through_services(application: Application, officer: people.Officer) -> None:
    """Approve ``application`` as ``officer`` (licensing officer) and a new manager, through the services."""
    from govserve.casework import services  # noqa: PLC0415 - after Django is set up

    task = open_task(application)
    services.decision_record(user=officer.user, task_id=task.id, decision="approve", data={"pitch_inspected": ["yes"]})
    manager = operator_create("manager", MANAGER, first_name="Manny")
    task = open_task(application)
    services.decision_record(user=manager.user, task_id=task.id, decision="approve")

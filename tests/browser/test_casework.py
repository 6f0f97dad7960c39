"""The operator workspace in a real browser: an operator signs in with a TOTP code, claims and approves.

The street trading licence goes through both roles of its flow: the licensing
officer claims it from the queue, is refused approval while the pitch
inspection is unanswered, answers it and approves; the licensing manager
claims it from the file page and approves, and the application is approved.
Every staff page on the way is audited with axe-core (with and without
JavaScript), and a keyboard-only pass does the officer's part with Tab,
Space and Enter.
"""

from __future__ import annotations

import pytest

from govserve.audit.models import AuditEntry
from govserve.casework.models import TaskStatus
from govserve.casework.tests.support import open_task
from govserve.journeys.models import Application, ApplicationStatus
from govserve.journeys.tests.support import STREET_LIGHT, examples_publish
from tests.browser import casework, people
from tests.browser.browsing import Tab
from tests.browser.conftest import OpenTab
from tests.browser.journey import Choose, Fill, Tick, answer
from tests.browser.keyboard import assert_keyboard_operable, tab_to

pytestmark = pytest.mark.browser


def _audited(tab: Tab, where: str) -> None:
    tab.assert_accessible(where, also_without_javascript=tab.javascript)


def test_an_operator_claims_and_approves_a_street_trading_licence(tab: Tab, open_tab: OpenTab) -> None:
    # given a paid street trading application waiting for a licensing officer, and both roles' operators
    application = casework.trading_file()
    officer = casework.operator_create("olive", casework.OFFICER, first_name="Olive")
    manager = casework.operator_create("manny", casework.MANAGER, first_name="Manny")

    # when the officer signs in (password, then the code from the authenticator app) and opens the queues
    people.officer_sign_in(tab, officer)
    tab.click_link("Queues")
    assert tab.heading() == "Queues"
    assert application.reference in tab.text()
    _audited(tab, "queue")

    # and claims the application from the queue
    tab.click_button(f"Claim {application.reference}")
    assert f"You claimed {application.reference}." in tab.text()
    _audited(tab, "queue after a claim")
    tab.click_link("My tasks")
    _audited(tab, "my tasks")
    tab.click_link(application.reference)
    assert tab.heading() == f"Application {application.reference}"
    _audited(tab, "file")

    # then approval is refused while the pitch inspection is unanswered
    tab.click_button("Make a decision")
    _audited(tab, "decision form")
    tab.page.locator("input[name=decision][value=approve]").check()
    tab.click_button("Record decision", status=400)
    summary = tab.error_summary()
    assert len(summary) == 1, summary
    assert summary[0][1] == "#pitch_inspected"
    _audited(tab, "decision form with errors")
    assert open_task(application).status == TaskStatus.CLAIMED

    # when the officer answers it and approves
    tab.page.locator("input[name=pitch_inspected][value=yes]").check()
    tab.page.locator("input[name=decision][value=approve]").check()
    tab.click_button("Record decision")

    # then the file moves on to the licensing manager
    assert tab.path == "/staff/my-tasks/"
    assert f"You approved {application.reference}." in tab.text()
    following = open_task(application)
    assert (following.role_id, following.status) == (casework.MANAGER, TaskStatus.PENDING)

    # when the manager claims it on the file page and approves it
    manager_tab = open_tab(javascript=tab.javascript)
    people.officer_sign_in(manager_tab, manager)
    manager_tab.goto(casework.file_path(application))
    manager_tab.click_button("Claim this task")
    _audited(manager_tab, "file after a claim")
    manager_tab.click_button("Make a decision")
    manager_tab.page.locator("input[name=decision][value=approve]").check()
    manager_tab.click_button("Record decision")

    # then the application is approved, and its history shows both decisions
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED
    tab.goto(casework.file_path(application))
    assert tab.text().count("Decision recorded") == 2
    _audited(tab, "approved file")


def test_an_operator_claims_and_decides_with_the_keyboard_alone(open_tab: OpenTab) -> None:
    # given a paid application and a licensing officer who uses a keyboard, not a mouse
    application = casework.trading_file()
    officer = casework.operator_create("olive", casework.OFFICER, first_name="Olive")
    tab = open_tab(javascript=True)
    people.officer_sign_in(tab, officer)

    # when they tab through the queue and claim with Enter
    tab.goto("/staff/queues/")
    assert_keyboard_operable(tab.page)
    tab_to(tab.page, "form[action$='/claim'] button")
    tab.navigate(lambda: tab.page.keyboard.press("Enter"))
    assert f"You claimed {application.reference}." in tab.text()

    # and open the file and the decision form from the keyboard
    tab.goto(casework.file_path(application))
    assert_keyboard_operable(tab.page)
    tab_to(tab.page, "a.govuk-button")
    tab.navigate(lambda: tab.page.keyboard.press("Enter"))
    assert tab.heading() == f"Decide on application {application.reference}"
    assert_keyboard_operable(tab.page)

    # and answer the inspection question and approve with Tab, Space and Enter
    tab_to(tab.page, "input[name=pitch_inspected]")
    tab.page.keyboard.press("Space")
    tab_to(tab.page, "input[name=decision]")
    tab.page.keyboard.press("Space")
    assert tab.page.locator("input[name=decision][value=approve]").is_checked()
    stop = tab_to(tab.page, "#record-decision")
    assert "Record decision" in stop.label
    tab.navigate(lambda: tab.page.keyboard.press("Enter"))

    # then the decision is recorded
    assert tab.path == "/staff/my-tasks/"
    assert open_task(application).role_id == casework.MANAGER


def test_an_operator_applies_on_a_citizens_behalf_through_the_journey(tab: Tab) -> None:
    # given a council officer helping a citizen at the counter (the street light report of the same council)
    examples_publish(STREET_LIGHT)
    officer = casework.operator_create("olive", casework.OFFICER, first_name="Olive")
    people.officer_sign_in(tab, officer)

    # when they start an application for the citizen from the workspace
    tab.goto("/staff/queues/")
    tab.click_link("Apply for someone")
    _audited(tab, "assisted start")
    tab.page.locator("#service").select_option(STREET_LIGHT)
    tab.page.locator("#email").fill("charles@example.org")
    tab.click_button("Start application")

    # and fill in the same journey pages the citizen would
    answer(tab, "Is the light on private land?", [Choose("No")])
    answer(tab, "What is wrong with the light?", [Choose("It is damaged"), Choose("Yes", "Can you see any wires?")])
    answer(
        tab,
        "Where is the light?",
        [Fill("Lamp post number (if you can see it)", "WM-04512"), Fill("Street name", "Babbage Street")],
    )
    answer(tab, "Add a photo of the problem (optional)", [])
    answer(
        tab,
        "Your details",
        [Fill("Your name", "Charles Babbage"), Fill("Email address", "charles@example.org"), Choose("Yes, by email")],
    )
    assert tab.heading() == "Check your answers before sending your application"
    Tick("I confirm that the information I have given is correct and complete to the best of my knowledge.").give(
        tab.page
    )
    tab.click_button("Accept and send")

    # then the report is sent, for the citizen, in the assisted channel, with the officer named in the audit log
    application = Application.objects.get(service_id=STREET_LIGHT)
    assert (application.channel, application.status) == ("assisted", ApplicationStatus.SUBMITTED)
    assert application.citizen is not None
    submitted = AuditEntry.objects.get(action="journeys.application.submitted", subject_id=str(application.id))
    assert (submitted.actor_kind, submitted.actor_id) == ("user", str(officer.user.pk))


def test_a_team_leader_reassigns_work_with_the_keyboard_alone(open_tab: OpenTab) -> None:
    # given an application waiting in the pool, a licensing officer, and their team leader at a keyboard
    application = casework.trading_file()
    officer = casework.operator_create("olive", casework.OFFICER, first_name="Olive")
    leader = casework.operator_create("lena", casework.LEADER, first_name="Lena")
    tab = open_tab(javascript=True)
    people.officer_sign_in(tab, leader)

    # when they tab through the team page, tick the task, choose the officer and reassign
    tab.goto("/staff/team/")
    assert_keyboard_operable(tab.page)
    tab_to(tab.page, "input[name=tasks]")
    tab.page.keyboard.press("Space")
    tab_to(tab.page, "#assignee")
    # The options: "Choose who to give them to", "Nobody: back to the queue", then the officer.
    tab.page.keyboard.press("ArrowDown")
    tab.page.keyboard.press("ArrowDown")
    assert tab.page.locator("#assignee").input_value() == str(officer.user.pk)
    tab_to(tab.page, "#reassign")
    tab.navigate(lambda: tab.page.keyboard.press("Enter"))

    # then the task is the officer's
    assert "1 task reassigned." in tab.text()
    task = open_task(application)
    assert (task.status, task.assignee_id) == (TaskStatus.CLAIMED, officer.user.pk)

"""The operator workspace's page types (issue 5), for the inventory in tests/browser/inventory.py.

Each reach signs an operator in through the real pages and builds the file
it needs through the services (a paid street trading application); the
action a page shows the result of is done through the pages.
"""

from __future__ import annotations

from govserve.casework.tests.support import open_task
from tests.browser import casework, people
from tests.browser.browsing import Tab
from tests.browser.casework import Reach


def _staff(path_of: str, *, roles: tuple[str, ...] = (casework.OFFICER,), status: int = 200) -> Reach:
    def reach(tab: Tab) -> None:
        application = casework.signed_in_with_file(tab, roles=roles)
        tab.goto(path_of.format(file=casework.file_id(application), reference=application.reference), status=status)

    return reach


def _queue_errors(tab: Tab) -> None:
    casework.signed_in_with_file(tab)
    tab.goto("/staff/queues/?submitted_from-day=31&submitted_from-month=2&submitted_from-year=2026", status=400)
    assert tab.error_summary()


def _my_tasks(tab: Tab) -> None:
    application = casework.signed_in_with_file(tab)
    tab.goto("/staff/queues/")
    tab.page.get_by_role("button", name=f"Claim {application.reference}").click()
    tab.page.wait_for_load_state("load")
    tab.goto("/staff/my-tasks/")


def _claim_conflict(tab: Tab) -> None:
    application = casework.signed_in_with_file(tab)
    tab.goto("/staff/queues/")
    # A colleague claims it first, through the service, while this page is open.
    colleague = casework.operator_create("colleague", first_name="Colin")
    from govserve.casework.services import task_claim  # noqa: PLC0415 - after Django is set up

    task = open_task(application)
    task_claim(user=colleague.user, task_id=task.id)
    tab.navigate(tab.page.get_by_role("button", name=f"Claim {application.reference}").click, status=409)


def _file_note_error(tab: Tab) -> None:
    application = casework.signed_in_with_file(tab)
    casework.claim_on_file_page(tab, application)
    tab.click_button("Add note", status=400)
    assert tab.error_summary()


def _decision(tab: Tab) -> None:
    application = casework.signed_in_with_file(tab)
    casework.claim_on_file_page(tab, application)
    tab.click_button("Make a decision")


def _decision_errors(tab: Tab) -> None:
    _decision(tab)
    tab.page.locator("#decision").check()
    tab.click_button("Record decision", status=400)
    assert tab.error_summary()


def _counter(tab: Tab) -> None:
    application = casework.signed_in_with_file(tab)
    casework.claim_on_file_page(tab, application)
    tab.click_link("Record counter work")


def _counter_error(tab: Tab) -> None:
    _counter(tab)
    tab.click_button("Save counter record", status=400)


def _correction(tab: Tab) -> None:
    application = casework.signed_in_with_file(tab, corrects=True)
    casework.claim_on_file_page(tab, application)
    tab.page.get_by_role("link", name="Correct Describe what you will sell").click()
    tab.page.wait_for_load_state("load")
    assert tab.heading() == "Correct an answer"


def _correction_error(tab: Tab) -> None:
    _correction(tab)
    tab.page.locator("#goods_description").fill("")
    tab.click_button("Save correction", status=400)


def _team(tab: Tab) -> None:
    casework.signed_in_with_file(tab, roles=(casework.LEADER,))
    casework.operator_create("colleague", first_name="Colin")
    tab.goto("/staff/team/")


def _team_errors(tab: Tab) -> None:
    _team(tab)
    tab.click_button("Reassign selected tasks", status=400)


def _search_not_found(tab: Tab) -> None:
    people.officer_sign_in(tab, casework.operator_create())
    tab.goto("/staff/search/?reference=GS-NOPE", status=404)


def _result_revoke(tab: Tab) -> None:
    application = casework.trading_file()
    officer = casework.operator_create()
    casework.approved_through_services(application, officer)
    people.officer_sign_in(tab, officer)
    tab.goto(casework.file_path(application))
    tab.page.locator("#results a", has_text="Revoke").first.click()
    tab.page.wait_for_load_state("load")
    assert tab.heading().startswith("Revoke")


def _result_revoke_error(tab: Tab) -> None:
    _result_revoke(tab)
    tab.click_button("Revoke result", status=400)


def _assisted_errors(tab: Tab) -> None:
    _staff("/staff/assisted/")(tab)
    tab.click_button("Start application", status=400)
    assert tab.error_summary()


CASEWORK_PAGES: tuple[tuple[str, str, Reach], ...] = (
    ("staff-queue", "casework:queue", _staff("/staff/queues/")),
    ("staff-queue-errors", "casework:queue", _queue_errors),
    ("staff-my-tasks", "casework:my_tasks", _my_tasks),
    ("staff-task-claim-conflict", "casework:task_claim", _claim_conflict),
    ("staff-file", "casework:file", _staff("/staff/files/{file}/")),
    # Finance staff who work on none of its tasks: the summary, fees and payments (casework/file_fees.html).
    ("staff-file-fees", "casework:file", _staff("/staff/files/{file}/", roles=("finance",))),
    ("staff-file-note-error", "casework:note_add", _file_note_error),
    ("staff-file-print", "casework:file_print", _staff("/staff/files/{file}/print")),
    ("staff-decision", "casework:decision", _decision),
    ("staff-decision-errors", "casework:decision", _decision_errors),
    ("staff-counter", "casework:counter", _counter),
    ("staff-counter-error", "casework:counter", _counter_error),
    ("staff-correction", "casework:correction", _correction),
    ("staff-correction-error", "casework:correction", _correction_error),
    ("staff-team", "casework:team", _team),
    ("staff-team-errors", "casework:team", _team_errors),
    ("staff-team-not-leader", "casework:team", _staff("/staff/team/")),
    ("staff-search", "casework:search", _staff("/staff/search/")),
    ("staff-search-not-found", "casework:search", _search_not_found),
    ("staff-result-revoke", "casework:result_revoke", _result_revoke),
    ("staff-result-revoke-error", "casework:result_revoke", _result_revoke_error),
    ("staff-assisted-start", "casework:assisted_start", _staff("/staff/assisted/")),
    ("staff-assisted-start-errors", "casework:assisted_start", _assisted_errors),
)
CASEWORK_PHONE_PAGES = frozenset({"staff-queue", "staff-file", "staff-decision"})

# Routes of the workspace that render no page of their own, and why.
_POST_ONLY = "POST only: redirects back with a banner; a refusal is the problem page (staff-task-claim-conflict)"
CASEWORK_NOT_PAGES: dict[str, str] = {
    "casework:task_release": _POST_ONLY,
    "casework:task_assign": _POST_ONLY,
    "casework:message_send": "POST only: redirects to the file; errors re-render it (staff-file-note-error)",
    "casework:assisted_continue": "redirects to the journey's own pages (inventory_journeys.py)",
}

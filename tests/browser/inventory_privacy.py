"""The privacy pages (issue 8, privacy operations), for the inventory in tests/browser/inventory.py.

The applicant's "who has seen your application" page is reached as the
signed-in citizen after a registrar read their file (through casework's
selector, which writes the access audit); the staff pages as a data
protection officer of Westmoor City Council, signed in through the real pages.
"""

from __future__ import annotations

from collections.abc import Callable

from govserve.accounts.models import Institution, RoleAssignment, User
from govserve.casework.selectors import file_view
from govserve.casework.tests.support import file_of, newborn_submitted
from govserve.journeys.access import Applicant
from govserve.journeys.tests.support import STREET_TRADING, examples_publish
from govserve.privacy.access_report import DATA_PROTECTION_OFFICER_ROLE
from tests.browser import casework, people
from tests.browser.browsing import Tab

Reach = Callable[[Tab], None]


def _seen_by_registrar(tab: Tab, *, read: bool = True) -> None:
    examples_publish()
    applicant = people.applicant_create()
    people.applicant_sign_in(tab, applicant)
    application, _ = newborn_submitted(Applicant(citizen=applicant.citizen))
    if read:
        registrar = User.objects.create(username="registrar-privacy", first_name="Rhys", is_active=True)
        RoleAssignment.objects.create(
            user=registrar, institution=Institution.objects.get(code="civil-registry"), role="registrar"
        )
        file_view(user=registrar, file_id=file_of(application).id)
        file_view(user=registrar, file_id=file_of(application).id, purpose="print")
    tab.goto(f"/applications/{application.id}/who-has-seen-it")
    if read:
        assert "Civil Registration Office" in tab.text(), tab.text()
        assert "Rhys" not in tab.text()
    else:
        assert "No member of staff has looked at your application yet." in tab.text(), tab.text()


def _officer(path: str, *, status: int = 200) -> Reach:
    def reach(tab: Tab) -> None:
        examples_publish(STREET_TRADING)
        people.officer_sign_in(tab, casework.operator_create("dpo", DATA_PROTECTION_OFFICER_ROLE, first_name="Dora"))
        tab.goto(path, status=status)

    return reach


def _subject_access_error(tab: Tab) -> None:
    _officer("/staff/privacy/subject-access")(tab)
    tab.page.locator("#email").fill("not an address")
    tab.click_button("Prepare the export", status=400)
    assert tab.error_summary(), "no error summary"


def _subject_access_request(state: str) -> Reach:
    """Reach the officer's request page: being prepared, ready (the job ran), failed (dead letter) or removed.

    ``listed``: the form again, listing the request just made.
    """

    def reach(tab: Tab) -> None:
        from govserve.audit.actors import Actor  # noqa: PLC0415
        from govserve.core.jobs import run_pending  # noqa: PLC0415
        from govserve.core.models import JobRecord, JobState  # noqa: PLC0415
        from govserve.privacy.models import SubjectAccessRequest  # noqa: PLC0415
        from govserve.privacy.subject_access_requests import subject_access_request_remove  # noqa: PLC0415

        _officer("/staff/privacy/subject-access")(tab)
        tab.page.locator("#email").fill("nobody.held@example.org")
        tab.click_button("Prepare the export")
        asked = SubjectAccessRequest.objects.get()
        if state == "ready":
            run_pending()
        elif state == "failed":
            # The page reads the job's dead letter; three real failures would only take longer to reach it.
            JobRecord.objects.filter(id=str(asked.job_id)).update(state=JobState.DEAD)
        elif state == "removed":
            subject_access_request_remove(request_id=asked.id, actor=Actor.system("test"))
        if state == "listed":
            tab.goto("/staff/privacy/subject-access")
            assert "nobody.held@example.org" in tab.text(), tab.text()
            return
        tab.goto(f"/staff/privacy/subject-access/{asked.id}")
        expected = {
            "preparing": "is being prepared",
            "ready": "is ready",
            "failed": "could not be prepared",
            "removed": "has been removed",
        }[state]
        assert expected in tab.heading(), tab.heading()

    return reach


def _erasure(step: str) -> Reach:
    """Reach the erasure page: the form, its error, the confirmation of a closed file, or a refusal (open file)."""

    def reach(tab: Tab) -> None:
        from govserve.casework.results.tests.support import approved_trading, trading_application  # noqa: PLC0415

        _officer("/staff/privacy/erasure")(tab)
        if step == "form":
            return
        if step == "error":
            tab.click_button("Check", status=400)
            assert tab.error_summary(), "no error summary"
            return
        application = approved_trading() if step == "confirm" else trading_application()
        tab.page.locator("#reference").fill(application.reference)
        tab.click_button("Check", status=200 if step == "confirm" else 409)
        expected = "This cannot be undone" if step == "confirm" else "cannot be erased now"
        assert expected in tab.text(), tab.text()

    return reach


PRIVACY_PAGES: tuple[tuple[str, str, Reach], ...] = (
    ("application-access", "privacy:application_access", _seen_by_registrar),
    ("application-access-none", "privacy:application_access", lambda tab: _seen_by_registrar(tab, read=False)),
    ("staff-subject-access", "privacy:subject_access", _officer("/staff/privacy/subject-access")),
    ("staff-subject-access-error", "privacy:subject_access", _subject_access_error),
    ("staff-subject-access-listed", "privacy:subject_access", _subject_access_request("listed")),
    ("staff-subject-access-preparing", "privacy:subject_access_request", _subject_access_request("preparing")),
    ("staff-subject-access-ready", "privacy:subject_access_request", _subject_access_request("ready")),
    ("staff-subject-access-failed", "privacy:subject_access_request", _subject_access_request("failed")),
    ("staff-subject-access-removed", "privacy:subject_access_request", _subject_access_request("removed")),
    ("staff-dp-reports", "privacy:dp_reports", _officer("/staff/privacy/services/")),
    ("staff-dp-report", "privacy:dp_report", _officer("/staff/privacy/services/street-trading-licence/")),
    ("staff-erasure", "privacy:erasure", _erasure("form")),
    ("staff-erasure-error", "privacy:erasure", _erasure("error")),
    ("staff-erasure-confirm", "privacy:erasure", _erasure("confirm")),
    ("staff-erasure-refused", "privacy:erasure", _erasure("refused")),
)

PRIVACY_NOT_PAGES: dict[str, str] = {
    "privacy:subject_access_download": "the prepared zip itself (or a redirect to its request's page), never HTML",
}

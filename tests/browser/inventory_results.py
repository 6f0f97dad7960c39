"""The result verification pages (issue 5, casework-results), for the inventory in tests/browser/inventory.py.

Results are issued through the results services on an application made
through the journey's own services (the journey pages are audited on their
own); the pages audited here are the public verification pages and the
applicant's "being prepared" page, reached in the browser.
"""

from __future__ import annotations

from collections.abc import Callable

from govserve.casework.results.models import IssuedResult
from govserve.casework.results.services import result_revoke, results_issue
from govserve.casework.results.tests.support import OFFICER, approved_trading
from govserve.journeys.access import Applicant
from govserve.journeys.tests.support import STREET_TRADING, examples_publish
from tests.browser import people
from tests.browser.browsing import Tab

Reach = Callable[[Tab], None]


def _issued(applicant: people.Applicant | None = None) -> IssuedResult:
    examples_publish(STREET_TRADING)
    who = Applicant(citizen=applicant.citizen) if applicant is not None else None
    return results_issue(approved_trading(who=who), actor=OFFICER)[0]


def _verify_genuine(tab: Tab) -> None:
    row = _issued()
    tab.goto(f"/verify/{row.code}")
    assert tab.heading() == "This Street trading licence is genuine", tab.heading()


def _verify_revoked(tab: Tab) -> None:
    row = result_revoke(_issued(), reason="Licence surrendered", actor=OFFICER)
    tab.goto(f"/verify/{row.code}")
    assert "revoked" in tab.text().lower()


def _verify_not_genuine(tab: Tab) -> None:
    tab.goto("/verify/" + "a" * 144, status=404)
    assert tab.heading() == "We cannot confirm this code is genuine", tab.heading()


def _verify_form(tab: Tab) -> None:
    tab.goto("/verify")


def _verify_form_error(tab: Tab) -> None:
    tab.goto("/verify")
    tab.page.locator("#code").fill("not $ a code")
    tab.click_button("Check the code", status=400)
    assert tab.error_summary(), "no error summary"


def _verify_typed(tab: Tab) -> None:
    row = _issued()
    tab.goto("/verify")
    tab.page.locator("#code").fill(row.code.upper())
    tab.click_button("Check the code")
    assert tab.path == f"/verify/{row.code}", tab.path


def _result_being_prepared(tab: Tab) -> None:
    applicant = people.applicant_create()
    row = _issued(applicant)
    people.applicant_sign_in(tab, applicant)
    tab.goto(f"/applications/{row.application_id}/")
    assert "being prepared" in tab.text()
    tab.goto(f"/results/{row.id}/download", status=409)


RESULTS_PAGES: tuple[tuple[str, str, Reach], ...] = (
    ("verify-form", "casework_results:verify", _verify_form),
    ("verify-form-error", "casework_results:verify", _verify_form_error),
    ("verify-genuine", "casework_results:verify_code", _verify_genuine),
    ("verify-typed-code", "casework_results:verify_code", _verify_typed),
    ("verify-revoked", "casework_results:verify_code", _verify_revoked),
    ("verify-not-genuine", "casework_results:verify_code", _verify_not_genuine),
    ("result-being-prepared", "casework_results:download", _result_being_prepared),
)
RESULTS_PHONE_PAGES = frozenset({"verify-genuine", "verify-form-error"})

"""The inventory of page types a person can see, and how a browser reaches each one.

Each :class:`PageType` names the route it renders and a ``reach`` function
that brings a fresh tab to it through the real pages (signing in, filling in
forms) from an empty database. ``test_inventory.py`` runs axe-core on every
entry with and without JavaScript, and fails when a route that renders HTML
has no entry here and no reason in :data:`NOT_PAGES`.

A page type is a template in a state: a form and the same form showing its
errors are two entries, because the error summary and error messages are
markup of their own.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.test import RequestFactory

from govserve.accounts.services import staff_invite, staff_mfa_reset
from govserve.accounts.tests.factories import institution_create, role_grant
from govserve.audit.actors import Actor
from govserve.core import clock
from tests.browser import people
from tests.browser.browsing import Tab
from tests.browser.inventory_api import API_NOT_PAGES
from tests.browser.inventory_casework import CASEWORK_NOT_PAGES, CASEWORK_PAGES, CASEWORK_PHONE_PAGES
from tests.browser.inventory_govstack import GOVSTACK_NOT_PAGES
from tests.browser.inventory_journeys import JOURNEY_PAGES, PHONE_PAGES
from tests.browser.inventory_pay_adapter import PAY_ADAPTER_NOT_PAGES, PAY_ADAPTER_PAGES
from tests.browser.inventory_payments import (
    PAYMENTS_NOT_PAGES,
    PAYMENTS_PAGES,
    PAYMENTS_PHONE_PAGES,
    PAYMENTS_SETTINGS,
)
from tests.browser.inventory_privacy import PRIVACY_NOT_PAGES, PRIVACY_PAGES
from tests.browser.inventory_results import RESULTS_PAGES, RESULTS_PHONE_PAGES
from tests.browser.inventory_sent_back import SENT_BACK_NOT_PAGES, SENT_BACK_PAGES


@dataclass(frozen=True)
class PageType:
    """A page as a person sees it: its id, the route it renders and how to get there."""

    id: str
    route: str
    reach: Callable[[Tab], None]
    # Settings the page needs (the demo mail page, a low rate limit), applied for the test only.
    settings: dict[str, Any] = field(default_factory=dict)
    # Audited at phone width too: the layouts that change most on a small screen (navigation, forms).
    phone: bool = False


# --- reaching pages -----------------------------------------------------------------------------------


def _get(path: str, status: int = 200) -> Callable[[Tab], None]:
    def reach(tab: Tab) -> None:
        tab.goto(path, status=status)

    return reach


def _submit_empty(path: str, button: str, status: int = 400) -> Callable[[Tab], None]:
    def reach(tab: Tab) -> None:
        tab.goto(path)
        tab.click_button(button, status=status)
        assert tab.error_summary(), f"{path}: no error summary after submitting nothing"

    return reach


def _staff_code(tab: Tab) -> None:
    people.officer_sign_in_to_code_step(tab, people.officer_create())
    assert tab.path == "/staff/sign-in/code"


def _staff_code_error(tab: Tab) -> None:
    _staff_code(tab)
    tab.page.locator("#code").fill("12345")
    tab.click_button("Sign in", status=401)


def _staff_invited(tab: Tab) -> None:
    institution_create(code="city-council", name="Westmoor City Council")
    issued = staff_invite(
        actor=Actor.system("test"), username="new-officer", roles=[("city-council", "licensing_officer")]
    )
    tab.goto(f"/staff/set-password/{issued.token}")


def _staff_enrol(tab: Tab) -> None:
    # An invitation: set a password from the link, then set up the authenticator in the same session.
    _staff_invited(tab)
    tab.page.locator("#password").fill(people.NEW_STAFF_PASSWORD)
    tab.page.locator("#password_confirm").fill(people.NEW_STAFF_PASSWORD)
    tab.click_button("Create password")
    assert tab.path == "/staff/sign-in/set-up-authenticator", tab.path


def _staff_enrol_error(tab: Tab) -> None:
    _staff_enrol(tab)
    tab.page.locator("#code").fill("000000")
    tab.click_button("Confirm and sign in", status=401)


def _staff_no_authenticator(tab: Tab) -> None:
    people.officer_sign_in_to_code_step(tab, people.officer_create(enrolled=False), status=403)


def _staff_enrolment_link(tab: Tab) -> None:
    officer = people.officer_create()
    reset = staff_mfa_reset(actor=Actor.system("test"), user=officer.user)
    tab.goto(f"/staff/set-up-authenticator/{reset.link.token}")


def _staff_set_password_error(tab: Tab) -> None:
    _staff_invited(tab)
    tab.page.locator("#password").fill(people.NEW_STAFF_PASSWORD)
    tab.page.locator("#password_confirm").fill("not the same password at all")
    tab.click_button("Create password", status=400)


def _staff_reauthenticate_error(tab: Tab) -> None:
    _staff_signed_in("/staff/confirm-it-is-you")(tab)
    tab.click_button("Continue", status=400)


def _staff_change_password_error(tab: Tab) -> None:
    _staff_signed_in("/staff/account/password")(tab)
    tab.click_button("Change password", status=400)


def _staff_enrolment_link_error(tab: Tab) -> None:
    _staff_enrolment_link(tab)
    tab.click_button("Continue", status=400)


def _admin_forbidden(tab: Tab) -> None:
    # A licensing officer is staff, but not an administrator of the platform.
    _staff_signed_in("/staff/")(tab)
    tab.goto("/staff/admin/login/", status=403)


def _citizen_email_change_error(tab: Tab) -> None:
    _citizen_signed_in("/account/email")(tab)
    tab.click_button("Continue", status=400)


def _citizen_password_link_sent(tab: Tab) -> None:
    _citizen_signed_in("/account/password")(tab)
    tab.click_button("Email me a link")


def _staff_signed_in(path: str) -> Callable[[Tab], None]:
    def reach(tab: Tab) -> None:
        people.officer_sign_in(tab, people.officer_create())
        tab.goto(path)

    return reach


def _staff_suppliers(tab: Tab) -> None:
    # An administrator of the council sees its supplier staff: one supplier account, limited to one service.
    officer = people.officer_create()
    role_grant(user=officer.user, institution=officer.user.role_assignments.get().institution, role="administrator")
    staff_invite(
        actor=Actor.system("cli"),
        username="supplier-engineer",
        first_name="Sam",
        last_name="Supplier",
        roles=[("city-council", "licensing_officer")],
        is_supplier=True,
        access_expires_at=clock.now() + datetime.timedelta(days=30),
        supplier_company="Acme Digital",
        supplier_services=["street-trading-licence"],
    )
    people.officer_sign_in(tab, officer)
    tab.goto("/staff/suppliers")


def _staff_locked_out(tab: Tab) -> None:
    officer = people.officer_create()
    tab.goto("/staff/sign-in")
    limit = int(settings.AXES_FAILURE_LIMIT)
    for attempt in range(limit):
        tab.page.locator("#username").fill(officer.user.username)
        tab.page.locator("#password").fill("not-the-password")
        tab.click_button("Continue", status=429 if attempt == limit - 1 else 401)
    assert "locked" in tab.heading().lower()


def _citizen_signed_in(path: str) -> Callable[[Tab], None]:
    def reach(tab: Tab) -> None:
        people.applicant_sign_in(tab, people.applicant_create())
        tab.goto(path)

    return reach


def _citizen_password_error(tab: Tab) -> None:
    people.applicant_create()
    tab.goto("/sign-in/password")
    tab.page.locator("#email").fill("ada@example.org")
    tab.page.locator("#password").fill("wrong-password-entirely")
    tab.click_button("Sign in", status=401)


def _request_link(tab: Tab, email: str = "ada@example.org") -> None:
    tab.goto("/sign-in")
    tab.page.locator("#email").fill(email)
    tab.click_button("Continue")


def _follow_mailed_link(tab: Tab) -> None:
    tab.goto("/demo/mail")
    link = tab.page.locator(".govuk-inset-text a").first
    href = link.get_attribute("href") or ""
    assert href.startswith(tab.base_url), href
    tab.goto(href.removeprefix(tab.base_url))


def _citizen_link(tab: Tab) -> None:
    _request_link(tab)
    _follow_mailed_link(tab)


def _demo_mail(tab: Tab) -> None:
    _request_link(tab)
    tab.goto("/demo/mail")


def _citizen_signed_out(tab: Tab) -> None:
    _citizen_signed_in("/sign-out")(tab)
    tab.click_button("Sign out")


def _staff_signed_out(tab: Tab) -> None:
    _staff_signed_in("/staff/sign-out")(tab)
    tab.click_button("Sign out")


def _email_change_sent(tab: Tab) -> None:
    _citizen_signed_in("/account/email")(tab)
    tab.page.locator("#email").fill("ada.new@example.org")
    tab.click_button("Continue")


def _email_confirm(tab: Tab) -> None:
    _email_change_sent(tab)
    _follow_mailed_link(tab)


def _email_changed(tab: Tab) -> None:
    _email_confirm(tab)
    tab.click_button("Confirm new email address")


def _email_in_use(tab: Tab) -> None:
    _email_confirm(tab)
    people.applicant_create("ada.new@example.org")
    tab.click_button("Confirm new email address", status=409)


def _rate_limited(tab: Tab) -> None:
    _request_link(tab)
    tab.goto("/sign-in")
    tab.page.locator("#email").fill("ada@example.org")
    tab.click_button("Continue", status=429)


def _csrf_failure(tab: Tab) -> None:
    tab.goto("/sign-in")
    tab.context.clear_cookies()
    tab.page.locator("#email").fill("ada@example.org")
    tab.click_button("Continue", status=403)


def _served_error_page(view: Callable[..., Any], path: str, status: int) -> Callable[[Tab], None]:
    """Serve an error page that no safe request can provoke (500) as the server renders it, at a live URL."""

    def reach(tab: Tab) -> None:
        request = RequestFactory().get(path)
        request.request_id = "test-request-id"  # type: ignore[attr-defined]
        response = view(request)
        assert response.status_code == status
        html = response.content.decode()
        tab.page.route(
            f"{tab.base_url}{path}",
            lambda route: route.fulfill(status=status, content_type="text/html; charset=utf-8", body=html),
        )
        tab.goto(path, status=status)

    return reach


def _server_error(request: Any) -> Any:
    from govserve.web.errors import server_error  # noqa: PLC0415

    return server_error(request)


def _forbidden(request: Any) -> Any:
    from govserve.web.errors import permission_denied  # noqa: PLC0415

    return permission_denied(request)


def _bad_request(request: Any) -> Any:
    from govserve.web.errors import bad_request  # noqa: PLC0415

    return bad_request(request)


def _welsh(path: str) -> Callable[[Tab], None]:
    def reach(tab: Tab) -> None:
        tab.goto(path)
        tab.page.locator('a[hreflang="cy"]').first.click()
        tab.page.wait_for_load_state("load")
        assert tab.page.locator("html").get_attribute("lang") == "cy"

    return reach


DEMO = {"GOVSERVE_DEMO": True}

INVENTORY: tuple[PageType, ...] = (
    # --- the site --------------------------------------------------------------------------------------
    PageType("home", "home", _get("/"), phone=True),
    PageType("home-welsh", "language_switch", _welsh("/")),
    PageType("accessibility-statement", "accessibility_statement", _get("/accessibility")),
    PageType("privacy-notice", "privacy_notice", _get("/privacy")),
    PageType("cookies", "cookies_page", _get("/cookies")),
    PageType("help", "help_page", _get("/help")),
    PageType("session-ended", "session_ended", _get("/session/ended")),
    PageType("not-found", "<404>", _get("/no-such-page", status=404)),
    PageType("csrf-refused", "<403 csrf>", _csrf_failure),
    PageType(
        "too-many-requests", "<429>", _rate_limited, settings={"GOVSERVE_RATE_LIMITS": {"citizen-link-email": (1, 900)}}
    ),
    PageType("server-error", "<500>", _served_error_page(_server_error, "/boom", 500)),
    PageType("demo-mail", "notifications:demo_mail", _demo_mail, settings=DEMO),
    # --- staff sign-in ---------------------------------------------------------------------------------
    PageType("staff-sign-in", "accounts:staff_sign_in", _get("/staff/sign-in"), phone=True),
    PageType("staff-sign-in-errors", "accounts:staff_sign_in", _submit_empty("/staff/sign-in", "Continue")),
    PageType("staff-code", "accounts:staff_sign_in_code", _staff_code),
    PageType("staff-code-error", "accounts:staff_sign_in_code", _staff_code_error),
    PageType("staff-enrol", "accounts:staff_enrol", _staff_enrol),
    PageType("staff-enrol-error", "accounts:staff_enrol", _staff_enrol_error),
    PageType("staff-no-authenticator", "accounts:staff_sign_in", _staff_no_authenticator),
    PageType("staff-enrolment-link", "accounts:staff_enrolment_link", _staff_enrolment_link),
    PageType("staff-locked-out", "accounts:staff_sign_in", _staff_locked_out),
    PageType("staff-home", "accounts:staff_home", _staff_signed_in("/staff/"), phone=True),
    PageType("staff-suppliers", "accounts:staff_suppliers", _staff_suppliers),
    PageType("staff-reauthenticate", "accounts:staff_reauthenticate", _staff_signed_in("/staff/confirm-it-is-you")),
    PageType("staff-change-password", "accounts:staff_change_password", _staff_signed_in("/staff/account/password")),
    PageType("staff-sign-out", "accounts:staff_sign_out", _staff_signed_in("/staff/sign-out")),
    PageType("staff-signed-out", "accounts:staff_signed_out", _staff_signed_out),
    PageType("staff-set-password", "accounts:staff_set_password", _staff_invited),
    PageType("staff-set-password-error", "accounts:staff_set_password", _staff_set_password_error),
    PageType("staff-reauthenticate-error", "accounts:staff_reauthenticate", _staff_reauthenticate_error),
    PageType("staff-change-password-error", "accounts:staff_change_password", _staff_change_password_error),
    PageType("staff-enrolment-link-error", "accounts:staff_enrolment_link", _staff_enrolment_link_error),
    PageType("admin-forbidden", "<admin: signed-in staff who may not use it>", _admin_forbidden),
    PageType("staff-link-problem", "accounts:staff_set_password", _get("/staff/set-password/not-a-token", 404)),
    # --- citizen sign-in and account -------------------------------------------------------------------
    PageType("citizen-sign-in", "accounts:citizen_sign_in", _get("/sign-in")),
    PageType("citizen-sign-in-errors", "accounts:citizen_sign_in", _submit_empty("/sign-in", "Continue"), phone=True),
    PageType("citizen-check-email", "accounts:citizen_check_email", _request_link),
    PageType("citizen-link", "accounts:citizen_link", _citizen_link, settings=DEMO),
    PageType("citizen-link-problem", "accounts:citizen_link", _get("/sign-in/link/not-a-token", 404)),
    PageType("citizen-password-sign-in", "accounts:citizen_password_sign_in", _get("/sign-in/password")),
    PageType("citizen-password-sign-in-error", "accounts:citizen_password_sign_in", _citizen_password_error),
    PageType("citizen-account", "accounts:citizen_account", _citizen_signed_in("/account"), phone=True),
    PageType("citizen-email-change", "accounts:citizen_email_change", _citizen_signed_in("/account/email")),
    PageType("citizen-email-change-error", "accounts:citizen_email_change", _citizen_email_change_error),
    PageType("citizen-email-change-sent", "accounts:citizen_email_change", _email_change_sent),
    PageType("citizen-email-confirm", "accounts:citizen_email_confirm", _email_confirm, settings=DEMO),
    PageType("citizen-email-changed", "accounts:citizen_email_confirm", _email_changed, settings=DEMO),
    PageType("citizen-email-in-use", "accounts:citizen_email_confirm", _email_in_use, settings=DEMO),
    PageType("citizen-password", "accounts:citizen_password", _citizen_signed_in("/account/password")),
    PageType("citizen-password-link-sent", "accounts:citizen_password_link", _citizen_password_link_sent),
    PageType("citizen-sign-out", "accounts:citizen_sign_out", _citizen_signed_in("/sign-out")),
    PageType("citizen-signed-out", "accounts:citizen_sign_out", _citizen_signed_out),
    PageType("forbidden", "<403>", _served_error_page(_forbidden, "/forbidden", 403)),
    PageType("bad-request", "<400>", _served_error_page(_bad_request, "/bad", 400)),
    # --- the citizen journey (tests/browser/inventory_journeys.py) --------------------------------------
    *(PageType(page_id, route, reach, phone=page_id in PHONE_PAGES) for page_id, route, reach in JOURNEY_PAGES),
    # --- result verification (tests/browser/inventory_results.py) ---------------------------------------
    *(PageType(page_id, route, reach, phone=page_id in RESULTS_PHONE_PAGES) for page_id, route, reach in RESULTS_PAGES),
    # --- the operator workspace (tests/browser/inventory_casework.py) ------------------------------------
    *(
        PageType(page_id, route, reach, phone=page_id in CASEWORK_PHONE_PAGES)
        for page_id, route, reach in CASEWORK_PAGES
    ),
    # --- privacy: who has seen it, subject access, data-protection reports (inventory_privacy.py) -----
    *(PageType(page_id, route, reach) for page_id, route, reach in PRIVACY_PAGES),
    # --- the applicant's side of casework (tests/browser/inventory_sent_back.py) ------------------------
    *(PageType(page_id, route, reach) for page_id, route, reach in SENT_BACK_PAGES),
    # --- finance staff: refunds and reconciliation (tests/browser/inventory_pay_adapter.py) --------------
    *(PageType(page_id, route, reach) for page_id, route, reach in PAY_ADAPTER_PAGES),
    # --- the applicant paying, and the sandbox's card page (tests/browser/inventory_payments.py) ----------
    *(
        PageType(
            page_id,
            route,
            reach,
            settings=dict(PAYMENTS_SETTINGS.get(page_id, {})),
            phone=page_id in PAYMENTS_PHONE_PAGES,
        )
        for page_id, route, reach in PAYMENTS_PAGES
    ),
)

# Routes that render no HTML page of their own, and why.
NOT_PAGES: dict[str, str] = {
    "healthz": "JSON for load balancers",
    "readyz": "JSON for load balancers",
    "security_txt": "plain text (RFC 9116)",
    "security_txt_legacy": "redirect to /.well-known/security.txt",
    "documents:download": "the document's own bytes (PDF or image), never HTML",
    "session_extend": "POST from the session-timeout dialog; answers JSON or redirects back",
    "journeys:answers_pdf": "a PDF copy of the answers (Content-Type application/pdf)",
    "notifications:notify_callback": "POST from GOV.UK Notify (delivery receipts); answers JSON or problem+json",
    **CASEWORK_NOT_PAGES,
    **SENT_BACK_NOT_PAGES,
    **PAY_ADAPTER_NOT_PAGES,
    **PAYMENTS_NOT_PAGES,
    **API_NOT_PAGES,
    **GOVSTACK_NOT_PAGES,
    **PRIVACY_NOT_PAGES,
}

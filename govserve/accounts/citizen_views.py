"""Citizen sign-in pages: emailed link (default), password, account, email change, sign-out.

Thin: parse, call :mod:`govserve.accounts.citizens`, render. Pages extend the
base layout and work without JavaScript. A rate-limit refusal (429) is left to
``govserve.web.ratelimit.RateLimitMiddleware``, which renders the platform's
"too many attempts" page with ``Retry-After``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from govserve.accounts import citizens, conf, errors, forms, selectors, signin
from govserve.accounts.models import Citizen, CitizenLinkPurpose
from govserve.accounts.views import PageErrors, page, safe_next
from govserve.web.ratelimit import client_ip_bucket

ACCOUNT_HOME = "/account"
LINK_ERRORS = (errors.LinkInvalidError, errors.LinkExpiredError, errors.LinkUsedError)

View = Callable[..., HttpResponse]

NOTICES = {
    "idle": "You were signed out because you had not done anything for a while. Sign in again to continue.",
    "absolute": "You were signed out because your session reached its time limit. Sign in again to continue.",
    "access_ended": "You were signed out. Sign in again to continue.",
}


def _client_ip(request: HttpRequest) -> str:
    # The IPv4 address or IPv6 /64 (trusted proxies per GOVSERVE_TRUSTED_PROXY_COUNT).
    return client_ip_bucket(request)


def citizen_required(view: View) -> View:
    """Let only a signed-in citizen through (as ``request.citizen``); send others to sign in."""

    @functools.wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        citizen = selectors.current_citizen(request)
        if citizen is None:
            query = urlencode({"next": request.get_full_path()})
            return HttpResponseRedirect(f"{reverse('accounts:citizen_sign_in')}?{query}")
        request.citizen = citizen  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return guarded


def _citizen(request: HttpRequest) -> Citizen:
    citizen: Citizen = request.citizen  # type: ignore[attr-defined]
    return citizen


def _page(request: HttpRequest, template: str, *, title: str, status: int = 200, **context: Any) -> HttpResponse:
    context.setdefault("citizen_signed_in", selectors.current_citizen(request) is not None)
    return page(request, template, title=title, status=status, **context)


# --- sign in with an emailed link ------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def citizen_sign_in(request: HttpRequest) -> HttpResponse:
    """Ask for the email address and send a one-time link to it."""
    next_url = safe_next(request, default="")
    form = forms.CitizenEmailForm(request.POST or None)
    page_errors = PageErrors()
    if request.method == "POST":
        if form.is_valid():
            citizens.citizen_sign_in_link_request(
                email=form.cleaned_data["email"],
                client_ip=_client_ip(request),
                language=translation.get_language() or "en",
                next_path=next_url,
            )
            return HttpResponseRedirect(reverse("accounts:citizen_check_email"))
        page_errors.add_form(form)
    reason = request.session.pop(signin.NOTICE, None) if request.method == "GET" else None
    return _page(
        request,
        "accounts/citizen_sign_in.html",
        title=_("Sign in"),
        page_errors=page_errors,
        form=form,
        next_url=next_url,
        notice=_(NOTICES[reason]) if reason in NOTICES else "",
        password_url=f"{reverse('accounts:citizen_password_sign_in')}?{urlencode({'next': next_url})}"
        if next_url
        else reverse("accounts:citizen_password_sign_in"),
    )


@require_http_methods(["GET"])
def citizen_check_email(request: HttpRequest) -> HttpResponse:
    """Say a link is on its way: the same page whatever the address (no enumeration)."""
    minutes = int(conf.citizen_link_lifetime().total_seconds() // 60)
    return _page(request, "accounts/citizen_check_email.html", title=_("Check your email"), minutes=minutes)


@never_cache
@require_http_methods(["GET", "POST"])
def citizen_link(request: HttpRequest, token: str) -> HttpResponse:
    """GET: a page with a button (mail scanners follow links; only a person presses it). POST: sign in."""
    try:
        if request.method == "POST":
            result = citizens.citizen_sign_in_with_link(request=request, token=token)
            return HttpResponseRedirect(result.next_path or ACCOUNT_HOME)
        citizens.citizen_link_get(token=token, purpose=CitizenLinkPurpose.SIGN_IN)
    except LINK_ERRORS as error:
        return _page(
            request,
            "accounts/link_problem.html",
            title=error.message,
            status=error.status,
            problem=error.code,
            staff=False,
        )
    return _page(request, "accounts/citizen_link.html", title=_("Sign in"))


# --- sign in with a password ----------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def citizen_password_sign_in(request: HttpRequest) -> HttpResponse:
    """Sign in with email address and password (for citizens who set one)."""
    next_url = safe_next(request, default=ACCOUNT_HOME)
    form = forms.CitizenPasswordSignInForm(request.POST or None)
    page_errors = PageErrors()
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                citizens.citizen_password_sign_in(
                    request=request,
                    email=form.cleaned_data["email"],
                    password=form.cleaned_data["password"],
                    client_ip=_client_ip(request),
                )
            except errors.InvalidCredentialsError as error:
                page_errors.add("email", error.message)
                status = error.status
            else:
                return HttpResponseRedirect(next_url)
        else:
            page_errors.add_form(form)
    return _page(
        request,
        "accounts/citizen_password_sign_in.html",
        title=_("Sign in with your password"),
        status=status,
        page_errors=page_errors,
        form=form,
        next_url=next_url,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def citizen_sign_out(request: HttpRequest) -> HttpResponse:
    """GET: a page with a sign-out button; POST: sign out."""
    if request.method == "POST":
        if request.session.get(signin.KIND):
            signin.session_end(request, reason="signed_out")
        return _page(
            request, "accounts/citizen_signed_out.html", title=_("You have signed out"), citizen_signed_in=False
        )
    if selectors.current_citizen(request) is None:
        return HttpResponseRedirect(reverse("accounts:citizen_sign_in"))
    return _page(request, "accounts/citizen_sign_out.html", title=_("Sign out"))


# --- the account ------------------------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET"])
@citizen_required
def citizen_account(request: HttpRequest) -> HttpResponse:
    """The citizen's account: email address, password, sign-out."""
    citizen = _citizen(request)
    return _page(
        request,
        "accounts/citizen_account.html",
        title=_("Your account"),
        email=citizens.citizen_email(citizen),
        has_password=citizen.has_password,
    )


@never_cache
@require_http_methods(["GET", "POST"])
@citizen_required
def citizen_email_change(request: HttpRequest) -> HttpResponse:
    """Ask for the new address and send it a confirmation link."""
    citizen = _citizen(request)
    form = forms.CitizenEmailForm(request.POST or None)
    page_errors = PageErrors()
    if request.method == "POST":
        if form.is_valid():
            try:
                citizens.citizen_email_change_request(
                    citizen=citizen, new_email=form.cleaned_data["email"], language=translation.get_language() or "en"
                )
            except errors.ValidationError as error:
                page_errors.add("email", error.message)
            else:
                minutes = int(conf.citizen_link_lifetime().total_seconds() // 60)
                return _page(
                    request, "accounts/citizen_email_change_sent.html", title=_("Check your email"), minutes=minutes
                )
        else:
            page_errors.add_form(form)
    return _page(
        request,
        "accounts/citizen_email_change.html",
        title=_("Change your email address"),
        page_errors=page_errors,
        form=form,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def citizen_email_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET: a page with a confirm button; POST: the address changes."""
    try:
        if request.method == "POST":
            citizens.citizen_email_change_confirm(token=token)
            return _page(request, "accounts/citizen_email_changed.html", title=_("Your email address has been changed"))
        citizens.citizen_link_get(token=token, purpose=CitizenLinkPurpose.EMAIL_CHANGE)
    except LINK_ERRORS as error:
        return _page(
            request,
            "accounts/link_problem.html",
            title=error.message,
            status=error.status,
            problem=error.code,
            staff=False,
        )
    except errors.EmailAddressInUseError as error:
        return _page(request, "accounts/citizen_email_in_use.html", title=error.message, status=409)
    return _page(request, "accounts/citizen_email_confirm.html", title=_("Confirm your new email address"))


@never_cache
@require_http_methods(["GET", "POST"])
@citizen_required
def citizen_password(request: HttpRequest) -> HttpResponse:
    """Set or change the optional password: the current one, a fresh emailed link, or a recent sign-in first."""
    citizen = _citizen(request)
    proof = citizens.citizen_password_change_proof(request=request, citizen=citizen)
    if proof == citizens.PasswordChangeProof.LINK:
        return _password_confirm_page(request)
    form = forms.CitizenPasswordChangeForm(request.POST or None)
    page_errors = PageErrors()
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                citizens.citizen_password_change(
                    request=request,
                    citizen=citizen,
                    password=form.cleaned_data["password"],
                    current_password=form.cleaned_data["current_password"],
                )
            except errors.ReauthenticationRequiredError:
                return _password_confirm_page(request)
            except errors.CurrentPasswordIncorrectError as error:
                page_errors.add("current_password", error.message)
                status = error.status
            except errors.WeakPasswordError as error:
                page_errors.add("password", error.message)
            else:
                return HttpResponseRedirect(reverse("accounts:citizen_account"))
        else:
            page_errors.add_form(form)
    return _page(
        request,
        "accounts/citizen_password.html",
        title=_("Change your password") if citizen.has_password else _("Create a password"),
        status=status,
        page_errors=page_errors,
        form=form,
        has_password=citizen.has_password,
        ask_current_password=proof == citizens.PasswordChangeProof.CURRENT_PASSWORD,
    )


def _password_confirm_page(request: HttpRequest) -> HttpResponse:
    return _page(request, "accounts/citizen_password_confirm.html", title=_("Confirm it is you"))


@never_cache
@require_http_methods(["POST"])
@citizen_required
def citizen_password_link(request: HttpRequest) -> HttpResponse:
    """Email a one-time link that confirms it is the citizen and returns to the password page."""
    citizens.citizen_confirmation_link_request(
        citizen=_citizen(request), client_ip=_client_ip(request), language=translation.get_language() or "en"
    )
    minutes = int(conf.citizen_link_lifetime().total_seconds() // 60)
    return _page(request, "accounts/citizen_password_link_sent.html", title=_("Check your email"), minutes=minutes)

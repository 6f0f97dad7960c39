"""View guards for staff pages: signed in and verified; recently re-authenticated for sensitive actions."""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from govserve.accounts import conf, policies, signin

View = Callable[..., HttpResponse]


def _to(name: str, request: HttpRequest) -> HttpResponseRedirect:
    return HttpResponseRedirect(f"{reverse(name)}?{urlencode({'next': request.get_full_path()})}")


def staff_session_valid(request: HttpRequest) -> bool:
    """Return whether the request carries a usable, OTP-verified (when required) staff session."""
    user = request.user
    if request.session.get(signin.KIND) != signin.KIND_STAFF or not policies.account_usable(user):
        return False
    return not conf.staff_mfa_required() or signin.otp_verified(user)


def staff_required(view: View) -> View:
    """Let only signed-in staff with a valid (MFA-verified) session through; send others to sign in."""

    @functools.wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not staff_session_valid(request):
            return _to("accounts:staff_sign_in", request)
        return view(request, *args, **kwargs)

    return guarded


def require_recent_authentication(max_age: int | datetime.timedelta = 300) -> Callable[[View], View]:
    """Guard a sensitive staff view: password and code must have been given within ``max_age``.

    Otherwise the person is sent to the re-authentication page (password and
    TOTP code), which returns them here. Implies :func:`staff_required`.
    """
    seconds = max_age.total_seconds() if isinstance(max_age, datetime.timedelta) else float(max_age)

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not staff_session_valid(request):
                return _to("accounts:staff_sign_in", request)
            if signin.seconds_since_reauthentication(request) > seconds:
                return _to("accounts:staff_reauthenticate", request)
            return view(request, *args, **kwargs)

        return guarded

    return decorate

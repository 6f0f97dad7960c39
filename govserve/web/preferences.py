"""The language switch and the session's idle timeout: extending it, and the page after it ends.

- ``GET /language/<code>?next=<path>`` remembers English or Welsh in the
  language cookie and returns to ``next`` (a path on this site only).
- ``POST /session/extend`` (CSRF-protected) keeps the session for another idle
  period: the session-timeout warning's "Stay signed in" / "Continue". It
  answers JSON to the warning's script and redirects back without JavaScript.
- ``GET /session/ended?next=<path>[&signed_in=1]`` is where the warning's script goes when
  the time runs out; it returns to ``next`` if the session is in fact still
  alive (another tab kept it going).
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from govserve.accounts import selectors as account_selectors
from govserve.accounts.decorators import staff_session_valid
from govserve.accounts.middleware import seconds_left, session_renew
from govserve.web import conf
from govserve.web.layout import STAFF_PREFIX, local_path

HOME = "/"


def redirect_target(candidate: str | None) -> str:
    """Return ``candidate`` when it is a path on this site, else the home page."""
    path = local_path(candidate)
    if path is None or not url_has_allowed_host_and_scheme(path, allowed_hosts=set()):
        return HOME
    return path


def _samesite(value: str | None) -> Literal["Lax", "Strict", "None"]:
    # The settings type is a plain string; a language cookie is never sent cross-site without "None".
    if value in {"Strict", "None"}:
        return "Strict" if value == "Strict" else "None"
    return "Lax"


def _signed_in(request: HttpRequest) -> bool:
    return account_selectors.current_citizen(request) is not None or staff_session_valid(request)


@never_cache
@require_GET
def language_switch(request: HttpRequest, code: str) -> HttpResponse:
    """Remember the language ``code`` (404 unless it is one of ``LANGUAGES``) and go back to ``next``."""
    if code not in dict(settings.LANGUAGES):
        raise Http404
    response = HttpResponseRedirect(redirect_target(request.GET.get("next")))
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        code,
        max_age=conf.language_cookie_age(),
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=_samesite(settings.LANGUAGE_COOKIE_SAMESITE),
    )
    return response


@never_cache
@require_POST
def session_extend(request: HttpRequest) -> HttpResponse:
    """Keep this session for another idle period; say whether there was one to keep.

    Other requests move the idle deadline at most once a minute (the accounts
    middleware stores the last-seen time only when it is older than that); this
    view moves it to a full idle period from now, stores the session (renewing
    the cookie and the stored expiry), and answers the warning's script with the
    seconds left: ``{"extended": bool, "signed_in": bool, "expires_in_seconds": int}``.
    An empty session (it ended, or never began) is not recreated.
    """
    extended = not request.session.is_empty()
    if extended:
        session_renew(request.session)
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse(
            {
                "extended": extended,
                "signed_in": _signed_in(request),
                "expires_in_seconds": seconds_left(request.session) if extended else 0,
            }
        )
    return HttpResponseRedirect(redirect_target(request.POST.get("next")))


@never_cache
@require_GET
def session_ended(request: HttpRequest) -> HttpResponse:
    """Tell the person their session ended; go back to ``next`` if it is still alive."""
    next_path = redirect_target(request.GET.get("next"))
    if _signed_in(request):
        return HttpResponseRedirect(next_path)
    staff = next_path.startswith(STAFF_PREFIX)
    # Only the wording depends on it: a signed-out person is told to sign in again, someone
    # filling in a draft without an account is pointed to the link emailed to them.
    was_signed_in = request.GET.get("signed_in") == "1"
    sign_in = reverse("accounts:staff_sign_in" if staff else "accounts:citizen_sign_in")
    context = {
        "page_title": _("For your security, we signed you out") if was_signed_in else _("Your session has ended"),
        "was_signed_in": was_signed_in,
        "sign_in_url": f"{sign_in}?{urlencode({'next': next_path})}",
        "staff": staff,
        "idle_minutes": max(1, conf.idle_timeout_seconds() // 60),
    }
    return render(request, "web/session_ended.html", context)

"""Session timeouts for every signed-in session, staff or citizen.

Django's ``SESSION_COOKIE_AGE`` (refreshed by each request) already expires an
idle session cookie; this middleware enforces the same idle limit and the
absolute limit (``SESSION_ABSOLUTE_TIMEOUT``) on the server side against
``govserve.core.clock``, and ends staff sessions whose account stopped being
usable (deactivated, supplier access expired, authenticator reset). It sits
after ``django_otp.middleware.OTPMiddleware``.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse

from govserve.accounts import conf, policies, signin
from govserve.core import clock


class SessionTimeoutMiddleware:
    """End sessions idle too long, open too long, or whose staff account is no longer usable."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        if session is not None and session.get(signin.KIND):
            reason = self._reason_to_end(request)
            if reason is not None:
                signin.session_end(request, reason=reason)
                request.user = AnonymousUser()
            else:
                session[signin.SEEN_AT] = clock.now().timestamp()
        return self.get_response(request)

    @staticmethod
    def _reason_to_end(request: HttpRequest) -> str | None:
        session = request.session
        now = clock.now().timestamp()
        if now - float(session.get(signin.AUTH_AT, 0)) > conf.absolute_timeout().total_seconds():
            return "absolute"
        if now - float(session.get(signin.SEEN_AT, 0)) > conf.idle_timeout().total_seconds():
            return "idle"
        if session.get(signin.KIND) == signin.KIND_STAFF:
            user = request.user
            if not policies.account_usable(user):
                return "access_ended"
            if conf.staff_mfa_required() and not signin.otp_verified(user):
                return "access_ended"
        return None

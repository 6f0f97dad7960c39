"""Session timeouts for every session: idle and absolute limits, and staff access ending.

Every non-empty session (signed in, or an anonymous one holding a draft's
access) records when it was last seen (``gs.seen_at``) and ends once it has
been idle for ``SESSION_COOKIE_AGE``; a signed-in session also ends
``SESSION_ABSOLUTE_TIMEOUT`` after sign-in, and a staff session as soon as the
account stops being usable (deactivated, supplier access expired, authenticator
reset). The checks use ``govserve.core.clock``. It sits after
``django_otp.middleware.OTPMiddleware``.

The last-seen time is stored only when it is older than
:func:`renewal_interval` (a minute for the default 30-minute timeout, a tenth of
shorter ones), so most requests write nothing to the session
(``SESSION_SAVE_EVERY_REQUEST`` is off: a session is saved when something in
it changes). A session therefore ends between ``SESSION_COOKIE_AGE`` minus that
interval and ``SESSION_COOKIE_AGE`` after the last request; the session-timeout
warning is told the exact time left (:func:`seconds_left`), and saving a
session for any other reason does not move the deadline, so the server and the
warning always agree on it. docs/security.md, "Sessions".
"""

from __future__ import annotations

import math
from collections.abc import Callable

from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest, HttpResponse

from govserve.accounts import conf, policies, signin
from govserve.core import clock

# The longest a last-seen time may lag behind the last request: a minute, or a tenth of a short timeout.
MAX_RENEWAL_INTERVAL_SECONDS = 60


def renewal_interval() -> float:
    """Return how old the stored last-seen time may get before a request stores it again (seconds)."""
    return min(MAX_RENEWAL_INTERVAL_SECONDS, conf.idle_timeout().total_seconds() / 10)


def seconds_left(session: SessionBase, *, now: float | None = None) -> int:
    """Return the seconds before ``session`` ends for being idle (the full timeout if it has no last-seen time).

    Rounded up: the warning's script must never count to a moment before the
    server's deadline, or its page would come back to a session still alive.
    """
    idle = conf.idle_timeout().total_seconds()
    seen = session.get(signin.SEEN_AT)
    if seen is None:
        return math.ceil(idle)
    current = clock.now().timestamp() if now is None else now
    return max(0, math.ceil(float(seen) + idle - current))


def session_renew(session: SessionBase) -> None:
    """Move ``session``'s idle deadline to a full timeout from now (the warning's "Stay signed in")."""
    session[signin.SEEN_AT] = clock.now().timestamp()


class SessionTimeoutMiddleware:
    """End sessions idle too long, open too long, or whose staff account is no longer usable."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        if session is None:
            return self.get_response(request)
        now = clock.now().timestamp()
        if session.get(signin.KIND):
            reason = self._reason_to_end(request, now)
            if reason is not None:
                signin.session_end(request, reason=reason)
                request.user = AnonymousUser()
                return self.get_response(request)
        elif self._idle(session, now):
            # An anonymous session (a draft's access, a pending staff sign-in) ends at the same deadline.
            session.flush()
            return self.get_response(request)
        if not session.is_empty():
            seen = session.get(signin.SEEN_AT)
            if seen is None or not 0 <= now - float(seen) < renewal_interval():
                session[signin.SEEN_AT] = now
        response = self.get_response(request)
        if session.modified and signin.SEEN_AT not in session and not session.is_empty():
            # A session this request began (a draft's first page): it is saved anyway, with its first last-seen time.
            session[signin.SEEN_AT] = now
        return response

    @staticmethod
    def _idle(session: SessionBase, now: float) -> bool:
        seen = session.get(signin.SEEN_AT)
        return seen is not None and now - float(seen) > conf.idle_timeout().total_seconds()

    @classmethod
    def _reason_to_end(cls, request: HttpRequest, now: float) -> str | None:
        session = request.session
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

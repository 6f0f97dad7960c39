"""Template context shared by every page."""

from __future__ import annotations

from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.utils.functional import lazy
from django.utils.html import format_html
from django.utils.safestring import SafeString


def _held_once(request: HttpRequest) -> tuple[str | None, str, SafeString]:
    # Keyed on the secret: a token rotated during the request (sign-in) gets a token of the new secret.
    secret = request.META.get("CSRF_COOKIE")
    held: tuple[str | None, str, SafeString] | None = getattr(request, "_govserve_csrf_token", None)
    if held is None or secret is None or held[0] != secret:
        token = get_token(request)
        # Django's csrf_input markup, with the request's one token: built once, as every form of a page uses it.
        markup = format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', token)
        held = (request.META.get("CSRF_COOKIE"), token, markup)
        request._govserve_csrf_token = held  # type: ignore[attr-defined]
    return held


def _token_once(request: HttpRequest) -> str:
    return _held_once(request)[1]


def _input_once(request: HttpRequest) -> SafeString:
    return _held_once(request)[2]


def csrf_once(request: HttpRequest) -> dict[str, object]:
    """Return ``csrf_input`` and ``csrf_token`` that mask the CSRF secret once per request.

    Django's Jinja2 backend masks the secret again for every use (a page with
    its form, the header's sign-out form and the session-timeout dialog's two
    forms made four tokens: about 60 µs of CPU each); Django's own template
    language masks it once per render. Every form of a response carries the
    same token; each response gets a fresh mask, as before.
    """
    return {"csrf_input": _input_lazy(request), "csrf_token": _token_lazy(request)}


# Made once: lazy() builds a proxy class each time it is called.
_input_lazy = lazy(_input_once, SafeString, str)
_token_lazy = lazy(_token_once, str)

"""Security headers Django does not set, and ``/.well-known/security.txt`` (RFC 9116).

Django's own middleware sets most headers from settings (config/settings/base.py):
``Content-Security-Policy`` (nonce-based, ``frame-ancestors 'none'``; Django 6's
ContentSecurityPolicyMiddleware), ``Strict-Transport-Security`` (HTTPS only,
``SECURE_HSTS_SECONDS`` from the environment), ``X-Content-Type-Options``,
``Referrer-Policy``, ``Cross-Origin-Opener-Policy`` (SecurityMiddleware) and
``X-Frame-Options`` (XFrameOptionsMiddleware). :class:`SecurityHeadersMiddleware`
adds the rest:

- ``Permissions-Policy`` from ``settings.PERMISSIONS_POLICY`` (powerful browser
  features off: camera, microphone, geolocation ...);
- ``Cross-Origin-Resource-Policy: same-origin`` (no other site may embed our
  responses: pages, JSON, documents);
- ``Cache-Control: private, no-store`` on every response that depends on the
  session (Django marks those ``Vary: Cookie``) and says nothing about caching
  itself, so pages with personal data never land in a shared or disk cache.

Each header is only set when the view did not set it already.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.utils.cache import has_vary_header
from django.views.decorators.http import require_GET

from govserve.core import clock

DEFAULT_SECURITY_TXT_EXPIRES_DAYS = 180


class SecurityHeadersMiddleware:
    """Add Permissions-Policy, Cross-Origin-Resource-Policy and no-store for session-dependent responses."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = getattr(settings, "PERMISSIONS_POLICY", "")
        if policy:
            response.headers.setdefault("Permissions-Policy", policy)
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        if "Cache-Control" not in response and has_vary_header(response, "Cookie"):
            response["Cache-Control"] = "private, no-store"
        return response


def security_txt_lines(*, now: dt.datetime | None = None) -> list[str] | None:
    """Return the fields of security.txt, or None when no contact is configured (Contact is required).

    Settings: ``SECURITY_TXT_CONTACT`` (list of ``mailto:``/``https:`` URIs),
    ``SECURITY_TXT_POLICY``, ``SECURITY_TXT_ENCRYPTION``,
    ``SECURITY_TXT_ACKNOWLEDGMENTS`` (URLs, optional) and
    ``SECURITY_TXT_EXPIRES_DAYS`` (180). ``Expires`` is that many days after
    the start of today (UTC), so the file never goes stale however long the
    deployment runs, and stays the same all day for caches.
    """
    contacts = list(getattr(settings, "SECURITY_TXT_CONTACT", []) or [])
    if not contacts:
        return None
    days = int(getattr(settings, "SECURITY_TXT_EXPIRES_DAYS", DEFAULT_SECURITY_TXT_EXPIRES_DAYS))
    today = (now or clock.now()).astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    expires = today + dt.timedelta(days=days)
    lines = [f"Contact: {contact}" for contact in contacts]
    lines.append(f"Expires: {expires.strftime('%Y-%m-%dT%H:%M:%SZ')}")
    for setting, field in (
        ("SECURITY_TXT_ENCRYPTION", "Encryption"),
        ("SECURITY_TXT_ACKNOWLEDGMENTS", "Acknowledgments"),
        ("SECURITY_TXT_POLICY", "Policy"),
    ):
        value = getattr(settings, setting, "")
        if value:
            lines.append(f"{field}: {value}")
    languages = ", ".join(code for code, _label in settings.LANGUAGES)
    lines.append(f"Preferred-Languages: {languages}")
    lines.append(f"Canonical: {settings.PUBLIC_BASE_URL}/.well-known/security.txt")
    return lines


@require_GET
def security_txt(request: HttpRequest) -> HttpResponse:
    """Serve ``/.well-known/security.txt`` as ``text/plain``; 404 when no contact is configured."""
    lines = security_txt_lines()
    if lines is None:
        msg = "security.txt has no contact configured"
        raise Http404(msg)
    response = HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "public, max-age=86400"
    return response


@require_GET
def security_txt_legacy(request: HttpRequest) -> HttpResponse:
    """Redirect the legacy ``/security.txt`` to the well-known location (RFC 9116 section 3)."""
    return HttpResponsePermanentRedirect("/.well-known/security.txt")

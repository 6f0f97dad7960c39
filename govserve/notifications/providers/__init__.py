"""Email providers, chosen by ``settings.EMAIL_URL`` at send time.

| URL | provider |
|---|---|
| ``log://`` | :class:`~govserve.notifications.providers.log.LogProvider` (demo: nothing is sent) |
| ``smtp://[user:password@]host[:port]`` | SMTP, no TLS, port 25 by default (loopback relays) |
| ``smtp+tls://…``, ``submission://…``, ``submit://…`` | SMTP with STARTTLS, port 587 by default |
| ``smtps://…``, ``smtp+ssl://…`` | SMTP over implicit TLS, port 465 by default (RFC 8314) |

Query parameters, as in dj-email-url: ``timeout=<seconds>`` (default 10;
Django 6.1 deprecates ``EMAIL_TIMEOUT``, so it is not read), ``tls=1``
(STARTTLS) and ``ssl=1`` (implicit TLS).
User names and passwords are percent-decoded. Anything else is refused with
ImproperlyConfigured, so a typo cannot silently turn email off.
"""

from __future__ import annotations

import urllib.parse

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from govserve.notifications.providers.base import EmailProvider
from govserve.notifications.providers.log import LogProvider
from govserve.notifications.providers.smtp import SmtpProvider, SmtpSecurity

_SMTP_SCHEMES: dict[str, tuple[SmtpSecurity, int]] = {
    "smtp": (SmtpSecurity.NONE, 25),
    "smtp+tls": (SmtpSecurity.STARTTLS, 587),
    "submission": (SmtpSecurity.STARTTLS, 587),
    "submit": (SmtpSecurity.STARTTLS, 587),
    "smtps": (SmtpSecurity.TLS, 465),
    "smtp+ssl": (SmtpSecurity.TLS, 465),
}
_TRUTHY = {"1", "y", "yes", "t", "true", "on"}
DEFAULT_TIMEOUT_SECONDS = 10.0


def email_provider_from_url(url: str, *, default_timeout: float = DEFAULT_TIMEOUT_SECONDS) -> EmailProvider:
    """Return the provider ``url`` describes; raise ImproperlyConfigured for anything unknown or malformed."""
    parsed = urllib.parse.urlsplit(url)
    scheme = parsed.scheme.lower()
    if scheme == "log":
        return LogProvider()
    if scheme not in _SMTP_SCHEMES:
        known = ", ".join(["log", *_SMTP_SCHEMES])
        msg = f"EMAIL_URL scheme {scheme!r} is not supported; use one of {known}"
        raise ImproperlyConfigured(msg)
    security, default_port = _SMTP_SCHEMES[scheme]
    query = urllib.parse.parse_qs(parsed.query)
    if query.get("ssl", [""])[0].lower() in _TRUTHY:
        security = SmtpSecurity.TLS
    elif query.get("tls", [""])[0].lower() in _TRUTHY:
        security = SmtpSecurity.STARTTLS
    try:
        port = parsed.port or default_port
        timeout = float(query["timeout"][0]) if "timeout" in query else default_timeout
    except ValueError as error:
        msg = f"EMAIL_URL has a malformed port or timeout: {error}"
        raise ImproperlyConfigured(msg) from error
    if timeout <= 0:
        msg = "EMAIL_URL timeout must be a positive number of seconds"
        raise ImproperlyConfigured(msg)
    return SmtpProvider(
        host=parsed.hostname or "localhost",
        port=port,
        username=urllib.parse.unquote(parsed.username or ""),
        password=urllib.parse.unquote(parsed.password or ""),
        security=security,
        timeout=timeout,
    )


def email_provider() -> EmailProvider:
    """Return the provider configured by ``settings.EMAIL_URL`` (read now, not at import)."""
    return email_provider_from_url(settings.EMAIL_URL)

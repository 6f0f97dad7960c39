"""Email providers, chosen by ``settings.EMAIL_URL`` at send time.

| URL | provider |
|---|---|
| ``log://`` | :class:`~govserve.notifications.providers.log.LogProvider` (demo: nothing is sent) |
| ``smtp://[user:password@]host[:port]`` | SMTP, no TLS, port 25 by default (loopback relays) |
| ``smtp+tls://…``, ``submission://…``, ``submit://…`` | SMTP with STARTTLS, port 587 by default |
| ``smtps://…``, ``smtp+ssl://…`` | SMTP over implicit TLS, port 465 by default (RFC 8314) |
| ``notify://`` | GOV.UK Notify (``NOTIFY_API_KEY``, ``NOTIFY_BASE_URL``, ``NOTIFY_EMAIL_TEMPLATE_ID``) |

Text messages are chosen by ``settings.SMS_URL``: ``log://`` (default) or
``notify://`` (``NOTIFY_SMS_TEMPLATE_ID``).

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

from govserve.notifications.providers.base import EmailProvider, SmsProvider
from govserve.notifications.providers.log import LogProvider, LogSmsProvider
from govserve.notifications.providers.notify import (
    DEFAULT_BASE_URL,
    NotifyConfig,
    NotifyEmailProvider,
    NotifySmsProvider,
)
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
    if scheme == "notify":
        return NotifyEmailProvider(config=notify_config(url, default_timeout=default_timeout))
    if scheme not in _SMTP_SCHEMES:
        known = ", ".join(["log", "notify", *_SMTP_SCHEMES])
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


_UUID_LENGTH = 36


def notify_config(url: str, *, default_timeout: float = DEFAULT_TIMEOUT_SECONDS) -> NotifyConfig:
    """Return the Notify configuration from settings (``timeout`` from ``url``'s query); check its shape.

    Raise ImproperlyConfigured when ``NOTIFY_API_KEY`` is not Notify's
    ``name-<service id>-<secret>`` form (two UUIDs at its end).
    """
    api_key = str(getattr(settings, "NOTIFY_API_KEY", ""))
    if len(api_key) < 2 * _UUID_LENGTH + 1 or api_key[-_UUID_LENGTH - 1] != "-":
        msg = "NOTIFY_API_KEY must be a GOV.UK Notify API key: name-<service id>-<secret key>"
        raise ImproperlyConfigured(msg)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    try:
        timeout = float(query["timeout"][0]) if "timeout" in query else default_timeout
    except ValueError as error:
        msg = f"The notify:// URL has a malformed timeout: {error}"
        raise ImproperlyConfigured(msg) from error
    return NotifyConfig(
        api_key=api_key,
        base_url=str(getattr(settings, "NOTIFY_BASE_URL", "") or DEFAULT_BASE_URL),
        email_template_id=str(getattr(settings, "NOTIFY_EMAIL_TEMPLATE_ID", "")),
        sms_template_id=str(getattr(settings, "NOTIFY_SMS_TEMPLATE_ID", "")),
        timeout=timeout,
    )


def sms_provider_from_url(url: str) -> SmsProvider:
    """Return the text-message provider ``url`` describes (``log://`` or ``notify://``)."""
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    if scheme == "log":
        return LogSmsProvider()
    if scheme == "notify":
        return NotifySmsProvider(config=notify_config(url))
    msg = f"SMS_URL scheme {scheme!r} is not supported; use log or notify"
    raise ImproperlyConfigured(msg)


def sms_provider() -> SmsProvider:
    """Return the provider configured by ``settings.SMS_URL`` (default ``log://``; read now, not at import)."""
    return sms_provider_from_url(str(getattr(settings, "SMS_URL", "log://")))

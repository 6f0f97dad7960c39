"""System checks for a safe deployment: ``govserve check --deploy`` fails on any Error here.

Always (``govserve check``):

- govserve.web.E010: ``EMAIL_URL`` or ``SMS_URL`` cannot be parsed (``notify://`` needs a valid ``NOTIFY_API_KEY``).
- govserve.web.E011: a security middleware is missing from ``MIDDLEWARE``.
- govserve.web.E012: ``DEFAULT_FROM_EMAIL`` is not one address on one line.

With ``--deploy`` (production):

- govserve.web.E001: ``SECRET_KEY`` missing, the development key, or weak.
- govserve.web.E002: ``DEBUG`` is on.
- govserve.web.E003: ``ALLOWED_HOSTS`` is empty or contains ``*``.
- govserve.web.E004: ``PUBLIC_BASE_URL`` is not ``https://``.
- govserve.web.E005: a cookie (session, CSRF, language) is sent without ``Secure`` over HTTPS.
- govserve.web.E006: the session or CSRF cookie is readable by scripts (not HttpOnly).
- govserve.web.E007: ``GOVSERVE_DEMO`` is on (the demo mail page shows everyone's email).
- govserve.web.E008: ``EMAIL_URL`` is ``log://``: no email would leave the machine.
- govserve.web.E009: the Content-Security-Policy is missing, allows inline or eval'd script,
  or lets other sites frame the pages.
- govserve.web.W001: HSTS is shorter than a year (fine only while a proxy sets it).
- govserve.web.W002: no security.txt contact (``SECURITY_TXT_CONTACT``).
- govserve.web.W003: ``CSRF_TRUSTED_ORIGINS`` lists a plain-http origin.

Django's own deploy checks (security.W0xx) still run; these turn the ones
that matter into errors and add govserve's own. Encryption keys are checked
by govserve.privacy (privacy.E00x).
"""

from __future__ import annotations

import email.utils
import urllib.parse
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

DEVELOPMENT_SECRET_KEY = "govserve-development-only-secret-key-not-for-production-use"  # noqa: S105 - public, refused
_WEAK_SECRET_MARKERS = ("development", "insecure", "changeme", "change-me", "secret-key", "example")
_MIN_SECRET_LENGTH = 50
_MIN_SECRET_UNIQUE = 5
ONE_YEAR = 31_536_000
REQUIRED_MIDDLEWARE = (
    "django.middleware.security.SecurityMiddleware",
    "govserve.web.security.SecurityHeadersMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "govserve.web.ratelimit.RateLimitMiddleware",
)


@register(Tags.security)
def check_security_configuration(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Refuse an unparsable EMAIL_URL or sender and missing security middleware (every environment)."""
    from govserve.notifications.providers import email_provider_from_url, sms_provider_from_url  # noqa: PLC0415

    messages: list[CheckMessage] = []
    try:
        email_provider_from_url(settings.EMAIL_URL)
        sms_provider_from_url(str(getattr(settings, "SMS_URL", "log://")))
    except ImproperlyConfigured as error:
        messages.append(
            Error(str(error), hint="See docs/notifications.md for EMAIL_URL and SMS_URL.", id="govserve.web.E010")
        )
    sender = str(settings.DEFAULT_FROM_EMAIL)
    if any(character in sender for character in "\r\n\x00") or "@" not in email.utils.parseaddr(sender)[1]:
        messages.append(
            Error(
                "DEFAULT_FROM_EMAIL is not one address on one line: no email could be sent.",
                hint='Set DEFAULT_FROM_EMAIL like "Westmoor City Council <noreply@westmoor.gov.example>".',
                id="govserve.web.E012",
            )
        )
    missing = [name for name in REQUIRED_MIDDLEWARE if name not in settings.MIDDLEWARE]
    if missing:
        messages.append(
            Error(
                f"Security middleware missing from MIDDLEWARE: {', '.join(missing)}",
                hint="Restore them from config/settings/base.py.",
                id="govserve.web.E011",
            )
        )
    return messages


@register(Tags.security, deploy=True)
def check_deployment(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Refuse development settings in a deployment (see the module docstring for each id)."""
    messages: list[CheckMessage] = []
    messages.extend(_secret_key())
    if settings.DEBUG:
        messages.append(Error("DEBUG is on: error pages would show code and settings.", id="govserve.web.E002"))
    hosts = list(settings.ALLOWED_HOSTS)
    if not hosts or "*" in hosts:
        messages.append(
            Error(
                "ALLOWED_HOSTS is empty or contains '*'.",
                hint="Set ALLOWED_HOSTS to the host names the service answers on.",
                id="govserve.web.E003",
            )
        )
    https = urllib.parse.urlsplit(settings.PUBLIC_BASE_URL).scheme == "https"
    if not https:
        messages.append(
            Error(
                f"PUBLIC_BASE_URL is {settings.PUBLIC_BASE_URL!r}: links in emails and cookies need https://.",
                id="govserve.web.E004",
            )
        )
    else:
        messages.extend(_cookies())
        if settings.SECURE_HSTS_SECONDS < ONE_YEAR:
            messages.append(
                Warning(
                    f"SECURE_HSTS_SECONDS is {settings.SECURE_HSTS_SECONDS}: browsers may be downgraded to http.",
                    hint=f"Set SECURE_HSTS_SECONDS={ONE_YEAR} unless the TLS proxy sets Strict-Transport-Security.",
                    id="govserve.web.W001",
                )
            )
        plain = [origin for origin in settings.CSRF_TRUSTED_ORIGINS if origin.startswith("http://")]
        if plain:
            messages.append(
                Warning(f"CSRF_TRUSTED_ORIGINS lists plain-http origins: {', '.join(plain)}", id="govserve.web.W003")
            )
    for name in ("SESSION_COOKIE_HTTPONLY", "CSRF_COOKIE_HTTPONLY"):
        if not getattr(settings, name):
            messages.append(Error(f"{name} is off: scripts could read the cookie.", id="govserve.web.E006"))
    if getattr(settings, "GOVSERVE_DEMO", False):
        messages.append(
            Error("GOVSERVE_DEMO is on: the demo mail page would show every email.", id="govserve.web.E007")
        )
    if urllib.parse.urlsplit(settings.EMAIL_URL).scheme.lower() == "log":
        messages.append(
            Error(
                "EMAIL_URL is log://: sign-in links and confirmations would never leave the machine.",
                hint="Set EMAIL_URL to the SMTP relay, for example submission://user:password@smtp.example.gov.",
                id="govserve.web.E008",
            )
        )
    messages.extend(_content_security_policy())
    if not getattr(settings, "SECURITY_TXT_CONTACT", None):
        messages.append(
            Warning(
                "SECURITY_TXT_CONTACT is empty: /.well-known/security.txt answers 404.",
                hint="Set SECURITY_TXT_CONTACT to mailto: or https: addresses for vulnerability reports.",
                id="govserve.web.W002",
            )
        )
    return messages


def _secret_key() -> list[CheckMessage]:
    hint = (
        "Set SECRET_KEY to at least 50 random characters: python -c 'import secrets; print(secrets.token_urlsafe(64))'"
    )
    try:
        key = str(settings.SECRET_KEY)
    except ImproperlyConfigured:
        key = ""
    if not key:
        return [Error("SECRET_KEY is not set.", hint=hint, id="govserve.web.E001")]
    if key == DEVELOPMENT_SECRET_KEY or any(marker in key.lower() for marker in _WEAK_SECRET_MARKERS):
        return [Error("SECRET_KEY is the public development key or a placeholder.", hint=hint, id="govserve.web.E001")]
    if len(key) < _MIN_SECRET_LENGTH or len(set(key)) < _MIN_SECRET_UNIQUE:
        return [Error("SECRET_KEY is too short or too simple.", hint=hint, id="govserve.web.E001")]
    return []


def _cookies() -> list[CheckMessage]:
    insecure = [
        name
        for name in ("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "LANGUAGE_COOKIE_SECURE")
        if not getattr(settings, name, False)
    ]
    if not insecure:
        return []
    return [
        Error(
            f"{', '.join(insecure)} off while PUBLIC_BASE_URL is https: cookies could leak over http.",
            hint="Leave SECURE_COOKIES unset (it follows PUBLIC_BASE_URL) or set it to true.",
            id="govserve.web.E005",
        )
    ]


def _content_security_policy() -> list[CheckMessage]:
    policy: dict[str, Any] = getattr(settings, "SECURE_CSP", None) or {}
    problems: list[str] = []
    script_sources = policy.get("script-src", policy.get("default-src")) or []
    if not policy:
        problems.append("SECURE_CSP is empty: no Content-Security-Policy header is sent")
    else:
        if CSP.UNSAFE_INLINE in script_sources or CSP.UNSAFE_EVAL in script_sources:
            problems.append("script-src allows 'unsafe-inline' or 'unsafe-eval'")
        if CSP.NONCE not in script_sources:
            problems.append("script-src has no nonce")
        if policy.get("frame-ancestors") != [CSP.NONE]:
            problems.append("frame-ancestors is not 'none'")
    return [
        Error(f"Content-Security-Policy: {problem}.", hint="Restore SECURE_CSP from base.py.", id="govserve.web.E009")
        for problem in problems
    ]

"""Accounts settings, read when used (never at import time), with their defaults.

| setting | default | meaning |
|---|---|---|
| ``GOVSERVE_STAFF_MFA_REQUIRED`` | ``True`` | staff must pass a TOTP code after their password |
| ``SESSION_COOKIE_AGE`` | 1800 | idle timeout in seconds (refreshed by each request) |
| ``SESSION_ABSOLUTE_TIMEOUT`` | 43200 | seconds after sign-in when any session ends |
| ``GOVSERVE_CITIZEN_LINK_MINUTES`` | 30 | lifetime of an emailed sign-in or confirmation link |
| ``GOVSERVE_STAFF_PASSWORD_LINK_HOURS`` | 72 | lifetime of a staff set-password or authenticator set-up link |
| ``GOVSERVE_STAFF_ENROLMENT_MINUTES`` | 15 | minutes a session may set up an authenticator app after using one |
| ``GOVSERVE_CITIZEN_UNUSED_DAYS`` | 7 | days after which a citizen account never signed in to is removed |
| ``GOVSERVE_RATE_LIMITS`` | see :data:`DEFAULT_RATE_LIMITS` | ``{scope: (hits, window seconds)}`` overrides |
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# scope -> (maximum attempts, window in seconds); every attempt counts (govserve.web.ratelimit).
DEFAULT_RATE_LIMITS: dict[str, tuple[int, int]] = {
    # One-time sign-in links: per address (blind index) and per client address bucket.
    "citizen-link-email": (5, 60 * 60),
    "citizen-link-ip": (30, 60 * 60),
    # Citizen password sign-in attempts: per address and per client address bucket.
    "citizen-password-email": (10, 15 * 60),
    "citizen-password-ip": (50, 60 * 60),
    # Email-change confirmation links: per citizen.
    "citizen-email-change": (5, 60 * 60),
    # Attempts to set or change the password (a wrong current password included): per citizen.
    "citizen-password-change": (10, 60 * 60),
}

# How long the password step of a staff sign-in waits for its second factor.
PENDING_SIGN_IN_SECONDS = 5 * 60

# How recent a citizen's last proof (sign-in, one-time link) must be for a sensitive
# change (the password) without asking again.
CITIZEN_RECENT_AUTHENTICATION_SECONDS = 5 * 60


def staff_mfa_required() -> bool:
    """Return whether staff sign-in requires a TOTP code (on unless explicitly switched off)."""
    return bool(getattr(settings, "GOVSERVE_STAFF_MFA_REQUIRED", True))


def idle_timeout() -> datetime.timedelta:
    """Return how long a session may stay unused."""
    return datetime.timedelta(seconds=int(settings.SESSION_COOKIE_AGE))


def absolute_timeout() -> datetime.timedelta:
    """Return how long after sign-in any session ends, used or not."""
    return datetime.timedelta(seconds=int(getattr(settings, "SESSION_ABSOLUTE_TIMEOUT", 12 * 60 * 60)))


def citizen_link_lifetime() -> datetime.timedelta:
    """Return how long an emailed citizen link stays valid."""
    return datetime.timedelta(minutes=int(getattr(settings, "GOVSERVE_CITIZEN_LINK_MINUTES", 30)))


def staff_password_link_lifetime() -> datetime.timedelta:
    """Return how long a staff set-password link stays valid."""
    return datetime.timedelta(hours=int(getattr(settings, "GOVSERVE_STAFF_PASSWORD_LINK_HOURS", 72)))


def citizen_unused_lifetime() -> datetime.timedelta:
    """Return how long a citizen account created by a link request and never used is kept (at least one day)."""
    days = int(getattr(settings, "GOVSERVE_CITIZEN_UNUSED_DAYS", 7))
    if days < 1:
        msg = f"GOVSERVE_CITIZEN_UNUSED_DAYS must be at least 1, not {days}"
        raise ImproperlyConfigured(msg)
    return datetime.timedelta(days=days)


def staff_enrolment_lifetime() -> datetime.timedelta:
    """Return how long a session that used a one-time staff link may enrol an authenticator app."""
    return datetime.timedelta(minutes=int(getattr(settings, "GOVSERVE_STAFF_ENROLMENT_MINUTES", 15)))


def rate_limit(scope: str) -> tuple[int, int]:
    """Return ``(maximum hits, window seconds)`` for ``scope``."""
    overrides: dict[str, tuple[int, int]] = getattr(settings, "GOVSERVE_RATE_LIMITS", {}) or {}
    return overrides.get(scope, DEFAULT_RATE_LIMITS[scope])


def public_base_url() -> str:
    """Return the base URL citizens and staff reach the platform at (for links in emails)."""
    return str(getattr(settings, "PUBLIC_BASE_URL", "http://127.0.0.1:8000")).rstrip("/")

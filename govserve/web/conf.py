"""Settings of the citizen layout and shared pages, read when used (never at import time).

| setting | default | meaning |
|---|---|---|
| ``GOVSERVE_SITE_NAME`` / ``_CY`` | "" | the site's name in the header and titles ("Public services" when empty) |
| ``GOVSERVE_ORGANISATION_NAME`` / ``_CY`` | "" | who runs the site: the data controller in the privacy notice |
| ``GOVSERVE_CONTACT_EMAIL`` | ``help@govserve.localhost`` | help, accessibility problems and alternative formats |
| ``GOVSERVE_CONTACT_PHONE`` | "" | a telephone number on the help page (left out when empty) |
| ``GOVSERVE_DPO_EMAIL`` | ``dpo@govserve.localhost`` | the data protection officer in the privacy notice |
| ``GOVSERVE_POSTAL_ADDRESS`` | "" | a postal address for the help page and the privacy notice |
| ``LANGUAGE_COOKIE_AGE`` | one year when unset | how long the language choice is remembered |

The Welsh (``_CY``) variants fall back to the English value.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext

# Remember the language choice this long when LANGUAGE_COOKIE_AGE is unset (Django's
# default, a browser-session cookie, would make Welsh speakers choose again each visit).
DEFAULT_LANGUAGE_COOKIE_AGE = datetime.timedelta(days=365)
# The session-timeout warning opens this long before the idle timeout (GOV.UK pattern: 2 minutes).
SESSION_WARNING_SECONDS = 120


@dataclass(frozen=True)
class Organisation:
    """Who runs the site and how to reach them, in one language."""

    name: str
    contact_email: str
    contact_phone: str
    dpo_email: str
    postal_address: str


def _setting(name: str, language: str, default: str = "") -> str:
    if language == "cy":
        welsh = str(getattr(settings, f"{name}_CY", "") or "").strip()
        if welsh:
            return welsh
    return str(getattr(settings, name, default) or "").strip()


def site_name(language: str) -> str:
    """Return the site's name in ``language`` (the header, titles, the accessibility statement)."""
    return _setting("GOVSERVE_SITE_NAME", language) or gettext("Public services")


def organisation(language: str) -> Organisation:
    """Return the organisation that runs the site, its name in ``language``."""
    return Organisation(
        name=_setting("GOVSERVE_ORGANISATION_NAME", language) or gettext("the organisation that runs this website"),
        contact_email=_setting("GOVSERVE_CONTACT_EMAIL", language, "help@govserve.localhost"),
        contact_phone=_setting("GOVSERVE_CONTACT_PHONE", language),
        dpo_email=_setting("GOVSERVE_DPO_EMAIL", language, "dpo@govserve.localhost"),
        postal_address=_setting("GOVSERVE_POSTAL_ADDRESS", language),
    )


def idle_timeout_seconds() -> int:
    """Return the idle timeout of every session in seconds (``SESSION_COOKIE_AGE``)."""
    return int(settings.SESSION_COOKIE_AGE)


def session_warning_seconds() -> int:
    """Return how long before the idle timeout the warning opens (at most half the timeout)."""
    return min(SESSION_WARNING_SECONDS, idle_timeout_seconds() // 2)


def language_cookie_age() -> datetime.timedelta:
    """Return how long the language cookie lasts (``LANGUAGE_COOKIE_AGE`` seconds, else one year)."""
    configured = getattr(settings, "LANGUAGE_COOKIE_AGE", None)
    if configured:
        return datetime.timedelta(seconds=int(configured))
    return DEFAULT_LANGUAGE_COOKIE_AGE

"""The pages every citizen page links to: accessibility statement, privacy notice, cookies, help.

Their text is in the templates (``web/pages/``), translated through the
gettext catalogue like every other page; the facts that differ between
deployments (who runs the site, how to reach them) come from settings
(:mod:`govserve.web.conf`), and the cookie list from the cookie settings
themselves, so the cookies page cannot drift from what is really set.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET

from govserve.web import conf

# The accessibility statement's dates: when it was written and last checked against the
# product (update them with the statement; the tests read them from here).
STATEMENT_PREPARED = datetime.date(2026, 11, 27)
STATEMENT_REVIEWED = datetime.date(2026, 11, 27)
# When the privacy notice last changed.
PRIVACY_NOTICE_UPDATED = datetime.date(2026, 11, 27)

_DAY = 24 * 60 * 60
_YEAR_DAYS = 364  # Django's CSRF cookie lasts 52 weeks: call that a year


@dataclass(frozen=True)
class Cookie:
    """One cookie govserve sets: its name, why, and how long it lasts."""

    name: str
    purpose: str
    expires: str


def duration_text(seconds: int) -> str:
    """Return a cookie lifetime as people say it: "30 minutes", "1 day", "1 year"."""
    if seconds >= _YEAR_DAYS * _DAY:
        years = max(1, round(seconds / (365 * _DAY)))
        return ngettext("%(num)s year", "%(num)s years", years) % {"num": years}
    if seconds >= _DAY:
        days = seconds // _DAY
        return ngettext("%(num)s day", "%(num)s days", days) % {"num": days}
    if seconds >= 60 * 60:
        hours = seconds // (60 * 60)
        return ngettext("%(num)s hour", "%(num)s hours", hours) % {"num": hours}
    minutes = max(1, seconds // 60)
    return ngettext("%(num)s minute", "%(num)s minutes", minutes) % {"num": minutes}


def essential_cookies() -> list[Cookie]:
    """Return every cookie govserve sets, in the active language; all are strictly necessary."""
    return [
        Cookie(
            name=settings.SESSION_COOKIE_NAME,
            purpose=_("Keeps you signed in and remembers where you are in an application."),
            expires=_("%(duration)s after you last use the service")
            % {"duration": duration_text(int(settings.SESSION_COOKIE_AGE))},
        ),
        Cookie(
            name=settings.CSRF_COOKIE_NAME,
            purpose=_("Makes sure that forms you send come from this website and not from another one."),
            expires=duration_text(int(settings.CSRF_COOKIE_AGE)),
        ),
        Cookie(
            name=settings.LANGUAGE_COOKIE_NAME,
            purpose=_("Remembers whether you chose English or Welsh."),
            expires=duration_text(int(conf.language_cookie_age().total_seconds())),
        ),
    ]


def long_date(value: datetime.date) -> str:
    """Return ``value`` as GOV.UK writes dates ("27 November 2026"), month name in the active language."""
    months = [
        _("January"), _("February"), _("March"), _("April"), _("May"), _("June"),
        _("July"), _("August"), _("September"), _("October"), _("November"), _("December"),
    ]  # fmt: skip
    return f"{value.day} {months[value.month - 1]} {value.year}"


def _common(request: HttpRequest, title: str) -> dict[str, Any]:
    language = translation.get_language() or settings.LANGUAGE_CODE
    return {
        "page_title": title,
        "organisation": conf.organisation(language),
        "site_name": conf.site_name(language),
        "site_url": settings.PUBLIC_BASE_URL,
    }


@require_GET
def accessibility_statement(request: HttpRequest) -> HttpResponse:
    """Render the accessibility statement (structure of the GOV.UK model statement)."""
    context = _common(request, _("Accessibility statement"))
    context |= {"prepared": long_date(STATEMENT_PREPARED), "reviewed": long_date(STATEMENT_REVIEWED)}
    return render(request, "web/pages/accessibility.html", context)


@require_GET
def privacy_notice(request: HttpRequest) -> HttpResponse:
    """Render the privacy notice: controller, data, lawful basis, retention, rights, processors, DPO."""
    context = _common(request, _("Privacy notice"))
    context["updated"] = long_date(PRIVACY_NOTICE_UPDATED)
    return render(request, "web/pages/privacy.html", context)


@require_GET
def cookies_page(request: HttpRequest) -> HttpResponse:
    """Render the cookies page: only essential cookies, listed from the settings that set them."""
    context = _common(request, _("Cookies"))
    context["cookie_rows"] = [
        [{"html": format_html("<code>{}</code>", cookie.name)}, {"text": cookie.purpose}, {"text": cookie.expires}]
        for cookie in essential_cookies()
    ]
    return render(request, "web/pages/cookies.html", context)


@require_GET
def help_page(request: HttpRequest) -> HttpResponse:
    """Render the help and contact page."""
    return render(request, "web/pages/help.html", _common(request, _("Help and contact")))

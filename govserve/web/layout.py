"""What the base layout shows around every page: language switch, navigation, session timeout.

``web/base.html`` calls :func:`page_layout` once per page (a Jinja2 global),
so each template needs only its own context. The page-level context names the
layout reads (the contract with the journey and casework templates):

- ``page_title`` (required) and ``errors`` (truthy: the title starts "Error: "),
- ``service_name`` / ``service_url``: the service the page belongs to,
- ``back_link``: a URL, or ``{"href": ..., "text": ...}``,
- ``has_draft``: the page belongs to a draft application, so the session
  timeout warning is shown even when nobody is signed in,
- ``staff_navigation``: navigation items (``govukServiceNavigation`` shape)
  for staff pages under ``/staff/`` instead of the default ones.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext, gettext_noop, ngettext

from govserve.accounts import selectors as account_selectors
from govserve.accounts.decorators import staff_session_valid
from govserve.accounts.middleware import seconds_left
from govserve.core.reversing import url_for
from govserve.web import conf

STAFF_PREFIX = "/staff/"
APPLICATIONS_URL = "/applications/"

# A number in each CLDR plural category (zero/one/two/few/many/other) that falls in the same
# gettext plural form, for every language govserve ships: English (one, other) and Welsh
# (0, 1, 2, 3, 6, other). The warning's script picks the category with Intl.PluralRules.
_PLURAL_SAMPLES = {"zero": 0, "one": 1, "two": 2, "few": 3, "many": 6, "other": 5}
# Whole sentences per language, not "... to %(language)s": Welsh mutates the name ("i'r Gymraeg").
_CHANGE_TO = {
    "en": gettext_noop("Change the language to English"),
    "cy": gettext_noop("Change the language to Welsh"),
}


@dataclasses.dataclass(frozen=True)
class LanguageLink:
    """One entry of the language switch."""

    code: str
    name: str
    href: str
    current: bool
    # Read by screen readers instead of the bare name: "Change the language to Welsh", in Welsh.
    change_text: str


@dataclasses.dataclass(frozen=True)
class SessionTimeout:
    """The idle timeout the warning counts down to, and its texts for the countdown."""

    # Seconds until the session ends if nothing else happens (at most the idle timeout).
    timeout_seconds: int
    warning_seconds: int
    # "minutes-one" -> "{n} minute", "seconds-other" -> "{n} seconds", ...: data attributes for the script.
    countdown_forms: dict[str, str]

    def warning_text(self) -> str:
        """Return the countdown as it reads when the warning opens ("2 minutes")."""
        return countdown_text(self.warning_seconds)


@dataclasses.dataclass(frozen=True)
class Layout:
    """Everything base.html needs that is not the page's own content."""

    language: str
    languages: list[LanguageLink]
    site_name: str
    staff_area: bool
    signed_in: bool
    navigation: list[dict[str, Any]]
    sign_in_url: str
    sign_out_url: str
    session_timeout: SessionTimeout | None
    session_extend_url: str
    session_ended_url: str


def local_path(candidate: str | None) -> str | None:
    """Return ``candidate`` if it is a path on this site ("/..."), else None.

    Refuse scheme-relative ("//evil.example"), backslash ("/\\evil.example")
    and control-character tricks, which browsers read as other hosts.
    """
    if not candidate or not candidate.startswith("/") or candidate.startswith(("//", "/\\")):
        return None
    if any(ord(character) < 0x20 or character == "\x7f" for character in candidate):
        return None
    return candidate


def language_switch_url(code: str, next_path: str) -> str:
    """Return the URL that switches to ``code`` and comes back to ``next_path``."""
    return f"{url_for('language_switch', code)}?{urlencode({'next': next_path})}"


def countdown_text(seconds: int) -> str:
    """Return ``seconds`` as the warning reads it: whole minutes from one minute up, else seconds."""
    if seconds >= 60:
        minutes = -(-seconds // 60)
        return ngettext("%(num)s minute", "%(num)s minutes", minutes) % {"num": minutes}
    return ngettext("%(num)s second", "%(num)s seconds", seconds) % {"num": seconds}


@functools.lru_cache(maxsize=8)
def _countdown_forms_in(language: str) -> dict[str, str]:
    with translation.override(language):
        return _countdown_forms()


def _countdown_forms() -> dict[str, str]:
    forms: dict[str, str] = {}
    for category, sample in _PLURAL_SAMPLES.items():
        forms[f"minutes-{category}"] = ngettext("%(num)s minute", "%(num)s minutes", sample) % {"num": "{n}"}
        forms[f"seconds-{category}"] = ngettext("%(num)s second", "%(num)s seconds", sample) % {"num": "{n}"}
    return forms


@functools.lru_cache(maxsize=8)
def _change_text(code: str, name: str) -> str:
    # Each link speaks its own language (it carries lang="<code>"), whatever the page's language.
    with translation.override(code):
        return gettext(_CHANGE_TO.get(code, name))


def _languages(current: str, next_path: str) -> list[LanguageLink]:
    names = dict(settings.LANGUAGES)
    links = []
    for code, name in names.items():
        change_text = _change_text(code, name)
        links.append(
            LanguageLink(
                code=code,
                name=name,
                href=language_switch_url(code, next_path),
                current=code == current,
                change_text=change_text,
            )
        )
    return links


def _citizen_navigation(request: HttpRequest, *, signed_in: bool) -> list[dict[str, Any]]:
    if not signed_in:
        return [
            {
                "href": f"{url_for('accounts:citizen_sign_in')}?{urlencode({'next': request.path})}",
                "text": gettext("Sign in"),
            }
        ]
    account = url_for("accounts:citizen_account")
    return [
        {
            "href": APPLICATIONS_URL,
            "text": gettext("Your applications"),
            "active": request.path.startswith(APPLICATIONS_URL),
        },
        {"href": account, "text": gettext("Your account"), "active": request.path.startswith(account)},
    ]


def _staff_navigation(request: HttpRequest, *, signed_in: bool) -> list[dict[str, Any]]:
    if not signed_in:
        return []
    home = url_for("accounts:staff_home")
    return [{"href": home, "text": gettext("Staff home"), "active": request.path == home}]


def _signed_in(request: HttpRequest, *, staff_area: bool) -> bool:
    # Error pages can be rendered for a request refused before the session or authentication
    # middleware ran (a bad Host header): such a request has nobody signed in.
    if not hasattr(request, "session"):
        return False
    if staff_area:
        return hasattr(request, "user") and staff_session_valid(request)
    return account_selectors.current_citizen(request) is not None


def page_layout(
    request: HttpRequest | None,
    *,
    has_draft: bool = False,
    staff_navigation: list[dict[str, Any]] | None = None,
) -> Layout:
    """Return the layout of the page answering ``request`` (None: a page rendered outside a request).

    Staff pages are the ones under ``/staff/``; they get staff navigation
    (``staff_navigation`` replaces the default items). The session timeout
    warning is on for signed-in people and for pages of a draft application.
    """
    language = translation.get_language() or settings.LANGUAGE_CODE
    path = request.get_full_path() if request is not None else "/"
    staff_area = request is not None and request.path.startswith(STAFF_PREFIX)
    signed_in = request is not None and _signed_in(request, staff_area=staff_area)
    if request is None:
        navigation: list[dict[str, Any]] = []
    elif staff_area:
        navigation = (
            staff_navigation if staff_navigation is not None else _staff_navigation(request, signed_in=signed_in)
        )
    else:
        navigation = _citizen_navigation(request, signed_in=signed_in)
    timeout = None
    if signed_in or has_draft:
        session = getattr(request, "session", None)
        timeout = SessionTimeout(
            # The session's own deadline: its last-seen time is stored at most once a minute.
            timeout_seconds=seconds_left(session) if session is not None else conf.idle_timeout_seconds(),
            warning_seconds=conf.session_warning_seconds(),
            countdown_forms=_countdown_forms_in(language),
        )
    ended_query = {"next": path, **({"signed_in": "1"} if signed_in else {})}
    return Layout(
        language=language,
        languages=_languages(language, path),
        site_name=conf.site_name(language),
        staff_area=staff_area,
        signed_in=signed_in,
        navigation=navigation,
        sign_in_url=url_for("accounts:staff_sign_in" if staff_area else "accounts:citizen_sign_in"),
        sign_out_url=url_for("accounts:staff_sign_out" if staff_area else "accounts:citizen_sign_out"),
        session_timeout=timeout,
        session_extend_url=url_for("session_extend"),
        session_ended_url=f"{url_for('session_ended')}?{urlencode(ended_query)}",
    )

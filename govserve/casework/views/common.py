"""What every casework page shares: the staff navigation, rendering, notices and error pages.

Views stay thin: parse the request, call one service or selector of
:mod:`govserve.casework`, render. Typed errors become pages: not found (and
"not yours": the same error) is the ordinary 404 page, never a hint that a
file exists; a conflict (someone else claimed or decided first, a stale form)
is a page that says what happened and where to go next, with status 409.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from govserve.accounts.models import User
from govserve.accounts.views import safe_next
from govserve.core.errors import ApplicationError, NotFoundError
from govserve.journeys.fields import FieldError
from govserve.journeys.fields.formats import format_date

LOCAL_ZONE = ZoneInfo("Europe/London")


@dataclass(frozen=True)
class Notice:
    """A banner at the top of the next page: a success, or something the person must know."""

    text: str
    success: bool


def staff_user(request: HttpRequest) -> User:
    """Return the signed-in staff member (the views are guarded by ``staff_required``)."""
    user = request.user
    if not isinstance(user, User):  # pragma: no cover - staff_required guarantees it
        raise Http404
    return user


def language_of(request: HttpRequest) -> str:
    """Return the language of the page: "cy" or "en"."""
    language = translation.get_language() or "en"
    return "cy" if language.startswith("cy") else "en"


def date_text(value: dt.date | dt.datetime | None, language: str = "en") -> str:
    """Return a date (or a time's local date) as people read it: ``27 March 2026``."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.astimezone(LOCAL_ZONE).date()
    return format_date(value, language)


def time_text(value: dt.datetime | None, language: str = "en") -> str:
    """Return a moment as people read it: ``27 March 2026 at 2:05pm``."""
    if value is None:
        return ""
    local = value.astimezone(LOCAL_ZONE)
    clock = local.strftime("%I:%M").lstrip("0") + ("am" if local.hour < 12 else "pm")
    return _("%(date)s at %(time)s") % {"date": format_date(local.date(), language), "time": clock}


def person_name(user: Any) -> str:
    """Return a staff member's name for colleagues: full name, else username."""
    if user is None:
        return ""
    full = f"{getattr(user, 'first_name', '')} {getattr(user, 'last_name', '')}".strip()
    return full or str(user.get_username())


def staff_navigation(request: HttpRequest) -> list[dict[str, Any]]:
    """Return the service navigation of the casework pages (``govukServiceNavigation`` items)."""
    items = [
        ("casework:queue", _("Queues")),
        ("casework:my_tasks", _("My tasks")),
        ("casework:team", _("Team")),
        ("casework:search", _("Search")),
        ("casework:assisted_start", _("Apply for someone")),
    ]
    navigation = []
    for name, text in items:
        href = reverse(name)
        navigation.append({"href": href, "text": text, "active": request.path.startswith(href)})
    return navigation


def notices_take(request: HttpRequest) -> list[Notice]:
    """Return (and consume) the notices queued for this person by earlier requests."""
    return [
        Notice(text=str(message), success=message.level == messages.SUCCESS)
        for message in messages.get_messages(request)
    ]


def notice_success(request: HttpRequest, text: str) -> None:
    """Queue a success banner for the next page."""
    messages.success(request, text)


def notice_important(request: HttpRequest, text: str) -> None:
    """Queue an "Important" banner for the next page."""
    messages.warning(request, text)


def staff_page(
    request: HttpRequest,
    template: str,
    *,
    title: str,
    status: int = 200,
    field_errors: Mapping[str, str] | None = None,
    summary: Iterable[Mapping[str, str]] = (),
    **context: Any,
) -> HttpResponse:
    """Render a casework page: staff navigation, who is signed in, notices, errors ("Error: " title)."""
    errors = [dict(item) for item in summary]
    fields = dict(field_errors or {})
    if not errors:
        errors = [{"text": message, "href": f"#{field}"} for field, message in fields.items()]
    context["page_title"] = title
    context["errors"] = errors
    context["field_errors"] = fields
    context["staff_navigation"] = staff_navigation(request)
    context["signed_in_as"] = person_name(request.user)
    context.setdefault("notices", notices_take(request))
    context.setdefault("language", language_of(request))
    context.setdefault("form_values", {})
    if errors and status == 200:
        status = 400
    response = render(request, template, context, status=status)
    response["Cache-Control"] = "no-store, private"
    return response


def field_error_map(found: Iterable[FieldError]) -> dict[str, str]:
    """Return ``{anchor: message}`` of journeys field errors, first message per anchor."""
    result: dict[str, str] = {}
    for error in found:
        result.setdefault(error.anchor, error.message)
    return result


def problem_page(
    request: HttpRequest, error: ApplicationError, *, back_href: str = "", back_text: str = ""
) -> HttpResponse:
    """Answer a refused action (conflict, not allowed) with a page that says why and where to go next.

    A not-found error is the ordinary 404 page (raised as Http404), whatever the cause.
    """
    if isinstance(error, NotFoundError):
        raise Http404(error.message)
    return staff_page(
        request,
        "casework/problem.html",
        title=_problem_title(error),
        status=error.status,
        message=error.message,
        back_href=back_href or reverse("casework:my_tasks"),
        back_text=back_text or _("Go to your tasks"),
    )


_TITLES = {
    "task_already_claimed": gettext_noop("Someone else has already claimed this task"),
    "task_closed": gettext_noop("This task has already been decided"),
    "task_changed": gettext_noop("This task has changed since you opened it"),
    "claiming_disabled": gettext_noop("Tasks of this service are assigned, not claimed"),
    "file_not_open": gettext_noop("This application is not waiting for a decision"),
    "not_assignee": gettext_noop("This task is not assigned to you"),
    "not_team_leader": gettext_noop("Only a team leader can do this"),
}


def _problem_title(error: ApplicationError) -> str:
    title = _TITLES.get(error.code)
    return _(title) if title else _("You cannot do that")


def redirect_next(request: HttpRequest, default: str) -> HttpResponseRedirect:
    """Redirect to the form's ``next`` (a path on this site) or ``default``."""
    return HttpResponseRedirect(safe_next(request, default=default))


def uuid_or_none(raw: str | None) -> uuid.UUID | None:
    """Return ``raw`` as a UUID, or None for anything else (a tampered form value)."""
    try:
        return uuid.UUID(str(raw))
    except (TypeError, ValueError):
        return None


def query_with(request: HttpRequest, **changes: Any) -> str:
    """Return the current path with its query string changed (pagination links keep the filters)."""
    query = request.GET.copy()
    for key, value in changes.items():
        query[key] = str(value)
    return f"{request.path}?{urlencode(list(query.lists()), doseq=True)}"

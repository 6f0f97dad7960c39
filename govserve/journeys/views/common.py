"""What every journey view shares: the applicant, the application behind a URL, rendering, errors."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation

from govserve.core.reversing import url_for
from govserve.journeys import errors, selectors
from govserve.journeys.access import Applicant, applicant_from_request
from govserve.journeys.fields import FieldError
from govserve.journeys.fields.formats import format_date
from govserve.journeys.models import Application

RETURN_TO_CHECK = "check"
LOCAL_ZONE = ZoneInfo("Europe/London")


def long_date(value: dt.date | dt.datetime | None, language: str = "en") -> str:
    """Return a date (or the local date of a time) for people: ``27 March 2026`` (``27 Mawrth 2026``)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.astimezone(LOCAL_ZONE).date()
    return format_date(value, language)


def language_of(request: HttpRequest) -> str:
    """Return the language to show (the active translation: English or Welsh)."""
    language = translation.get_language() or "en"
    return "cy" if language.startswith("cy") else "en"


def applicant_of(request: HttpRequest) -> Applicant:
    """Return who is asking (the signed-in citizen and the applications this session opened)."""
    cached: Applicant | None = getattr(request, "_journeys_applicant", None)
    if cached is None:
        cached = applicant_from_request(request)
        request._journeys_applicant = cached  # type: ignore[attr-defined]
    return cached


class AccessNeeded(Exception):  # noqa: N818 - a control-flow signal, turned into a page by the views
    """Nobody is signed in and this session was not given the application: explain how to get back in."""


def application_or_404(request: HttpRequest, application_id: uuid.UUID) -> Application:
    """Return the application behind the URL if the requester may act on it.

    Raise AccessNeeded when nobody is signed in and the session holds no
    grant (the session ended: sign in again or follow the emailed link), and
    Http404 otherwise (the same for a missing and someone else's application).
    """
    applicant = applicant_of(request)
    try:
        return selectors.application_for_applicant(applicant=applicant, application_id=application_id)
    except errors.ApplicationNotFoundError:
        raise _refusal(applicant) from None


def application_and_answers_or_404(
    request: HttpRequest, application_id: uuid.UUID
) -> tuple[Application, dict[str, bytes]]:
    """Return the application behind the URL and its sealed answers, read at once, if the requester may act on it.

    Refuse as :func:`application_or_404` does. The answers are as they were
    when read (``selectors.application_and_answers_for_applicant``).
    """
    applicant = applicant_of(request)
    try:
        return selectors.application_and_answers_for_applicant(applicant=applicant, application_id=application_id)
    except errors.ApplicationNotFoundError:
        raise _refusal(applicant) from None


def _refusal(applicant: Applicant) -> Exception:
    if applicant.citizen is None and not applicant.granted:
        return AccessNeeded()
    return Http404("There is no application at this address")


def page(
    request: HttpRequest,
    template: str,
    *,
    title: str,
    status: int = 200,
    field_errors: Iterable[FieldError] = (),
    summary_errors: Iterable[Mapping[str, str]] = (),
    **context: Any,
) -> HttpResponse:
    """Render a journey page: ``page_title`` and ``errors`` drive the "Error: " title and the error summary."""
    field_list = list(field_errors)
    summary = [{"text": error.message, "href": f"#{error.anchor}"} for error in field_list]
    summary += [dict(item) for item in summary_errors]
    context["page_title"] = title
    context["errors"] = summary
    context["field_errors"] = field_list
    context.setdefault("language", language_of(request))
    context.setdefault("long_date", long_date)
    # The base layout's contract (govserve/web/layout.py): back_link, has_draft (the timeout warning).
    back_url = context.pop("back_url", None)
    if back_url:
        context["back_link"] = back_url
    application = context.get("application")
    context.setdefault("has_draft", isinstance(application, Application) and application.is_draft)
    if isinstance(application, Application) and "service_name" not in context:
        # Every page of an application names its service in the header (delete, withdraw, expired too).
        title = selectors.compiled_for(application).definition.title.get(context["language"])
        context["service_name"] = title
        context["service_url"] = url_for("journeys:service_start", application.service_id)
    if summary and status == 200:
        status = 400
    response = render(request, template, context, status=status)
    response["Cache-Control"] = "no-store, private"
    return response


def access_needed(request: HttpRequest) -> HttpResponse:
    """Answer a request for an application by someone who is not (or no longer) known to have it."""
    return page(request, "journeys/access_needed.html", title=translation.gettext("Sign in to continue"), status=403)


def safe_return(request: HttpRequest) -> str:
    """Return ``check`` when the applicant came from check your answers (the only return target)."""
    value = request.GET.get("return") or request.POST.get("return") or ""
    return RETURN_TO_CHECK if value == RETURN_TO_CHECK else ""

"""Support for the layout tests: pages rendered from a template string, signed-in citizens and staff.

The URLconf here serves ``/test/layout`` and ``/staff/test/layout``: a page
extending ``web/base.html`` whose context comes from the query string, so each
test states exactly what the page sets (``errors``, ``back_link``, ...; the
header ``X-Test-Layout: reference`` renders it on the macros' layout of the
parity test); and
``/test/sign-in?next=...``, which signs a new citizen in on the browser's own
session (the browser tests: the session starts when the page is first seen).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template import engines
from django.test import Client
from django.urls import path

from config import urls as site_urls
from govserve.accounts import citizens
from govserve.accounts.models import Citizen

PAGE = """{% extends "web/base.html" %}
{% block content %}<h1 class="govuk-heading-l">{{ page_title }}</h1>
{% include "web/_session_timeout_notice.html" %}{% endblock %}"""
# The same page on the layout as govuk-frontend-jinja's macros render it (test_layout_parity.py).
REFERENCE_PAGE = PAGE.replace("web/base.html", "reference/base_macros.html")


def layout_page(request: HttpRequest) -> HttpResponse:
    """Render PAGE with the context the query string asks for."""
    query = request.GET
    context: dict[str, Any] = {"page_title": query.get("title", "Test page")}
    if "errors" in query:
        context["errors"] = [{"text": "Enter your name", "href": "#name"}]
    if "back" in query:
        context["back_link"] = query["back"]
    if "back_text" in query:
        context["back_link"] = {"href": query.get("back", "/"), "text": query["back_text"]}
    if "service" in query:
        context["service_name"] = query["service"]
        context["service_url"] = "/services/street-trading/"
    if "draft" in query:
        context["has_draft"] = True
    if "staff_nav" in query:
        context["staff_navigation"] = [
            {"href": "/staff/queues/", "text": "Work queues", "active": True},
            {"href": "/staff/tasks/", "text": "My <tasks>"},
            {"href": "/staff/search/", "text": "Search", "current": True},
            {"text": "Not a link"},
        ][: int(query["staff_nav"] or 1)]
    if "account" in query:
        # what accounts/citizen_base.html and staff_base.html pass: they bring their own navigation
        context["citizen_signed_in"] = query["account"] == "1"
    reference = request.headers.get("X-Test-Layout") == "reference"
    template = engines["jinja2"].from_string(REFERENCE_PAGE if reference else PAGE)
    return HttpResponse(template.render(context, request))


def sign_in_here(request: HttpRequest) -> HttpResponse:
    """Sign a new citizen in on this browser's session and go to ``next`` (the browser tests)."""
    citizen = citizens.citizen_create(email=f"citizen-{uuid.uuid4().hex[:12]}@example.org")
    citizens.citizen_session_begin(request=request, citizen=citizen, method="link")
    return HttpResponseRedirect(request.GET.get("next", "/"))


urlpatterns = [
    path("test/sign-in", sign_in_here),
    path("test/layout", layout_page),
    path("staff/test/layout", layout_page),
    *site_urls.urlpatterns,
]

handler400 = site_urls.handler400
handler403 = site_urls.handler403
handler404 = site_urls.handler404
handler500 = site_urls.handler500


def sign_in_citizen(client: Client, email: str = "ada.lovelace@example.org") -> Citizen:
    """Create a citizen and sign them in on ``client`` (the session the emailed link would open)."""
    citizen = citizens.citizen_create(email=email)
    request = HttpRequest()
    request.session = client.session
    citizens.citizen_session_begin(request=request, citizen=citizen, method="link")
    request.session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = request.session.session_key or ""
    return citizen

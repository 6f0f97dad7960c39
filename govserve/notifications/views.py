"""The demo-only mail page: emails shown instead of sent, so demo users can follow their links."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from govserve.core.errors import NotFoundError
from govserve.notifications.selectors import demo_mail_list


@require_GET
def demo_mail(request: HttpRequest) -> HttpResponse:
    """Render the recent emails with the demo banner; 404 unless ``settings.GOVSERVE_DEMO``."""
    try:
        emails = demo_mail_list()
    except NotFoundError as error:
        raise Http404(error.message) from None
    response = render(request, "notifications/demo_mail.html", {"emails": emails})
    # Sign-in links are credentials: never keep this page in any cache.
    response["Cache-Control"] = "no-store"
    return response

"""The site's URLs plus views that fail on purpose, for the error-page and rate-limit tests."""

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.http import require_http_methods

from config import urls as site_urls
from govserve.core.errors import ApplicationError
from govserve.web.ratelimit import client_ip_bucket, rate_limited


def boom(request: HttpRequest) -> HttpResponse:
    msg = "a bug: secret detail that must not reach the page"
    raise RuntimeError(msg)


def forbidden(request: HttpRequest) -> HttpResponse:
    msg = "secret reason"
    raise PermissionDenied(msg)


@require_http_methods(["GET", "POST"])
@rate_limited(key=lambda request: f"test-form:ip:{client_ip_bucket(request)}", limit=3, window=60)
def limited_form(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"ok {request.method}")


def other_429(request: HttpRequest) -> HttpResponse:
    msg = "Another app's limit."
    raise ApplicationError(msg, code="other_limit", status=429, retry_after=30)


urlpatterns = [
    path("test/boom", boom),
    path("api/v1/test/boom", boom),
    path("test/forbidden", forbidden),
    path("test/limited", limited_form),
    path("test/other-429", other_429),
    *site_urls.urlpatterns,
]

handler400 = site_urls.handler400
handler403 = site_urls.handler403
handler404 = site_urls.handler404
handler500 = site_urls.handler500

"""WSGI entry point of ``govserve serve --govstack`` (gunicorn config.wsgi_govstack): GovStack at ``/``.

The same Django application and settings as config.wsgi; each request is
routed by config.urls_govstack instead of config.urls (Django's per-request
``urlconf``), so the GovStack API answers at the root of its own port.
"""

import os

from django.core.handlers.wsgi import WSGIHandler, WSGIRequest
from django.http import HttpResponseBase

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

import django

django.setup(set_prefix=False)

URLCONF = "config.urls_govstack"


class GovStackHandler(WSGIHandler):
    """Django's WSGI handler, routing by :data:`URLCONF`."""

    def get_response(self, request: WSGIRequest) -> HttpResponseBase:  # type: ignore[override]
        request.urlconf = URLCONF
        return super().get_response(request)


application = GovStackHandler()

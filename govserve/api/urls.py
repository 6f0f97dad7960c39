"""URLs of the JSON API: version 1 under /api/v1/."""

from django.urls import path

from govserve.api.v1.api import api

urlpatterns = [
    path("api/v1/", api.urls),
]

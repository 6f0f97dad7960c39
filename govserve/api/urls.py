"""URLs of the JSON API: version 1 under /api/v1/, the GovStack Registration BB API under /govstack/."""

from django.urls import include, path

from govserve.api.v1.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("govstack/", include("govserve.api.govstack.urls")),
]

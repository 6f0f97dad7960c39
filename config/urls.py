"""URL layout (see ARCHITECTURE.md): citizen pages at /, staff under /staff/,
the JSON API under /api/v1/, GovStack under /govstack/, /verify/<code>,
/healthz and /readyz."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("staff/admin/", admin.site.urls),
    path("", include("govserve.web.urls")),
]

"""URL layout (see ARCHITECTURE.md): citizen pages at /, staff under /staff/,
the JSON API under /api/v1/, GovStack under /govstack/, /verify/<code>,
/healthz and /readyz."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("staff/admin/", admin.site.urls),
    path("", include("govserve.api.urls")),
    path("", include("govserve.accounts.urls")),
    path("staff/", include("govserve.casework.urls")),
    path("", include("govserve.notifications.urls")),
    path("", include("govserve.documents.urls")),
    path("", include("govserve.privacy.urls")),
    path("", include("govserve.journeys.urls")),
    path("", include("govserve.casework.results.urls")),
    path("", include("govserve.payments.urls")),
    path("", include("govserve.web.urls")),
]

handler400 = "govserve.web.errors.bad_request"
handler403 = "govserve.web.errors.permission_denied"
handler404 = "govserve.web.errors.page_not_found"
handler500 = "govserve.web.errors.server_error"

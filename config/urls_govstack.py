"""URL layout of ``govserve serve --govstack``: the GovStack Registration BB API at ``/`` on its own port.

Only the GovStack routes and the load balancers' /healthz and /readyz are
served; anything else is a JSON 404 (GovStack conformance runs call the
API's paths at the root of the address they are given).
"""

from django.urls import include, path

from govserve.web import views as web_views

urlpatterns = [
    path("healthz", web_views.healthz, name="healthz"),
    path("readyz", web_views.readyz, name="readyz"),
    path("", include("govserve.api.govstack.urls")),
]

handler404 = "govserve.api.govstack.views.not_found"

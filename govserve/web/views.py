"""Pages and endpoints that belong to no single domain."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from govserve.web.health import readiness


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Render the landing page."""
    return render(request, "web/home.html")


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Answer 200 while the process is alive; touches nothing else."""
    return JsonResponse({"status": "ok"})


@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Answer 200 when the database is reachable and migrated, else 503 with the reason."""
    ready, checks = readiness()
    return JsonResponse({"status": "ready" if ready else "not ready", "checks": checks}, status=200 if ready else 503)

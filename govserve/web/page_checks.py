"""Deployment checks for the shared pages (``govserve check --deploy``).

- govserve.pages.W001: ``GOVSERVE_ORGANISATION_NAME`` is empty: the privacy notice and the
  accessibility statement name no organisation (no data controller).
- govserve.pages.W002: ``GOVSERVE_CONTACT_EMAIL`` or ``GOVSERVE_DPO_EMAIL`` is empty or still a
  development address (``*.localhost``): people could not reach the service or its data
  protection officer.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register

_HINT = "Set it in the environment; see docs/citizen-layout.md."


def _is_placeholder(address: str) -> bool:
    local, at, domain = address.strip().rpartition("@")
    domain = domain.lower()
    return not (local and at and domain) or domain == "localhost" or domain.endswith(".localhost")


@register(Tags.security, deploy=True)
def check_shared_page_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Warn when the shared pages would show no organisation or a development contact address."""
    messages: list[CheckMessage] = []
    if not str(getattr(settings, "GOVSERVE_ORGANISATION_NAME", "") or "").strip():
        messages.append(
            Warning(
                "GOVSERVE_ORGANISATION_NAME is empty: the privacy notice names no data controller.",
                hint=_HINT,
                id="govserve.pages.W001",
            )
        )
    for name in ("GOVSERVE_CONTACT_EMAIL", "GOVSERVE_DPO_EMAIL"):
        if _is_placeholder(str(getattr(settings, name, "") or "")):
            messages.append(Warning(f"{name} is empty or a development address.", hint=_HINT, id="govserve.pages.W002"))
    return messages

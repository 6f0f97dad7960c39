"""System checks for uploads and malware scanning.

Always (``govserve check``):

- documents.E001: ``GOVSERVE_SCANNER`` names no scanner (see govserve.documents.scanning.base).
- documents.E002: ``GOVSERVE_UPLOAD_MAX_BYTES`` is not a positive number of bytes.

With ``--deploy`` (production):

- documents.W001: the scanner is the built-in test scanner — "test scanner,
  not malware protection": it detects the EICAR test string and nothing else.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured

from govserve.documents.scanning.base import TEST_SCANNER_LABEL, scanner_from_url


@register(Tags.security)
def check_upload_configuration(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Refuse a scanner URL that names no scanner and a non-positive upload ceiling."""
    messages: list[CheckMessage] = []
    try:
        scanner_from_url(str(getattr(settings, "GOVSERVE_SCANNER", "test")))
    except ImproperlyConfigured as error:
        messages.append(Error(str(error), id="documents.E001"))
    ceiling = getattr(settings, "GOVSERVE_UPLOAD_MAX_BYTES", 1)
    if not isinstance(ceiling, int) or ceiling <= 0:
        messages.append(
            Error(
                f"GOVSERVE_UPLOAD_MAX_BYTES must be a positive number of bytes, not {ceiling!r}",
                hint="The default is 26214400 (25 MB); keep it at or under clamd's StreamMaxLength.",
                id="documents.E002",
            )
        )
    return messages


@register(Tags.security, deploy=True)
def check_scanner_for_production(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Warn when production would run with the built-in test scanner."""
    try:
        scanner = scanner_from_url(str(getattr(settings, "GOVSERVE_SCANNER", "test")))
    except ImproperlyConfigured:
        return []  # documents.E001 says so already
    if not scanner.is_test:
        return []
    return [
        Warning(
            f"GOVSERVE_SCANNER is the built-in {TEST_SCANNER_LABEL}: uploads are checked for the EICAR test "
            "string only.",
            hint="Run ClamAV's clamd and set GOVSERVE_SCANNER=clamd://HOST:3310 or unix:///run/clamav/clamd.ctl.",
            id="documents.W001",
        )
    ]

"""System checks for the result signing keys (``govserve check``, ``govserve check --deploy``).

- casework_results.E001: GOVSERVE_RESULT_SIGNING_KEYS / GOVSERVE_RESULT_VERIFY_KEYS are malformed
  (always) or there is no signing key (``--deploy``).
- casework_results.E002: a signing key is the public development key (``--deploy``): anyone could
  forge results with it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register
from django.core.exceptions import ImproperlyConfigured

from govserve.casework.results.signing import (
    DEVELOPMENT_SEED,
    SIGNING_SETTING,
    VERIFY_SETTING,
    parse_signing_keys,
)

_HINT = (
    f"Set {SIGNING_SETTING} to 'id:<base64 of 32 random bytes>' entries, the signing key first: "
    "`govserve results keys generate ID` (docs/results.md)."
)


def _is_empty(value: object) -> bool:
    return value is None or (isinstance(value, list | tuple | str) and not value)


@register(Tags.security)
def check_result_keys(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Refuse malformed result keys (an empty list is refused by the deployment check only)."""
    signing = getattr(settings, SIGNING_SETTING, None)
    if _is_empty(signing):
        return []
    try:
        parse_signing_keys(signing, getattr(settings, VERIFY_SETTING, None))
    except ImproperlyConfigured as error:
        return [Error(str(error), hint=_HINT, id="casework_results.E001")]
    return []


@register(Tags.security, deploy=True)
def check_result_keys_for_production(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Refuse a deployment without a signing key or with the public development key."""
    signing = getattr(settings, SIGNING_SETTING, None)
    if _is_empty(signing):
        return [Error(f"{SIGNING_SETTING} is empty: results cannot be issued", hint=_HINT, id="casework_results.E001")]
    try:
        ring = parse_signing_keys(signing, getattr(settings, VERIFY_SETTING, None))
    except ImproperlyConfigured:
        return []  # reported by check_result_keys
    development = [key.id for key in ring.by_id.values() if key.private_raw == DEVELOPMENT_SEED]
    if development:
        return [
            Error(
                f"{SIGNING_SETTING} holds the public development key (id {', '.join(development)}): "
                "anyone can forge results with it",
                hint=_HINT + " Codes it signed stop verifying once it is removed.",
                id="casework_results.E002",
            )
        ]
    return []

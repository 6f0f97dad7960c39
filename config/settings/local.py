"""Development and demo settings: safe defaults for one machine on loopback."""

import os

from config.settings.base import *  # noqa: F403
from config.settings.base import (
    GOVSERVE_BLIND_INDEX_KEY,
    GOVSERVE_KEYS,
    GOVSERVE_RESULT_SIGNING_KEYS,
    SECRET_KEY,
    VAR_DIR,
)

# A development secret derived from nothing secret: never used in production,
# where `govserve check --deploy` refuses it.
SECRET_KEY = SECRET_KEY or "govserve-development-only-secret-key-not-for-production-use"
# Demo key-encryption and blind-index keys: fixed, public, development only.
GOVSERVE_KEYS = GOVSERVE_KEYS or ["dev1:ZGV2ZWxvcG1lbnQta2V5LWVuY3J5cHRpb24ta2V5LTE="]
GOVSERVE_BLIND_INDEX_KEY = GOVSERVE_BLIND_INDEX_KEY or "ZGV2ZWxvcG1lbnQtYmxpbmQtaW5kZXgta2V5LTEyMzQ="
# Demo result signing key (Ed25519): fixed, public; `govserve check --deploy` refuses it.
GOVSERVE_RESULT_SIGNING_KEYS = GOVSERVE_RESULT_SIGNING_KEYS or [
    "dev-results-1:ZGV2ZWxvcG1lbnQtcmVzdWx0LXNpZ25pbmcta2V5LTE="
]
GOVSERVE_DEMO = os.environ.get("GOVSERVE_DEMO", "1") == "1"

VAR_DIR.mkdir(parents=True, exist_ok=True)

from govserve.core.logging import configure_logging  # noqa: E402

configure_logging(level=os.environ.get("LOG_LEVEL", "INFO"), json_output=os.environ.get("LOG_FORMAT", "json") == "json")

# Serve static files straight from the apps and the GOV.UK build (no collectstatic step).
WHITENOISE_USE_FINDERS = True
STATIC_ROOT = None  # type: ignore[assignment]

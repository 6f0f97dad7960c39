"""Production settings: nothing defaults to an unsafe value.

`govserve check --deploy` refuses a start with a missing or weak secret,
missing encryption keys, DEBUG on, or cookies without Secure over HTTPS.
"""

import os

from config.settings.base import *  # noqa: F403

GOVSERVE_DEMO = False

from govserve.core.logging import configure_logging  # noqa: E402

configure_logging(level=os.environ.get("LOG_LEVEL", "INFO"), json_output=True)

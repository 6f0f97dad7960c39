"""Test settings: the local settings with a fast password hasher and no demo mail page."""

from config.settings.local import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
GOVSERVE_DEMO = False
AXES_ENABLED = True
# Page views written at once: none is held past its test (into another test's transaction,
# or flushed at exit after the PostgreSQL test database is gone). Tests of the buffer set it.
GOVSERVE_JOURNEY_PAGE_VIEW_BUFFER = 0

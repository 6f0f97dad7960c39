"""Test settings: the local settings with a fast password hasher and no demo mail page."""

from config.settings.local import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
GOVSERVE_DEMO = False
AXES_ENABLED = True

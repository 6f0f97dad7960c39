"""Root test configuration: hypothesis profiles (``ci`` bounds the examples)."""

import os
import sys
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _forget_the_active_language() -> Iterator[None]:
    """Go back to the default language after each test: LocaleMiddleware leaves a request's on the thread."""
    yield
    from django.utils import translation  # noqa: PLC0415 - only once Django is set up

    translation.deactivate()


@pytest.fixture(autouse=True)
def _forget_cached_data_keys() -> Iterator[None]:
    """Forget the data keys the encryption kernel cached during a test: test transactions roll back."""
    yield
    crypto = sys.modules.get("govserve.privacy.crypto")  # never imported: nothing cached
    if crypto is not None:
        crypto.data_key_cache_clear()

"""Fixtures of payments' tests: the journey's file store and scanner, the examples published, the sandbox."""

from __future__ import annotations

from typing import Any

import pytest

from govserve.journeys.tests.conftest import _fresh_compiled_cache, client, media_root  # noqa: F401 - reused
from govserve.journeys.tests.support import examples_publish


@pytest.fixture
def examples(db: None) -> None:
    """Publish the example catalogues and the three example services (version 1 of each)."""
    examples_publish()


@pytest.fixture(autouse=True)
def _sandbox(settings: Any) -> None:
    settings.PAYMENT_URL = "sandbox://"
    settings.PUBLIC_BASE_URL = "http://testserver"

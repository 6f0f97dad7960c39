"""Fixtures of the casework engine tests: the journey's file store and scanner, the examples published."""

from __future__ import annotations

import pytest

from govserve.journeys.tests.conftest import _fresh_compiled_cache, media_root  # noqa: F401 - fixtures reused
from govserve.journeys.tests.support import examples_publish


@pytest.fixture
def examples(db: None) -> None:
    """Publish the example catalogues and the three example services (version 1 of each)."""
    examples_publish()

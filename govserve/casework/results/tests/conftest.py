"""Fixtures of the results tests: a private file store, the examples published, approved applications."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from govserve.catalogue.selectors import compiled_cache_clear
from govserve.journeys.tests.support import examples_publish


@pytest.fixture(autouse=True)
def media_root(tmp_path: Path, settings: Any) -> Path:
    """Point the file store at a fresh directory and use the built-in test scanner."""
    root = tmp_path / "media"
    root.mkdir()
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(root)}},
    }
    settings.GOVSERVE_SCANNER = "test"
    settings.PUBLIC_BASE_URL = "https://services.example.gov.uk"
    return root


@pytest.fixture(autouse=True)
def _fresh_compiled_cache() -> None:
    compiled_cache_clear()


@pytest.fixture
def examples(db: None) -> None:
    """Publish the example catalogues and services (version 1 of each)."""
    examples_publish()

"""Fixtures of the journey tests: a private file store, the test scanner, the examples published."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from govserve.catalogue.selectors import compiled_cache_clear
from govserve.journeys.tests.support import Browser, examples_publish


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
    return root


@pytest.fixture(autouse=True)
def _fresh_compiled_cache() -> None:
    # Version numbers restart in every test database: a cached v1 of another test must not be served.
    compiled_cache_clear()


@pytest.fixture
def client() -> Browser:
    """A client that enforces CSRF and posts each form with the token its page rendered (support.Browser)."""
    return Browser()


@pytest.fixture
def examples(db: None) -> None:
    """Publish the example catalogues and the three example services (version 1 of each)."""
    examples_publish()


def jpeg_upload(name: str = "me.jpg") -> SimpleUploadedFile:
    """Return a small, valid JPEG upload."""
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 120, 40)).save(buffer, format="JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def pdf_upload(name: str = "insurance.pdf", text: str = "Insurance certificate 5 million") -> SimpleUploadedFile:
    """Return a small, valid PDF upload."""
    from govserve.documents.tests.samples import pdf_document  # noqa: PLC0415 - test data of another app

    return SimpleUploadedFile(name, pdf_document(text), content_type="application/pdf")

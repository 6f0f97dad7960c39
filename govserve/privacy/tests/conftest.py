"""Fixtures of the encryption kernel's tests: key-encryption keys and a clean data key cache."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from govserve.privacy.crypto import data_key_cache_clear


@pytest.fixture(autouse=True)
def _clean_data_key_cache() -> Iterator[None]:
    # Test transactions roll back: a key cached by one test must not outlive it.
    data_key_cache_clear()
    yield
    data_key_cache_clear()
